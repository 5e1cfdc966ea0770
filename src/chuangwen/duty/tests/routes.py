"""Permission-matrix rows of the duty pages and API (see tests/test_permission_matrix.py)."""

from __future__ import annotations

import datetime as dt

from tests.matrix import ALL, UNIT_MANAGERS, Route

from chuangwen.core.roles import Role

SCHOOL_ASSIGNERS = {Role.ADMIN, Role.OFFICE, Role.SCHOOL_HEAD, Role.LIAISON}
HANDOVER = {Role.ADMIN, Role.OFFICE, Role.SCHOOL_HEAD}


def _edition(city):
    from chuangwen.index.models import Edition

    from .factories import build_edition

    return Edition.objects.filter(name="矩阵测评体系").first() or build_edition(name="矩阵测评体系")


def _e(city) -> str:
    return f"?edition={_edition(city).pk}"


def _task(city):
    from chuangwen.duty.models import Task

    standard = _edition(city).standards.order_by("position").first()
    return Task.objects.create(
        school=city.school_a, standard=standard, title="矩阵任务", due_date=dt.date(2026, 12, 31)
    ).pk


def _upload(city, user):
    """An upload of the user's own that failed its checks: applying it is refused with a message."""
    from chuangwen.duty.models import AssignmentUpload

    return AssignmentUpload.objects.create(
        edition=_edition(city), uploaded_by=user, original_name="matrix.xlsx", status="failed"
    ).pk


ROUTES: dict[str, Route] = {
    "duty:coverage": Route(lambda c, u: f"/duty/coverage/{_e(c)}", ALL),
    "duty:rule_assign": Route(lambda c, u: f"/duty/rules/{_e(c)}", UNIT_MANAGERS),
    "duty:bureau_assign": Route(lambda c, u: f"/duty/bureau/{_e(c)}", UNIT_MANAGERS),
    "duty:handover": Route(lambda c, u: "/duty/handover/", HANDOVER),
    "duty:import_start": Route(lambda c, u: f"/duty/import/{_e(c)}", UNIT_MANAGERS),
    "duty:import_template": Route(lambda c, u: f"/duty/import/template.xlsx{_e(c)}", UNIT_MANAGERS),
    "duty:import_preview": Route(lambda c, u: f"/duty/import/{_upload(c, u)}/", UNIT_MANAGERS),
    "duty:import_apply": Route(
        lambda c, u: f"/duty/import/{_upload(c, u)}/apply/", UNIT_MANAGERS, method="post", ok=302
    ),
    "duty:school_assign": Route(
        lambda c, u: f"/duty/schools/{c.school_a.pk}/assign/{_e(c)}", SCHOOL_ASSIGNERS
    ),
    "duty:plan": Route(lambda c, u: f"/duty/schools/{c.school_a.pk}/plan/{_e(c)}", ALL),
    "duty:task_create": Route(
        lambda c, u: f"/duty/schools/{c.school_a.pk}/plan/new/{_e(c)}", SCHOOL_ASSIGNERS
    ),
    "duty:plan_xlsx": Route(lambda c, u: f"/duty/schools/{c.school_a.pk}/plan.xlsx{_e(c)}", ALL),
    "duty:plan_docx": Route(lambda c, u: f"/duty/schools/{c.school_a.pk}/plan.docx{_e(c)}", ALL),
    "duty:task_edit": Route(lambda c, u: f"/duty/tasks/{_task(c)}/edit/", SCHOOL_ASSIGNERS),
    "api:list_assignments": Route(lambda c, u: f"/api/duty/assignments{_e(c)}", ALL, anon=401),
    "api:coverage_summary": Route(lambda c, u: f"/api/duty/coverage{_e(c)}", ALL, anon=401),
    "api:list_tasks": Route(lambda c, u: "/api/duty/tasks", ALL, anon=401),
    # The matrix posts form data, which the JSON endpoint rejects (400) before any role check; who may
    # create tasks is tested with JSON bodies in test_api.py.
    "api:create_task": Route(lambda c, u: "/api/duty/tasks", ALL, method="post", ok=400, anon=401),
    # An empty PATCH (the client sends "{}") changes nothing but is still checked for permission.
    "api:update_task": Route(
        lambda c, u: f"/api/duty/tasks/{_task(c)}", SCHOOL_ASSIGNERS, method="patch", anon=401
    ),
}
