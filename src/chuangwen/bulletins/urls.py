from django.urls import path

from . import views

app_name = "bulletins"

urlpatterns = [
    path("", views.bulletin_list, name="list"),
    path("new/", views.bulletin_create, name="create"),
    path("<int:bulletin_id>/", views.bulletin_detail, name="detail"),
    path("<int:bulletin_id>/edit/", views.bulletin_edit, name="edit"),
    path("<int:bulletin_id>/refresh/", views.bulletin_refresh, name="refresh"),
    path("<int:bulletin_id>/issue/", views.bulletin_issue, name="issue"),
    path("<int:bulletin_id>/reissue/", views.bulletin_reissue, name="reissue"),
    path("<int:bulletin_id>/delete/", views.bulletin_delete, name="delete"),
    path("<int:bulletin_id>/docx/", views.bulletin_docx, name="docx"),
    path("<int:bulletin_id>/pdf/", views.bulletin_pdf, name="pdf"),
    path("schedules/", views.schedule_list, name="schedules"),
    path("schedules/<int:schedule_id>/toggle/", views.schedule_toggle, name="schedule_toggle"),
    path("settings/", views.settings_edit, name="settings"),
]
