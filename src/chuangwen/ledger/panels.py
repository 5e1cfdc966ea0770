"""我的问题 on 我的工作台: the open problems I must fix, my school's counts, the office's to-do counts.

At most three queries once the user's roles are known (the workbench has loaded them for the request):
my problems, the office's rules for the lights (only when there are rows), and one aggregate over the
open problems in reach (only for school leads and re-checkers; cached briefly, see listing.open_counts).
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from chuangwen.core import access, calendar

from . import deadlines, listing, selectors, workflow
from .models import LedgerSettings, Status

PANEL_ROWS = 8
WAITING = [Status.ASSIGNED, Status.IN_PROGRESS]


def my_problems_panel(user) -> dict | None:
    school_lead = access.has_role(user, *workflow.SCHOOL_LEAD_ROLES)
    reviewer = access.has_role(user, *workflow.REVIEWER_ROLES)
    mine = selectors.my_problems(user=user, limit=PANEL_ROWS)
    if not mine and not school_lead and not reviewer:
        return None
    now = timezone.now()
    counts = listing.open_counts(user, now=now) if (school_lead or reviewer) else {}
    office = access.can_manage_campaigns(user)
    today = timezone.localdate()
    # The working-day calendar for the coming year: a year nobody has entered falls back to weekends,
    # which the campaign office must see (no query: the calendar is a cached snapshot).
    warning = calendar.calendar_warning(today, today + dt.timedelta(days=365)) if office else None
    rules = LedgerSettings.current() if mine else None
    rows = []
    for problem in mine:
        light = deadlines.light(problem, now=now, rules=rules)
        rows.append({"p": problem, "light": light, "light_class": deadlines.LIGHT_CLASSES[light]})
    base = reverse("ledger:list")
    return {
        "template": "ledger/panel_my_problems.html",
        "rows": rows,
        "counts": counts,
        "school_lead": school_lead,
        "reviewer": reviewer,
        "list_url": base,
        "open_url": f"{base}?status=open",
        "overdue_url": f"{base}?overdue=on",
        "pending_url": f"{base}?status={Status.PENDING_REVIEW}",
        "mine_url": f"{base}?responsible={user.pk}&status=open",
        "calendar_warning": str(warning) if warning else "",
        "settings_url": reverse("ledger:settings") if office else "",
    }
