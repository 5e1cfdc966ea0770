"""Red and yellow cards by the rules, in a time-controlled scenario through the ledger's real services."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from chuangwen.accountability import cards
from chuangwen.accountability.models import CardPeriod, CardRules, Kind, Record, RecordEvent, Source
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.notify.models import Notification

from .factories import at, move_at, problem_on, setup_for, submit_at

D = dt.date
START = D(2026, 11, 2)  # period 1: 11-02 … 11-11; period 2: 11-12 … 11-21; period 3: 11-22 … 12-01


@pytest.fixture
def rules(db):
    return CardRules.objects.create(pk=1, threshold=3, period_days=10, repeat_days=30, start_date=START)


def _cards(school=None):
    qs = Record.objects.filter(kind__in=[Kind.YELLOW, Kind.RED])
    return qs.filter(unit=school) if school is not None else qs


def test_three_overdue_give_one_yellow_card_and_running_again_gives_nothing(city, rules):
    setup = setup_for(city)
    late = [problem_on(city, setup, D(2026, 11, 3)) for _ in range(3)]
    fixed = problem_on(city, setup, D(2026, 11, 3))
    submit_at(city, fixed, at(D(2026, 11, 3), 15))  # fixed in time: does not count
    for _ in range(2):  # two at school_c: below the threshold
        problem_on(city, setup, D(2026, 11, 4), school=city.school_c)

    # The period is not over on its last day: nothing yet.
    assert cards.cards_evaluate(as_of=at(D(2026, 11, 11), 23, 59)).periods == []
    assert not CardPeriod.objects.exists()

    result = cards.cards_evaluate(as_of=at(D(2026, 11, 12), 1))
    assert [(p.start, p.end) for p in result.periods] == [(D(2026, 11, 2), D(2026, 11, 11))]
    assert len(result.cards) == 1
    card = result.cards[0]
    assert (card.kind, card.unit, card.source, card.date) == (
        Kind.YELLOW,
        city.school_a,
        Source.RULES,
        D(2026, 11, 11),
    )
    assert set(card.problems.values_list("pk", flat=True)) == {p.pk for p in late}
    assert card.card_period.overdue_counts == {str(city.school_a.pk): 3, str(city.school_c.pk): 2}
    triggers = card.events.get(kind=RecordEvent.Kind.CREATE).data["triggers"]
    assert sorted(t["problem_id"] for t in triggers) == sorted(p.pk for p in late)
    # The onset is the deadline: the end of the day the problem was found.
    assert {t["overdue_at"][:10] for t in triggers} == {"2026-11-03"}
    assert AuditEvent.objects.filter(event_type="accountability.create", object_id=str(card.pk)).exists()
    assert Notification.objects.filter(
        kind="accountability.yellow", recipient=city.users[Role.SCHOOL_HEAD]
    ).exists()

    again = cards.cards_evaluate(as_of=at(D(2026, 11, 12), 9))
    assert again.periods == [] and again.cards == []
    assert _cards().count() == 1
    assert CardPeriod.objects.count() == 1


def test_a_repeat_within_the_window_is_a_red_card_following_the_yellow(city, rules):
    setup = setup_for(city)
    for _ in range(3):
        problem_on(city, setup, D(2026, 11, 3))
    for _ in range(3):
        problem_on(city, setup, D(2026, 11, 13))
    result = cards.cards_evaluate(as_of=at(D(2026, 11, 22), 1))
    assert len(result.periods) == 2
    yellow, red = sorted(result.cards, key=lambda c: c.date)
    assert yellow.kind == Kind.YELLOW and red.kind == Kind.RED
    assert red.follows == yellow
    assert "亮红牌" in red.reason
    # Problems already counted in period 1 (still overdue) do not count again in period 2.
    assert not set(red.problems.all()) & set(yellow.problems.all())


def test_a_repeat_after_the_window_is_yellow_again_and_a_revoked_card_is_no_repeat(city, rules):
    rules.repeat_days = 5
    rules.save()
    setup = setup_for(city)
    for _ in range(3):
        problem_on(city, setup, D(2026, 11, 3))
    cards.cards_evaluate(as_of=at(D(2026, 11, 12), 1))
    for _ in range(3):
        problem_on(city, setup, D(2026, 11, 23))  # period 3 begins 11 days after period 1 ended
    result = cards.cards_evaluate(as_of=at(D(2026, 12, 2), 1))
    assert [c.kind for c in result.cards] == [Kind.YELLOW]

    # Window wide enough, but the earlier card was revoked: yellow, not red.
    from chuangwen.accountability.services import record_revoke

    CardRules.objects.filter(pk=1).update(repeat_days=30)
    record_revoke(record=result.cards[0], reason="依据有误", actor=city.users[Role.OFFICE])
    for _ in range(3):
        problem_on(city, setup, D(2026, 12, 3))
    later = cards.cards_evaluate(as_of=at(D(2026, 12, 12), 1))
    assert [c.kind for c in later.cards] == [Kind.RED]  # the period-1 yellow is within 30 days
    assert later.cards[0].follows.card_period.start == START


def test_period_boundaries(city, rules):
    setup = setup_for(city)
    # Found on the first and last day of period 1: deadlines at the end of those days, inside the period.
    problem_on(city, setup, D(2026, 11, 2), hour=0)
    problem_on(city, setup, D(2026, 11, 11), hour=23)
    # Found the day before the period: its deadline passed before the period began.
    problem_on(city, setup, D(2026, 11, 1))
    # Found the first day of period 2.
    problem_on(city, setup, D(2026, 11, 12), hour=0)
    result = cards.cards_evaluate(as_of=at(D(2026, 11, 12), 1))
    assert result.cards == []
    assert result.periods[0].overdue_counts == {str(city.school_a.pk): 2}

    CardRules.objects.filter(pk=1).update(threshold=2)
    result = cards.cards_evaluate(as_of=at(D(2026, 11, 22), 1))
    assert result.cards == []  # period 2 had one
    assert result.periods[0].overdue_counts == {str(city.school_a.pk): 1}


def test_submitted_before_the_deadline_but_rejected_after_it_went_overdue_at_the_rejection(city, rules):
    setup = setup_for(city)
    office = city.users[Role.OFFICE]
    problems = [problem_on(city, setup, D(2026, 11, 3)) for _ in range(3)]
    for p in problems:
        submit_at(city, p, at(D(2026, 11, 3), 20))
    # Two are rejected after the deadline (back to the school, late); one is approved.
    for p in problems[:2]:
        move_at(p, "reject", office, at(D(2026, 11, 5), 9), reason="整改不到位")
    move_at(problems[2], "approve", office, at(D(2026, 11, 5), 9))
    CardRules.objects.filter(pk=1).update(threshold=2)
    result = cards.cards_evaluate(as_of=at(D(2026, 11, 12), 1))
    assert len(result.cards) == 1
    triggers = result.cards[0].events.get(kind="create").data["triggers"]
    assert {t["problem_id"] for t in triggers} == {problems[0].pk, problems[1].pk}
    assert {t["overdue_at"][:16] for t in triggers} == {"2026-11-05T09:00"}


def test_voided_problems_do_not_count(city, rules):
    setup = setup_for(city)
    problems = [problem_on(city, setup, D(2026, 11, 3)) for _ in range(3)]
    move_at(problems[0], "void", city.users[Role.OFFICE], at(D(2026, 11, 6)), reason="重复登记")
    result = cards.cards_evaluate(as_of=at(D(2026, 11, 12), 1))
    assert result.cards == []
    assert result.periods[0].overdue_counts == {str(city.school_a.pk): 2}


def test_a_deadline_extended_before_it_passed_is_not_overdue(city, rules):
    from chuangwen.ledger.services import problem_correct

    setup = setup_for(city)
    problems = [problem_on(city, setup, D(2026, 11, 3)) for _ in range(3)]
    with __import__("time_machine").travel(at(D(2026, 11, 3), 12), tick=False):
        problem_correct(
            problem=problems[0],
            changes={"deadline": at(D(2026, 11, 20), 18)},
            reason="需采购材料",
            actor=city.users[Role.OFFICE],
        )
    result = cards.cards_evaluate(as_of=at(D(2026, 11, 12), 1))
    assert result.cards == []
    # It went overdue on 11-20 instead, in period 2.
    result = cards.cards_evaluate(as_of=at(D(2026, 11, 22), 1))
    assert result.periods[0].overdue_counts == {str(city.school_a.pk): 1}


def test_the_office_button_and_nobody_else(city, rules):
    with pytest.raises(ValidationError) as exc:
        cards.cards_evaluate(as_of=at(D(2026, 11, 12), 1), actor=city.users[Role.SCHOOL_HEAD])
    assert exc.value.code == "forbidden"
    assert not CardPeriod.objects.exists()
    result = cards.cards_evaluate(as_of=at(D(2026, 11, 12), 1), actor=city.users[Role.OFFICE])
    assert result.periods[0].evaluated_by == city.users[Role.OFFICE]
    assert AuditEvent.objects.filter(event_type="accountability.cards_evaluate").count() == 1


def test_disabled_rules_evaluate_nothing(city, rules):
    CardRules.objects.filter(pk=1).update(enabled=False)
    assert cards.cards_evaluate(as_of=at(D(2026, 12, 30), 1)).periods == []


def test_first_run_without_rules_fixes_the_start_date(db):
    result = cards.cards_evaluate(as_of=at(D(2026, 11, 12), 1))
    assert result.periods == []
    assert CardRules.objects.get(pk=1).start_date is not None


def test_rules_save_validates_and_audits(city, rules):
    office = city.users[Role.OFFICE]
    values = {"threshold": 4, "period_days": 15, "repeat_days": 45, "start_date": START, "enabled": True}
    saved = cards.card_rules_save(values=values, actor=office)
    assert (saved.threshold, saved.period_days, saved.repeat_days) == (4, 15, 45)
    event = AuditEvent.objects.filter(event_type="accountability.rules").last()
    assert event.data["before"]["threshold"] == 3 and event.data["after"]["threshold"] == 4
    for bad in ({"threshold": 0}, {"period_days": 0}, {"repeat_days": -1}, {"start_date": "2026-01-01"}):
        with pytest.raises(ValidationError):
            cards.card_rules_save(values={**values, **bad}, actor=office)
    with pytest.raises(ValidationError) as exc:
        cards.card_rules_save(values=values, actor=city.users[Role.LEADER])
    assert exc.value.code == "forbidden"
    # Evaluated periods are not re-cut: the start date can only move past them.
    cards.cards_evaluate(as_of=at(D(2026, 11, 30), 1))
    with pytest.raises(ValidationError):
        cards.card_rules_save(values={**values, "start_date": D(2026, 11, 3)}, actor=office)
    assert CardRules.objects.get(pk=1).threshold == 4


def _ev(at_, to="", kind="move", move="", deadline=None, after=None):
    data = {}
    if deadline is not None:
        data["deadline"] = deadline.isoformat()
    if after is not None:
        data["after"] = {"deadline": after.isoformat()}
    return SimpleNamespace(at=at_, to_status=to, kind=kind, move=move, data=data)


def test_onsets_of_reads_the_history():
    t = lambda h: dt.datetime(2026, 11, 3, h, tzinfo=dt.UTC)  # noqa: E731
    deadline = t(12)
    assigned = [_ev(t(1), "new", kind="create"), _ev(t(2), "assigned", move="assign", deadline=deadline)]
    # Never acted on: overdue at the deadline.
    assert cards.onsets_of(assigned, until=t(20)) == [deadline]
    # Not yet past the deadline at `until`.
    assert cards.onsets_of(assigned, until=t(11)) == []
    # Submitted exactly at the deadline: in time.
    assert cards.onsets_of([*assigned, _ev(deadline, "pending_review", move="submit")], until=t(20)) == []
    # Photos and reminders in between change nothing.
    noisy = [*assigned, _ev(t(13), "", kind="photo"), _ev(t(14), "", kind="remind")]
    assert cards.onsets_of(noisy, until=t(20)) == [deadline]
    # Extended before it passed, then the new deadline passed.
    extended = [*assigned, _ev(t(11), "", kind="edit", after=t(15))]
    assert cards.onsets_of(extended, until=t(20)) == [t(15)]
    # Overdue, extended, overdue again: two onsets.
    twice = [*assigned, _ev(t(13), "", kind="edit", after=t(15))]
    assert cards.onsets_of(twice, until=t(20)) == [deadline, t(15)]
    # Demo-style block shift: the problem's deadline is an hour earlier than the events say.
    assert cards.onsets_of(assigned, until=t(20), current_deadline=t(11)) == [t(11)]


def test_the_worker_runs_the_evaluation():
    from chuangwen.core.management.commands.worker import _loops

    assert cards.CardsThread in _loops
    thread = cards.CardsThread()
    assert thread.daemon and thread.name == "accountability-cards"


def test_a_button_press_evaluates_a_few_periods_the_worker_the_rest(city, rules):
    office = city.users[Role.OFFICE]
    as_of = at(START + dt.timedelta(days=10 * 9), 1)  # nine periods are over
    first = cards.cards_evaluate(as_of=as_of, actor=office)
    assert len(first.periods) == cards.MAX_PERIODS_PER_CLICK and first.more
    rest = cards.cards_evaluate(as_of=as_of)
    assert len(rest.periods) == 9 - cards.MAX_PERIODS_PER_CLICK and not rest.more
    starts = sorted(CardPeriod.objects.values_list("start", flat=True))
    assert starts == [START + dt.timedelta(days=10 * i) for i in range(9)]  # back to back, no gaps


def test_a_card_given_by_hand_counts_as_the_earlier_card(city, rules):
    from chuangwen.accountability.services import record_create

    setup = setup_for(city)
    cards.cards_evaluate(as_of=at(D(2026, 11, 12), 1))  # period 1: nothing
    manual = record_create(
        kind=Kind.YELLOW,
        unit=city.school_a,
        reason="暗访发现问题突出",
        date=D(2026, 11, 8),
        actor=city.users[Role.OFFICE],
    )
    for _ in range(3):
        problem_on(city, setup, D(2026, 11, 14))
    result = cards.cards_evaluate(as_of=at(D(2026, 11, 22), 1))
    assert [(c.kind, c.follows) for c in result.cards] == [(Kind.RED, manual)]
