from django.urls import path  # noqa: F401

from . import views  # noqa: F401
from .mock_urls import urlpatterns as mock_urlpatterns

app_name = "reports"

# Dashboards and rankings here; the mock evaluation's pages in mock_urls.py.
urlpatterns: list = [
    *mock_urlpatterns,
]
