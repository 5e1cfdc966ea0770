"""我的责任 on 我的工作台: my standards and tasks, overdue first."""

from django.urls import reverse

from . import permissions, selectors

PANEL_ROWS = 8


def my_duties_panel(user) -> dict | None:
    duties = selectors.my_duties(user=user, limit=PANEL_ROWS)
    office = permissions.can_assign_bureau(user)
    if duties.empty and not office:
        return None
    return {
        "template": "duty/panel_my_duties.html",
        "tasks": duties.tasks,
        "overdue": duties.overdue,
        "standards": duties.owned,
        "bureau": duties.bureau,
        "counts": duties.counts,
        "coverage_url": reverse("duty:coverage"),
    }
