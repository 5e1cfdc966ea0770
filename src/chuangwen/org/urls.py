from django.urls import path

from . import imports_views, people, views

app_name = "org"

urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit_detail"),
    path("units/<int:unit_id>/edit/", views.unit_edit, name="unit_edit"),
    path("classes/", views.class_list, name="class_list"),
    path("schools/<int:school_id>/classes/", views.class_list, name="school_classes"),
    path("schools/<int:school_id>/classes/new/", views.class_create, name="class_create"),
    path("classes/<int:class_id>/edit/", views.class_edit, name="class_edit"),
    path("classes/<int:class_id>/delete/", views.class_delete, name="class_delete"),
    path("users/", people.user_list, name="user_list"),
    path("users/new/", people.user_create, name="user_create"),
    path("users/<int:user_id>/", people.user_detail, name="user_detail"),
    path("users/<int:user_id>/roles/", people.user_grant, name="user_grant"),
    path("users/<int:user_id>/roles/<int:membership_id>/revoke/", people.user_revoke, name="user_revoke"),
    path("users/<int:user_id>/active/", people.user_set_active, name="user_set_active"),
    path("users/<int:user_id>/password/", people.user_password, name="user_password"),
    path("users/<int:user_id>/sessions/end/", people.user_end_sessions, name="user_end_sessions"),
    path("import/", imports_views.import_start, name="import_start"),
    path("import/<int:batch_id>/", imports_views.import_preview, name="import_preview"),
    path("import/<int:batch_id>/apply/", imports_views.import_apply, name="import_apply"),
    path("import/<int:batch_id>/discard/", imports_views.import_discard, name="import_discard"),
    path("import/template/<slug:kind>.xlsx", imports_views.import_template, name="import_template"),
]
urlpatterns += [
    path("schools/export.xlsx", imports_views.school_export, name="school_export"),
    path("classes/export.xlsx", imports_views.class_export, name="class_export"),
]
