"""A period bulletin reports its period as it stood at the period's end (the ledger's event history),
whenever it is drafted: a problem closed, voided or given a later deadline since is shown as it was."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from chuangwen.bulletins import generate, history
from chuangwen.core.roles import Role
from chuangwen.ledger import services as ledger
from chuangwen.ledger.models import Problem, ProblemEvent, Status
from chuangwen.reports.tests.factories import close

from .factories import make_setup_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date
START, END = D(2026, 11, 2), D(2026, 11, 6)  # Monday to Friday


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def week(city):
    """Three problems found on Monday 2 November with one working day to fix them; after the week, one
    is closed, one voided and one given a later deadline."""
    setup = make_setup_for(city)
    inspector, office, teacher = (city.users[r] for r in (Role.INSPECTOR, Role.OFFICE, Role.TEACHER))
    with time_machine.travel(at(D(2026, 11, 2)), tick=False):
        found = [
            ledger.problem_create(
                school=city.school_a,
                standard=setup.standards["1.1"],
                round_=setup.round,
                description=f"问题{i}",
                actor=inspector,
                severity="days",
                deadline_days=1,
            )
            for i in range(3)
        ]
    closed_later, voided_later, extended_later = found
    with time_machine.travel(at(D(2026, 11, 4)), tick=False):
        ledger.problem_move(problem=extended_later, code="accept", actor=teacher)
    with time_machine.travel(at(D(2026, 11, 10)), tick=False):
        close(closed_later, teacher=teacher, office=office)
        ledger.problem_move(problem=voided_later, code="void", actor=office, reason="重复登记")
        ledger.problem_correct(
            problem=extended_later,
            changes={"deadline": at(D(2026, 11, 30), 18)},
            reason="需采购材料",
            actor=office,
        )
    return setup, found


def _generate(setup, now):
    return generate.generate(campaign=setup.campaign, period_start=START, period_end=END, now=now)


def test_a_problem_closed_after_the_period_is_open_and_overdue_in_its_bulletin(city, week):
    setup, (closed_later, voided_later, extended_later) = week
    now = {p.pk: p for p in Problem.objects.filter(pk__in=[p.pk for p in week[1]])}
    assert now[closed_later.pk].status == Status.CLOSED and now[voided_later.pk].status == Status.VOID
    assert now[extended_later.pk].deadline > at(D(2026, 11, 20))  # not overdue today

    content = _generate(setup, at(D(2026, 11, 20)))
    statuses = {item["id"]: item["status"] for s in content["problems_by_school"] for item in s["items"]}
    assert statuses == {
        closed_later.pk: "已交办（待签收）",
        voided_later.pk: "已交办（待签收）",
        extended_later.pk: "整改中",
    }
    overdue = {o["id"]: o for o in content["overdue"]}
    assert set(overdue) == {closed_later.pk, voided_later.pk, extended_later.pk}
    due = Problem.objects.get(pk=closed_later.pk).deadline.astimezone(SHANGHAI).date()
    assert overdue[closed_later.pk]["deadline"] == due.isoformat() == "2026-11-03"
    assert overdue[extended_later.pk]["deadline"] == "2026-11-03"  # the deadline in force then
    assert overdue[closed_later.pk]["days"] == (END - due).days == 3
    h = content["headline"]
    assert (h["problems"], h["open_problems"], h["overdue"], h["closed"]) == (3, 3, 3, 0)
    assert h["rectification_rate"] == "0.00" and h["median_days_to_close"] is None
    assert h["by_status"]["已销号"] == 0 and h["by_status"]["已交办（待签收）"] == 2
    row = next(r for r in content["ranking"] if r["school_id"] == city.school_a.pk)
    assert (row["problems"], row["open"], row["overdue"], row["closed"]) == (3, 3, 3, 0)
    assert generate.suggestions(content)[1][0] == city.school_a.pk  # criticised for them


def test_drafted_later_it_says_what_it_said_at_the_period_end(city):
    setup = make_setup_for(city)
    inspector, office, teacher = (city.users[r] for r in (Role.INSPECTOR, Role.OFFICE, Role.TEACHER))
    with time_machine.travel(at(D(2026, 11, 2)), tick=False):
        problem = ledger.problem_create(
            school=city.school_a,
            standard=setup.standards["1.1"],
            round_=setup.round,
            description="操场有垃圾",
            actor=inspector,
            severity="days",
            deadline_days=1,
        )
    with time_machine.travel(at(D(2026, 11, 6), 23), tick=False):
        on_the_day = _generate(setup, None)
    with time_machine.travel(at(D(2026, 11, 9)), tick=False):
        close(problem, teacher=teacher, office=office)
        second = ledger.problem_create(  # found after the period: neither listed nor counted
            school=city.school_a,
            standard=setup.standards["1.2"],
            round_=setup.round,
            description="公益广告缺失",
            actor=inspector,
        )
    later = _generate(setup, at(D(2026, 12, 20)))
    # Everything the same; only the minute it was taken differs (23:00 on the day, 23:59 the end).
    assert later.pop("as_of")[:10] == on_the_day.pop("as_of")[:10] == "2026-11-06"
    assert later == on_the_day
    assert [o["id"] for o in later["overdue"]] == [problem.pk]
    # A later period sees it closed, and counts it closed with its time to close.
    next_week = generate.generate(
        campaign=setup.campaign, period_start=D(2026, 11, 9), period_end=D(2026, 11, 13), now=None
    )
    assert next_week["headline"]["closed"] == 1
    assert [o["id"] for o in next_week["overdue"]] == [second.pk]  # 立行立改: due the day it was found
    assert next_week["headline"]["median_days_to_close"] == "7.0"


def test_history_folds_moves_deadlines_and_escalations():
    t = [at(D(2026, 11, d)) for d in range(1, 8)]
    deadline = at(D(2026, 11, 3), 18)
    events = [
        (t[0], ProblemEvent.Kind.CREATE, "", Status.NEW, {}),
        (t[0], ProblemEvent.Kind.MOVE, "assign", Status.ASSIGNED, {"deadline": deadline.isoformat()}),
        (t[3], ProblemEvent.Kind.ESCALATE, "", Status.ASSIGNED, {"bulletin": True}),
        (t[4], ProblemEvent.Kind.MOVE, "accept", Status.IN_PROGRESS, {}),
        (t[5], ProblemEvent.Kind.MOVE, "submit", Status.PENDING_REVIEW, {}),
        (t[6], ProblemEvent.Kind.MOVE, "approve", Status.CLOSED, {}),
    ]
    current = history.Current(Status.CLOSED, deadline, t[6], True)
    assert history.fold(events, at=t[1], current=current) == history.StateThen(
        Status.ASSIGNED, deadline, None, False
    )
    assert history.fold(events, at=t[3], current=current).escalated
    assert history.fold(events, at=t[6], current=current) == history.StateThen(
        Status.CLOSED, deadline, t[6], True
    )
    # History moved back as a block (the demo city): the deadlines inside the events are shifted too.
    moved = history.Current(Status.CLOSED, deadline - dt.timedelta(days=30), t[6], True)
    assert history.fold(events, at=t[1], current=moved).deadline == deadline - dt.timedelta(days=30)
    # No history at all: the row as it is.
    assert history.fold([], at=t[0], current=current) == history.StateThen(*(current.__dict__.values()))


def test_an_inspection_submitted_after_the_period_does_not_score_in_its_bulletin(city):
    """Scores, ranks and lost points count the inspections submitted by the period's end only: a school
    inspected after the period has no score in that period's bulletin, and has one in the next."""
    from chuangwen.inspections import services as inspections

    setup = make_setup_for(city)
    inspector = city.users[Role.INSPECTOR]
    with time_machine.travel(at(D(2026, 11, 10)), tick=False):  # the week after the period
        inspection = inspections.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
        inspections.answer_save(
            inspection=inspection, standard=setup.standards["1.1"], result="不达标", actor=inspector
        )
        inspections.inspection_submit(inspection=inspection, actor=inspector, partial=True)

    def scores(content):
        return {r["school_id"]: r["score"] for r in content["ranking"]}

    period = _generate(setup, at(D(2026, 11, 20)))
    assert scores(period).get(city.school_a.pk) is None
    assert period["lost"] == [] and period["headline"]["inspected_schools"] == 0
    later = generate.generate(
        campaign=setup.campaign,
        period_start=D(2026, 11, 9),
        period_end=D(2026, 11, 13),
        now=at(D(2026, 11, 20)),
    )
    assert scores(later)[city.school_a.pk] is not None
    assert [s["code"] for s in later["lost"]] == ["1.1"] and later["headline"]["inspected_schools"] == 1
