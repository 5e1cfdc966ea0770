"""Deadlines and traffic lights of problems, by the campaign office's rules (LedgerSettings).

Deadlines are computed from the moment a problem is assigned (or reopened), so a deadline is never in
the past when it is set: 立行立改 = the end of that Shanghai day (日结日清), 限期整改 = N Chinese working
days, 长期整改 = a target date. A year without an entered holiday calendar falls back to weekends and is
recorded on the problem (`calendar_gap`) so the office sees the warning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from chuangwen.core import calendar

from .models import OPEN_STATUSES, LedgerSettings, Light, Problem, Severity, Status

MAX_DAYS = 60


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    gap_years: tuple[int, ...]

    @property
    def warning(self) -> str:
        return str(calendar.CalendarWarning(self.gap_years)) if self.gap_years else ""


def compute(
    *, severity: str, start: dt.datetime, days: int | None = None, target: dt.date | None = None
) -> Deadline:
    """The deadline of a problem assigned at `start`; ValidationError on rules that cannot hold."""
    if severity == Severity.DAYS:
        if days is None:
            days = LedgerSettings.current().default_days
        if not 1 <= days <= MAX_DAYS:
            raise ValidationError({"deadline_days": f"限期整改的工作日数须在 1 到 {MAX_DAYS} 之间"})
    if severity == Severity.LONG:
        if target is None:
            raise ValidationError({"target_date": "长期整改必须填写目标日期"})
        if target < calendar.shanghai_date(start):
            raise ValidationError({"target_date": "目标日期不能早于今天"})
    if severity not in Severity.values:
        raise ValidationError({"severity": "整改类型无效"})
    at = calendar.deadline_for(start, severity=severity, days=days or 0, target=target)
    gaps = calendar.calendar_gaps(calendar.shanghai_date(start), calendar.shanghai_date(at))
    return Deadline(at=at, gap_years=tuple(gaps))


def light(problem: Problem, *, now: dt.datetime | None = None, rules: LedgerSettings | None = None) -> str:
    """Green, yellow (little time left), red (overdue); none for problems not waiting on the school."""
    return light_of(
        problem.status,
        problem.deadline,
        start=problem.assigned_at or problem.found_at,
        now=now,
        rules=rules,
    )


def light_of(
    status: str,
    deadline: dt.datetime | None,
    *,
    start: dt.datetime,
    now: dt.datetime | None = None,
    rules: LedgerSettings | None = None,
) -> str:
    """`light` from the fields it needs (`start`: assigned, else found), for rows read as values."""
    if status not in OPEN_STATUSES or status == Status.NEW or deadline is None:
        return Light.NONE
    now = now or timezone.now()
    if now > deadline:
        return Light.RED
    rules = rules or LedgerSettings.current()
    window = max((deadline - start).total_seconds(), 0)
    threshold = max(rules.yellow_min_hours * 3600, window * float(rules.yellow_ratio))
    remaining = (deadline - now).total_seconds()
    return Light.YELLOW if remaining <= threshold else Light.GREEN


LIGHT_CLASSES = {
    Light.GREEN: "success",
    Light.YELLOW: "warning",
    Light.RED: "danger",
    Light.NONE: "secondary",
}
