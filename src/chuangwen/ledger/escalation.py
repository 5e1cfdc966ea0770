"""Overdue escalation: the ladder of the campaign office's rules, run by the worker on working days.

Step `after: n` fires on the (n+1)-th working day after the deadline's day, i.e. `after: 0` as soon as a
problem is overdue on a working day. Each step fires once per assignment (reopening or extending resets
the level); the responsible person is reminded once each working day until the problem is submitted.
Every step and reminder is a ProblemEvent and an audit event.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.db import close_old_connections, transaction
from django.utils import timezone

from chuangwen.core import calendar
from chuangwen.core.roles import Role

from . import people
from .models import LedgerSettings, Problem, ProblemEvent, Status
from .services import _event, _tell

log = logging.getLogger(__name__)

ESCALATING = (Status.ASSIGNED, Status.IN_PROGRESS)
ROLE_LABELS = dict(Role.choices) | {"responsible": "责任人"}


def overdue_working_days(deadline: dt.datetime, today: dt.date) -> int:
    return calendar.working_days_between(calendar.shanghai_date(deadline), today)


def _recipients(problem: Problem, roles: list[str]) -> list[int]:
    ids = [problem.responsible_id] if "responsible" in roles else []
    return ids + people.holders(
        problem.school, [r for r in roles if r != "responsible"], standard=problem.standard
    )


def escalate_one(problem_id: int, *, now: dt.datetime, rules: LedgerSettings) -> int:
    """Fire what is due for one problem; return the number of steps and reminders fired."""
    fired = 0
    today = calendar.shanghai_date(now)
    with transaction.atomic():
        problem = (
            Problem.objects.select_for_update(of=("self",))  # PostgreSQL: not the nullable joined rows
            .select_related("school", "standard", "standard__lead_department")
            .filter(pk=problem_id, status__in=ESCALATING, deadline__lt=now)
            .first()
        )
        if problem is None:
            return 0
        over = overdue_working_days(problem.deadline, today)
        ladder = list(rules.ladder or [])
        for level, step in enumerate(ladder):
            if level < problem.escalation_level or over < int(step.get("after", 0)) + 1:
                continue
            roles = [str(r) for r in step.get("roles", [])]
            recipients = _recipients(problem, roles)
            label = step.get("label") or "逾期升级"
            problem.escalation_level = level + 1
            if step.get("bulletin"):
                problem.listed_for_bulletin = True
            problem.save(update_fields=["escalation_level", "listed_for_bulletin", "updated_at"])
            _event(
                problem,
                kind=ProblemEvent.Kind.ESCALATE,
                actor=None,
                note=label,
                data={
                    "level": level + 1,
                    "overdue_working_days": over,
                    "roles": roles,
                    "recipients": recipients,
                    "bulletin": bool(step.get("bulletin")),
                },
                at=now,
            )
            _tell(
                problem,
                recipients,
                kind="problem.escalated",
                title=f"【逾期{over}个工作日】{problem.school.name}：问题 {problem.number}",
                body=f"{label}。{problem.description[:80]}",
            )
            fired += 1
        if rules.remind_daily and problem.last_reminded_on != today:
            problem.last_reminded_on = today
            problem.save(update_fields=["last_reminded_on", "updated_at"])
            _event(
                problem,
                kind=ProblemEvent.Kind.REMIND,
                actor=None,
                note="逾期提醒",
                data={"overdue_working_days": over},
                at=now,
            )
            _tell(
                problem,
                [problem.responsible_id],
                kind="problem.reminder",
                title=f"【逾期提醒】问题 {problem.number} 已逾期，请尽快整改",
                body=problem.description[:80],
            )
            fired += 1
    return fired


def run_escalation(now: dt.datetime | None = None) -> int:
    """Escalate and remind every overdue problem; nothing happens on a day off."""
    now = now or timezone.now()
    if not calendar.is_working_day(calendar.shanghai_date(now)):
        return 0
    rules = LedgerSettings.current()
    ids = list(
        Problem.objects.filter(status__in=ESCALATING, deadline__lt=now)
        .order_by("deadline")
        .values_list("pk", flat=True)
    )
    return sum(escalate_one(pk, now=now, rules=rules) for pk in ids)


# Office hours in Shanghai during which the worker escalates: nobody is woken at night.
HOURS = (8, 20)
INTERVAL = 300


class EscalationThread(threading.Thread):
    """Started by `chuangwen worker`: runs the ladder every few minutes during office hours."""

    def __init__(self, interval: float = INTERVAL) -> None:
        super().__init__(name="ledger-escalation", daemon=True)
        self.interval = interval
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            local = timezone.localtime(timezone.now(), calendar.SHANGHAI)
            if not HOURS[0] <= local.hour < HOURS[1]:
                continue
            close_old_connections()
            try:
                run_escalation()
            except Exception:
                log.exception("escalation pass failed")
            finally:
                close_old_connections()
