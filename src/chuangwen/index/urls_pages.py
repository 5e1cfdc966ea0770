from django.urls import path

from . import views

urlpatterns = [
    path("", views.edition_list, name="edition_list"),
    path("editions/new/", views.edition_create, name="edition_create"),
    path("editions/<int:edition_id>/", views.edition_detail, name="edition_detail"),
    path("editions/<int:edition_id>/edit/", views.edition_edit, name="edition_edit"),
    path("editions/<int:edition_id>/copy/", views.edition_copy, name="edition_copy"),
    path("editions/<int:edition_id>/publish/", views.edition_publish, name="edition_publish"),
    path("editions/<int:edition_id>/archive/", views.edition_archive, name="edition_archive"),
    path("editions/<int:edition_id>/delete/", views.edition_delete, name="edition_delete"),
    path("editions/<int:edition_id>/groups/new/", views.group_create, name="group_create"),
    path("groups/<int:group_id>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:group_id>/delete/", views.group_delete, name="group_delete"),
    path("groups/<int:group_id>/move/", views.group_move, name="group_move"),
    path("groups/<int:group_id>/standards/new/", views.standard_create, name="standard_create"),
    path("standards/<int:standard_id>/edit/", views.standard_edit, name="standard_edit"),
    path("standards/<int:standard_id>/delete/", views.standard_delete, name="standard_delete"),
    path("standards/<int:standard_id>/move/", views.standard_move, name="standard_move"),
    path("diff/", views.edition_diff, name="edition_diff"),
]
