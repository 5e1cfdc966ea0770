"""Scheduled bulletins (“三天一通报”): the worker creates a DRAFT when one is due; people issue it.

Cadences:
- every N working days: due on d₀ + N, d₀ + 2N, … working days, d₀ the first working day on or after
  the schedule's start date; each draft covers the days since the previous due day.
- weekly: due on the chosen weekday, covering the seven days before it.
- per round finished: one round bulletin for each round of the campaign that has finished (and ends on
  or after the schedule's start date).

Every period is created, once: a pass creates the draft of each period that fell due since the schedule
was created (or last switched on) and has none yet, so periods missed while the worker was down are
back-filled, each a draft of its own telling its period as it stood at its end (decision 0021). The
latest due period is created even if it fell due before that (as a new schedule's first draft). A pass
creates at most MAX_PER_PASS drafts — the latest first, then the oldest missing — and the next pass
goes on. (schedule, due_key) is unique, so two workers or two passes never create a period twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from chuangwen.campaigns.models import Campaign, Round
from chuangwen.core import access, audit, calendar

from . import services
from .models import Bulletin, BulletinSchedule

log = logging.getLogger(__name__)
INTERVAL = 600  # seconds between passes
MAX_STEPS = 2000
MAX_PER_PASS = 10  # drafts a pass creates for one schedule (a long outage is caught up pass by pass)


def due_periods(schedule: BulletinSchedule, today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """(due_key, period_start, period_end) of every period due on or before `today`, oldest first."""
    periods = []
    if schedule.cadence == BulletinSchedule.Cadence.WORKING_DAYS:
        every = max(int(schedule.every or 1), 1)
        previous = calendar.add_working_days(schedule.start_date, 0)
        due = calendar.add_working_days(previous, every)
        for _ in range(MAX_STEPS):
            if due > today:
                break
            periods.append((due.isoformat(), previous, due - dt.timedelta(days=1)))
            previous, due = due, calendar.add_working_days(due, every)
    elif schedule.cadence == BulletinSchedule.Cadence.WEEKLY:
        due = schedule.start_date + dt.timedelta(days=7)
        due += dt.timedelta(days=(int(schedule.weekday) - due.weekday()) % 7)
        for _ in range(MAX_STEPS):
            if due > today:
                break
            periods.append((due.isoformat(), due - dt.timedelta(days=7), due - dt.timedelta(days=1)))
            due += dt.timedelta(days=7)
    return periods[-MAX_STEPS:]


def latest_due(schedule: BulletinSchedule, today: dt.date) -> tuple[str, dt.date, dt.date] | None:
    """(due_key, period_start, period_end) of the latest period due on or before `today`, or None."""
    periods = due_periods(schedule, today)
    return periods[-1] if periods else None


def missing_periods(schedule: BulletinSchedule, today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The periods to create now, in the order to create them: the latest due, then the older ones
    that fell due since the schedule was created or switched on, oldest first; none that has a draft."""
    periods = due_periods(schedule, today)
    if not periods:
        return []
    since = calendar.shanghai_date(schedule.active_since or schedule.created_at)
    wanted = [periods[-1], *(p for p in periods[:-1] if dt.date.fromisoformat(p[0]) >= since)]
    have = set(
        Bulletin.objects.filter(schedule=schedule, due_key__in=[p[0] for p in wanted]).values_list(
            "due_key", flat=True
        )
    )
    return [p for p in wanted if p[0] not in have]


def _create(schedule: BulletinSchedule, *, due_key: str, now, **kwargs) -> Bulletin | None:
    if Bulletin.objects.filter(schedule=schedule, due_key=due_key).exists():
        return None
    try:
        with transaction.atomic():
            return services.bulletin_create(
                campaign=schedule.campaign,
                actor=None,
                label=schedule.name,
                schedule=schedule,
                due_key=due_key,
                now=now,
                **kwargs,
            )
    except IntegrityError:  # another pass created it at the same moment
        return None


def run_schedule(schedule: BulletinSchedule, *, now: dt.datetime | None = None) -> list[Bulletin]:
    now = now or timezone.now()
    if not schedule.active or schedule.campaign.status != Campaign.Status.ACTIVE:
        return []
    created = []
    if schedule.cadence == BulletinSchedule.Cadence.ROUND_FINISHED:
        rounds = Round.objects.filter(
            campaign=schedule.campaign, status=Round.Status.FINISHED, end_date__gte=schedule.start_date
        ).order_by("end_date", "pk")
        for round_ in rounds:
            made = _create(schedule, due_key=f"round-{round_.pk}", now=now, round=round_)
            if made is not None:
                created.append(made)
        return created
    for key, start, end in missing_periods(schedule, calendar.shanghai_date(now))[:MAX_PER_PASS]:
        made = _create(schedule, due_key=key, now=now, period_start=start, period_end=end)
        if made is not None:
            created.append(made)
    return created


def run_schedules(*, now: dt.datetime | None = None) -> list[Bulletin]:
    """One pass over the active schedules; returns the drafts created."""
    created = []
    for schedule in BulletinSchedule.objects.filter(active=True).select_related("campaign"):
        try:
            created += run_schedule(schedule, now=now)
        except Exception:  # one broken schedule must not stop the others
            log.exception("bulletin schedule %s failed", schedule.pk)
    return created


class ScheduleThread(threading.Thread):
    """Started by `chuangwen worker`: looks for due bulletins every ten minutes."""

    def __init__(self, interval: float = INTERVAL) -> None:
        super().__init__(name="bulletin-schedules", daemon=True)
        self.interval = interval
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            close_old_connections()
            try:
                run_schedules()
            except Exception:
                log.exception("bulletin schedule pass failed")
            finally:
                close_old_connections()


@transaction.atomic
def schedule_create(
    *,
    name: str,
    campaign: Campaign,
    cadence: str,
    start_date: dt.date,
    actor,
    every: int = 3,
    weekday: int = 0,
    request=None,
) -> BulletinSchedule:
    access.require(services.can_manage_bulletins(actor))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写名称"})
    if cadence not in BulletinSchedule.Cadence.values:
        raise ValidationError({"cadence": "请选择频次"})
    if not 1 <= int(every) <= 60:
        raise ValidationError({"every": "间隔应为 1–60 个工作日"})
    if not 0 <= int(weekday) <= 6:
        raise ValidationError({"weekday": "请选择星期"})
    item = BulletinSchedule.objects.create(
        name=name[:100],
        campaign=campaign,
        cadence=cadence,
        every=int(every),
        weekday=int(weekday),
        start_date=start_date,
        created_by=actor,
    )
    audit.record(
        "bulletin.schedule.create",
        actor=actor,
        request=request,
        obj=item,
        data={"cadence": cadence, "every": every, "weekday": weekday, "start": start_date},
    )
    return item


@transaction.atomic
def schedule_toggle(*, schedule: BulletinSchedule, actor, request=None) -> BulletinSchedule:
    access.require(services.can_manage_bulletins(actor))
    item = BulletinSchedule.objects.select_for_update().get(pk=schedule.pk)
    item.active = not item.active
    fields = ["active", "updated_at"]
    if item.active:  # periods due while it was off are not back-filled
        item.active_since = timezone.now()
        fields.append("active_since")
    item.save(update_fields=fields)
    audit.record(
        "bulletin.schedule.toggle", actor=actor, request=request, obj=item, data={"active": item.active}
    )
    return item
