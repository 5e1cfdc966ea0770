app_name = "duty"

urlpatterns = []
