"""Deadlines of real problems on the Chinese working-day calendar, and the traffic lights."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from chuangwen.core import calendar
from chuangwen.core.calendar import SHANGHAI
from chuangwen.core.roles import Role
from chuangwen.ledger import deadlines, services
from chuangwen.ledger.models import LedgerSettings, Light, Severity

from .factories import make_problem, make_setup

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.invalidate()
    yield
    calendar.invalidate()


def at(*args):
    return dt.datetime(*args, tzinfo=SHANGHAI)


def found(city, when, **kwargs):
    setup = make_setup(city)
    with time_machine.travel(when, tick=False):
        return make_problem(city, setup, **kwargs)


def local(moment):
    return moment.astimezone(SHANGHAI)


def test_found_before_the_national_day_holiday_is_due_on_the_next_working_day(city):
    problem = found(city, at(2026, 9, 30, 10), severity=Severity.DAYS, deadline_days=1)
    assert local(problem.deadline).date() == dt.date(2026, 10, 8)  # 10-01..10-07 off
    assert problem.calendar_gap == ""


def test_a_make_up_saturday_counts_as_a_working_day(city):
    problem = found(city, at(2026, 10, 9, 15), severity=Severity.DAYS, deadline_days=1)
    assert local(problem.deadline).date() == dt.date(2026, 10, 10)  # 调休上班的周六


def test_immediate_found_at_2350_is_due_at_235959_the_same_day(city):
    problem = found(city, at(2026, 11, 27, 23, 50))
    assert local(problem.deadline).strftime("%Y-%m-%d %H:%M:%S") == "2026-11-27 23:59:59"
    assert problem.deadline > problem.found_at


def test_a_deadline_in_a_year_nobody_entered_uses_weekends_and_is_flagged(city):
    problem = found(city, at(2026, 12, 30, 16), severity=Severity.DAYS, deadline_days=5)
    assert local(problem.deadline).date() == dt.date(2027, 1, 6)  # 12-31, 1-1, 1-4, 1-5, 1-6
    assert problem.calendar_gap == "2027"
    create = problem.events.get(move="assign")
    assert create.data["calendar_gap"] == [2027]


def test_long_term_needs_a_future_target_and_bad_day_counts_are_refused(city):
    setup = make_setup(city)
    with pytest.raises(ValidationError, match="目标日期"):
        make_problem(city, setup, severity=Severity.LONG)
    with pytest.raises(ValidationError, match="1 到 60"):
        make_problem(city, setup, severity=Severity.DAYS, deadline_days=0)
    problem = make_problem(
        city,
        setup,
        severity=Severity.LONG,
        target_date=dt.date(2027, 6, 30),
        milestones=[("招标", dt.date(2027, 1, 15)), ("施工", dt.date(2027, 5, 1))],
    )
    assert local(problem.deadline).date() == dt.date(2027, 6, 30)
    assert [m.title for m in problem.milestones.all()] == ["招标", "施工"]


def test_the_default_day_count_comes_from_the_office_rules(city):
    LedgerSettings.objects.create(pk=1, default_days=2)
    problem = found(city, at(2026, 11, 23, 9), severity=Severity.DAYS)  # Monday
    assert problem.deadline_days == 2
    assert local(problem.deadline).date() == dt.date(2026, 11, 25)


def test_lights_turn_yellow_near_the_deadline_and_red_after_it(city):
    problem = found(city, at(2026, 11, 23, 9), severity=Severity.DAYS, deadline_days=3)  # due Thu 26th
    rules = LedgerSettings.current()  # 25 % of the window or 4 hours
    assert deadlines.light(problem, now=at(2026, 11, 24, 9), rules=rules) == Light.GREEN
    assert deadlines.light(problem, now=at(2026, 11, 26, 10), rules=rules) == Light.YELLOW
    assert deadlines.light(problem, now=at(2026, 11, 27, 0, 1), rules=rules) == Light.RED
    services.problem_move(problem=problem, code="void", actor=city.users[Role.OFFICE], reason="重复登记")
    problem.refresh_from_db()
    assert deadlines.light(problem, now=at(2026, 11, 27, 0, 1), rules=rules) == Light.NONE


def test_immediate_problems_are_yellow_in_their_last_four_hours(city):
    problem = found(city, at(2026, 11, 27, 8))
    assert deadlines.light(problem, now=at(2026, 11, 27, 19, 59)) == Light.GREEN
    assert deadlines.light(problem, now=at(2026, 11, 27, 20, 1)) == Light.YELLOW


def test_reopening_sets_a_fresh_deadline_from_now(city):
    setup = make_setup(city)
    with time_machine.travel(at(2026, 11, 23, 9), tick=False):
        problem = make_problem(city, setup)
        problem.status = "pending_review"  # skip the school's side; tested in test_flow
        problem.save()
        services.problem_move(problem=problem, code="approve", actor=city.users[Role.OFFICE])
    with time_machine.travel(at(2026, 11, 25, 14), tick=False):
        problem = services.problem_move(
            problem=problem, code="reopen", actor=city.users[Role.OFFICE], reason="复查发现反弹"
        )
    assert local(problem.deadline) == calendar.end_of_day(dt.date(2026, 11, 25))
    assert problem.reopen_count == 1 and problem.closed_at is None
