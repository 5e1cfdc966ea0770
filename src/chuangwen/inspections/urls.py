from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("", views.inspection_list, name="list"),
    path("start/<int:round_id>/<int:school_id>/", views.inspection_start, name="start"),
    path("<int:pk>/", views.inspection_detail, name="detail"),
    path("<int:pk>/submit/", views.inspection_submit, name="submit"),
    path("<int:pk>/answer/<int:standard_id>/", views.answer_save, name="answer"),
    path("<int:pk>/answer/<int:standard_id>/photo/", views.answer_photo, name="photo"),
    path("<int:pk>/answer/<int:standard_id>/problem/", views.answer_problem, name="problem"),
    path("<int:pk>/answer/<int:standard_id>/correct/", views.answer_correct, name="correct"),
]
