from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("", views.round_list, name="round_list"),
    path("new/", views.campaign_create, name="campaign_create"),
    path("<int:campaign_id>/rounds/new/", views.round_create, name="round_create"),
    path("rounds/<int:round_id>/", views.round_detail, name="round_detail"),
    path("rounds/<int:round_id>/inspectors/", views.round_inspectors, name="round_inspectors"),
    path("rounds/<int:round_id>/transition/", views.round_transition, name="round_transition"),
    path("rounds/<int:round_id>/follow-up/", views.round_follow_up, name="round_follow_up"),
]
