from django.urls import path, re_path

from . import import_views

urlpatterns = [
    path("", import_views.import_start, name="import_start"),
    path("<int:batch_id>/", import_views.import_preview, name="import_preview"),
    path("<int:batch_id>/apply/", import_views.import_apply, name="import_apply"),
    path("<int:batch_id>/discard/", import_views.import_discard, name="import_discard"),
    path("template.xlsx", import_views.import_template, name="import_template"),
    re_path(
        r"^export/(?P<edition_id>[0-9]+)\.(?P<fmt>xlsx|yaml)$",
        import_views.edition_export,
        name="edition_export",
    ),
]
