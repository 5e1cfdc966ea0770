"""URLs of the mock evaluation (模拟测评) pages, included by reports/urls.py (namespace "reports")."""

from django.urls import path

from . import mock_views

urlpatterns: list = [
    path("mock/", mock_views.mock_draw, name="mock_draw"),
    path("mock/round/", mock_views.mock_round, name="mock_round"),
]
