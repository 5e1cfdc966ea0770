from django.urls import path

from . import views

app_name = "duty"

urlpatterns = [
    path("coverage/", views.coverage, name="coverage"),
    path("rules/", views.rule_assign, name="rule_assign"),
    path("bureau/", views.bureau_assign, name="bureau_assign"),
    path("handover/", views.handover, name="handover"),
    path("import/", views.import_start, name="import_start"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("import/<int:upload_id>/", views.import_preview, name="import_preview"),
    path("import/<int:upload_id>/apply/", views.import_apply, name="import_apply"),
    path("schools/<int:school_id>/assign/", views.school_assign, name="school_assign"),
    path("schools/<int:school_id>/plan/", views.plan, name="plan"),
    path("schools/<int:school_id>/plan/new/", views.task_create, name="task_create"),
    path("schools/<int:school_id>/plan.xlsx", views.plan_xlsx, name="plan_xlsx"),
    path("schools/<int:school_id>/plan.docx", views.plan_docx, name="plan_docx"),
    path("tasks/<int:task_id>/edit/", views.task_edit, name="task_edit"),
]
