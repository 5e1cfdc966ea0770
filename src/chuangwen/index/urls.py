from django.urls import include, path

app_name = "index"

urlpatterns = [
    path("", include("chuangwen.index.urls_pages")),
    path("import/", include("chuangwen.index.urls_import")),
]
