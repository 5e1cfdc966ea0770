from django.urls import path

from . import views

app_name = "accountability"

urlpatterns = [
    path("", views.record_list, name="list"),
    path("export.xlsx", views.export, name="export"),
    path("new/", views.create, name="create"),
    path("rules/", views.rules, name="rules"),
    path("cards/", views.card_list, name="cards"),
    path("cards/export.xlsx", views.card_export, name="card_export"),
    path("cards/evaluate/", views.card_evaluate, name="card_evaluate"),
    path("units/<int:unit_id>/", views.unit_history, name="unit"),
    path("<int:record_id>/", views.detail, name="detail"),
    path("<int:record_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:record_id>/revoke/", views.revoke, name="revoke"),
    path("<int:record_id>/correct/", views.correct, name="correct"),
]
