"""Scheduled bulletins: one draft for each period due (missed ones back-filled), none twice, never issued
by the worker."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from chuangwen.bulletins import schedule
from chuangwen.bulletins.models import Bulletin
from chuangwen.campaigns import services as campaigns
from chuangwen.core.models import HolidayDay
from chuangwen.core.roles import Role

from .factories import make_schedule, make_setup_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def test_every_three_working_days_creates_one_draft_when_due_and_none_twice(city):
    item = make_schedule(city, every=3, start_date=dt.date(2026, 11, 2))  # a Monday
    # Mon 2 → due Thu 5 (3 working days later), then Tue 10 (the weekend skipped), then Fri 13.
    assert schedule.run_schedule(item, now=_at(dt.date(2026, 11, 4))) == []
    [first] = schedule.run_schedule(item, now=_at(dt.date(2026, 11, 5)))
    assert first.status == Bulletin.Status.DRAFT and first.number == ""
    assert (first.period_start, first.period_end, first.due_key) == (
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 4),
        "2026-11-05",
    )
    assert first.label == "三天一通报" and first.schedule_id == item.pk
    assert schedule.run_schedule(item, now=_at(dt.date(2026, 11, 5), 15)) == []
    assert schedule.run_schedule(item, now=_at(dt.date(2026, 11, 9))) == []
    [second] = schedule.run_schedules(now=_at(dt.date(2026, 11, 10)))
    assert (second.period_start, second.period_end) == (dt.date(2026, 11, 5), dt.date(2026, 11, 9))
    assert schedule.run_schedules(now=_at(dt.date(2026, 11, 10))) == []
    assert Bulletin.objects.filter(schedule=item).count() == 2
    assert not Bulletin.objects.filter(status=Bulletin.Status.ISSUED).exists()


def test_working_days_follow_the_holiday_calendar(city):
    HolidayDay.objects.create(date=dt.date(2026, 11, 4), year=2026, kind=HolidayDay.Kind.HOLIDAY, name="测试")
    from chuangwen.core import calendar

    calendar.invalidate()
    item = make_schedule(city, every=3, start_date=dt.date(2026, 11, 2))
    assert schedule.latest_due(item, dt.date(2026, 11, 5)) is None  # the 4th is a holiday: due on the 6th
    assert schedule.latest_due(item, dt.date(2026, 11, 6))[0] == "2026-11-06"


def test_weekly_schedule(city):
    item = make_schedule(city, cadence="weekly", weekday=4, start_date=dt.date(2026, 11, 2))  # Fridays
    # The first full week after the start date: due Friday 13th, covering 6th–12th.
    assert schedule.latest_due(item, dt.date(2026, 11, 12)) is None
    assert schedule.latest_due(item, dt.date(2026, 11, 16)) == (
        "2026-11-13",
        dt.date(2026, 11, 6),
        dt.date(2026, 11, 12),
    )
    made = schedule.run_schedule(item, now=_at(dt.date(2026, 11, 16)))
    assert [b.due_key for b in made] == ["2026-11-13"]
    assert schedule.run_schedule(item, now=_at(dt.date(2026, 11, 17))) == []


def test_a_round_bulletin_after_each_finished_round(city):
    setup = make_setup_for(city)
    office = city.users[Role.OFFICE]
    item = make_schedule(
        city, campaign=setup.campaign, cadence="round_finished", start_date=dt.date(2026, 9, 1)
    )
    assert schedule.run_schedule(item) == []  # the round is still in progress
    campaigns.round_transition(round_=setup.round, to="finished", actor=office)
    [made] = schedule.run_schedule(item)
    assert (
        made.round_id == setup.round.pk
        and made.kind == Bulletin.Kind.ROUND
        and made.due_key == f"round-{setup.round.pk}"
    )
    assert schedule.run_schedule(item) == []


def test_inactive_schedules_and_closed_campaigns_create_nothing(city):
    item = make_schedule(city, every=1, start_date=dt.date(2026, 11, 2))
    office = city.users[Role.OFFICE]
    schedule.schedule_toggle(schedule=item, actor=office)
    item.refresh_from_db()
    assert not item.active
    assert schedule.run_schedule(item, now=_at(dt.date(2026, 11, 10))) == []
    assert schedule.run_schedules(now=_at(dt.date(2026, 11, 10))) == []
    assert not Bulletin.objects.exists()


def test_schedule_create_checks_its_input(city):
    setup = make_setup_for(city)
    office = city.users[Role.OFFICE]
    with pytest.raises(ValidationError, match="间隔"):
        schedule.schedule_create(
            name="x",
            campaign=setup.campaign,
            cadence="working_days",
            every=0,
            start_date=dt.date(2026, 11, 2),
            actor=office,
        )
    with pytest.raises(ValidationError, match="名称"):
        schedule.schedule_create(
            name=" ", campaign=setup.campaign, cadence="weekly", start_date=dt.date(2026, 11, 2), actor=office
        )
    with pytest.raises(PermissionDenied):
        schedule.schedule_create(
            name="x",
            campaign=setup.campaign,
            cadence="weekly",
            start_date=dt.date(2026, 11, 2),
            actor=city.users[Role.LEADER],
        )


def _schedule_made_on(city, day: dt.date, **kwargs):
    with time_machine.travel(_at(day, 8), tick=False):
        return make_schedule(city, **kwargs)


def test_periods_missed_while_the_worker_was_down_are_back_filled_once_each(city):
    item = _schedule_made_on(city, dt.date(2026, 11, 2), every=3, start_date=dt.date(2026, 11, 2))
    first = schedule.run_schedule(item, now=_at(dt.date(2026, 11, 5)))
    assert [b.due_key for b in first] == ["2026-11-05"]
    # The worker is down from the 6th to the 20th: due on the 10th, 13th and 18th, all missed.
    made = schedule.run_schedule(item, now=_at(dt.date(2026, 11, 20)))
    assert [b.due_key for b in made] == ["2026-11-18", "2026-11-10", "2026-11-13"]  # the latest first
    drafts = Bulletin.objects.filter(schedule=item).order_by("period_start")
    periods = [(b.period_start, b.period_end) for b in drafts]
    assert periods == [
        (dt.date(2026, 11, 2), dt.date(2026, 11, 4)),
        (dt.date(2026, 11, 5), dt.date(2026, 11, 9)),
        (dt.date(2026, 11, 10), dt.date(2026, 11, 12)),
        (dt.date(2026, 11, 13), dt.date(2026, 11, 17)),
    ]  # back to back: no day missed, none twice
    assert all(b.status == Bulletin.Status.DRAFT for b in drafts)
    # Each tells its own period as of its end, not the day it was created.
    assert [b.content["as_of"][:10] for b in drafts] == [
        "2026-11-04", "2026-11-09", "2026-11-12", "2026-11-17"
    ]  # fmt: skip
    assert schedule.run_schedule(item, now=_at(dt.date(2026, 11, 20), 15)) == []
    assert schedule.run_schedules(now=_at(dt.date(2026, 11, 20), 16)) == []


def test_a_long_outage_is_caught_up_pass_by_pass(city, monkeypatch):
    monkeypatch.setattr(schedule, "MAX_PER_PASS", 2)
    item = _schedule_made_on(city, dt.date(2026, 11, 2), every=1, start_date=dt.date(2026, 11, 2))
    today = _at(dt.date(2026, 11, 9))  # due on the 3rd, 4th, 5th, 6th and 9th
    keys = [[b.due_key for b in schedule.run_schedule(item, now=today)] for _ in range(4)]
    assert keys == [["2026-11-09", "2026-11-03"], ["2026-11-04", "2026-11-05"], ["2026-11-06"], []]


def test_periods_due_while_a_schedule_was_off_are_not_back_filled(city):
    item = _schedule_made_on(city, dt.date(2026, 11, 2), every=1, start_date=dt.date(2026, 11, 2))
    office = city.users[Role.OFFICE]
    schedule.run_schedule(item, now=_at(dt.date(2026, 11, 3)))
    with time_machine.travel(_at(dt.date(2026, 11, 3), 12), tick=False):
        schedule.schedule_toggle(schedule=item, actor=office)  # off
    with time_machine.travel(_at(dt.date(2026, 11, 9), 8), tick=False):
        item = schedule.schedule_toggle(schedule=item, actor=office)  # on again
    made = schedule.run_schedule(item, now=_at(dt.date(2026, 11, 10)))
    assert [b.due_key for b in made] == ["2026-11-10", "2026-11-09"]
    assert not Bulletin.objects.filter(due_key__in=["2026-11-04", "2026-11-05", "2026-11-06"]).exists()


def test_a_new_schedule_starts_with_the_latest_period_only(city):
    item = make_schedule(city, every=3, start_date=dt.date(2026, 9, 1))  # made today, started long ago
    made = schedule.run_schedule(item, now=timezone.now())
    assert len(made) == 1 and made[0].due_key == schedule.latest_due(item, timezone.localdate())[0]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="concurrent writers: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_create_one_draft_per_period(city):
    item = _schedule_made_on(city, dt.date(2026, 11, 2), every=1, start_date=dt.date(2026, 11, 2))
    now = _at(dt.date(2026, 11, 9))  # five periods due
    barrier = threading.Barrier(2)
    made, errors = [], []

    def work():
        from django.db import connection as conn

        try:
            barrier.wait(timeout=30)
            made.extend(b.pk for b in schedule.run_schedules(now=now))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    keys = list(Bulletin.objects.filter(schedule=item).values_list("due_key", flat=True))
    assert sorted(keys) == ["2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-09"]
    assert sorted(made) == sorted(Bulletin.objects.filter(schedule=item).values_list("pk", flat=True))
