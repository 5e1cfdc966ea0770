from django.urls import path

from . import views
from .mock_urls import urlpatterns as mock_urlpatterns

app_name = "reports"

# Dashboards and rankings here; the mock evaluation's pages in mock_urls.py.
urlpatterns: list = [
    path("", views.city, name="city"),
    path("screen/", views.screen, name="screen"),
    path("schools/<int:school_id>/", views.school, name="school"),
    path("rankings/", views.ranking_list, name="rankings"),
    path("rankings.xlsx", views.ranking_export, name="rankings_export"),
    *mock_urlpatterns,
]
