from django.contrib import admin
from django.urls import include, path

from chuangwen.api.api import api

urlpatterns = [
    path("", include("chuangwen.core.urls")),
    path("accounts/", include("chuangwen.accounts.urls")),
    path("org/", include("chuangwen.org.urls")),
    path("index/", include("chuangwen.index.urls")),
    path("duty/", include("chuangwen.duty.urls")),
    path("campaigns/", include("chuangwen.campaigns.urls")),
    path("inspections/", include("chuangwen.inspections.urls")),
    path("ledger/", include("chuangwen.ledger.urls")),
    path("reports/", include("chuangwen.reports.urls")),
    path("bulletins/", include("chuangwen.bulletins.urls")),
    path("accountability/", include("chuangwen.accountability.urls")),
    path("notify/", include("chuangwen.notify.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]

handler403 = "chuangwen.core.views.error_403"
handler404 = "chuangwen.core.views.error_404"
handler500 = "chuangwen.core.views.error_500"
