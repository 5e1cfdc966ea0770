from django.urls import path

from . import views

app_name = "ledger"

urlpatterns = [
    path("", views.problem_list, name="list"),
    path("export.xlsx", views.export, name="export"),
    path("bulk/", views.bulk, name="bulk"),
    path("new/", views.create, name="create"),
    path("settings/", views.settings_edit, name="settings"),
    path("<int:problem_id>/", views.detail, name="detail"),
    path("<int:problem_id>/move/<slug:code>/", views.move, name="move"),
    path("<int:problem_id>/photo/", views.photo, name="photo"),
    path("<int:problem_id>/correct/", views.correct, name="correct"),
    path("milestones/<int:milestone_id>/done/", views.milestone_done, name="milestone_done"),
]
