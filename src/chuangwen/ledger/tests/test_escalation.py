"""The overdue ladder, run with a time machine across the 2026 National Day holiday."""

import datetime as dt

import pytest
import time_machine

from chuangwen.core import calendar
from chuangwen.core.audit import verify_chain
from chuangwen.core.calendar import SHANGHAI
from chuangwen.core.models import AuditEvent, EvidencePhoto
from chuangwen.core.roles import Role
from chuangwen.ledger import services
from chuangwen.ledger.escalation import run_escalation
from chuangwen.ledger.models import LedgerSettings, ProblemEvent
from chuangwen.notify.models import Notification

from .factories import make_problem, make_setup, noisy_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.invalidate()
    yield
    calendar.invalidate()


def at(*args):
    return dt.datetime(*args, tzinfo=SHANGHAI)


def run(when):
    with time_machine.travel(when, tick=False):
        return run_escalation()


def told(kind, since_pk=0):
    return set(Notification.objects.filter(kind=kind, pk__gt=since_pk).values_list("recipient_id", flat=True))


@pytest.fixture
def overdue(city):
    """An immediate (立行立改) problem found on the eve of the 2026 National Day holiday."""
    setup = make_setup(city)
    with time_machine.travel(at(2026, 9, 30, 10), tick=False):
        return make_problem(city, setup)


def test_the_ladder_fires_on_working_days_only_and_stops_when_fixed(city, overdue):
    u = city.users
    problem = overdue
    # Not yet overdue on the day itself; then the holiday (10-01..10-07) passes without a word.
    assert run(at(2026, 9, 30, 18)) == 0
    for day in range(1, 8):
        assert run(at(2026, 10, day, 10)) == 0, f"10-{day:02d} is a day off"
    assert not problem.events.filter(kind__in=["escalate", "remind"]).exists()

    # Thu 10-08, the first working day overdue: step 0 (liaison + school head) and the daily reminder.
    last = Notification.objects.order_by("-pk").first().pk
    assert run(at(2026, 10, 8, 9)) == 2
    assert told("problem.escalated", last) == {u[Role.LIAISON].pk, u[Role.SCHOOL_HEAD].pk}
    assert told("problem.reminder", last) == {u[Role.TEACHER].pk}
    assert run(at(2026, 10, 8, 15)) == 0  # once a day

    # Fri 10-09: one working day later, the department head.
    last = Notification.objects.order_by("-pk").first().pk
    assert run(at(2026, 10, 9, 9)) == 2
    assert told("problem.escalated", last) == {u[Role.DEPT_HEAD].pk}

    # Sat 10-10 is a make-up working day: a reminder, no new step (the leader comes after three).
    assert run(at(2026, 10, 10, 9)) == 1
    assert run(at(2026, 10, 11, 9)) == 0  # Sunday

    # Mon 10-12: the leader, and the problem is listed for the next bulletin.
    last = Notification.objects.order_by("-pk").first().pk
    assert run(at(2026, 10, 12, 9)) == 2
    assert told("problem.escalated", last) == {u[Role.LEADER].pk}
    problem.refresh_from_db()
    assert problem.listed_for_bulletin and problem.escalation_level == 3

    # Fixed: the school submits; nothing more fires.
    with time_machine.travel(at(2026, 10, 12, 11), tick=False):
        services.problem_move(problem=problem, code="accept", actor=u[Role.TEACHER])
        services.problem_add_photo(
            problem=problem, file=noisy_jpeg(7), purpose=EvidencePhoto.Purpose.AFTER, actor=u[Role.TEACHER]
        )
        services.problem_move(
            problem=problem, code="submit", actor=u[Role.TEACHER], cause="保洁缺位", measures="已清理"
        )
    assert run(at(2026, 10, 13, 9)) == 0

    steps = list(problem.events.filter(kind=ProblemEvent.Kind.ESCALATE).values_list("data__level", flat=True))
    assert steps == [1, 2, 3]
    reminders = problem.events.filter(kind=ProblemEvent.Kind.REMIND)
    assert [timezone_date(e.at) for e in reminders] == [
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
        dt.date(2026, 10, 10),
        dt.date(2026, 10, 12),
    ]
    # Every step is in the audit chain, and the chain verifies.
    assert AuditEvent.objects.filter(event_type="problem.escalate", object_id=str(problem.pk)).count() == 3
    assert verify_chain().ok


def timezone_date(moment):
    return moment.astimezone(SHANGHAI).date()


def test_a_changed_ladder_and_no_daily_reminders(city, overdue):
    LedgerSettings.objects.create(
        pk=1,
        remind_daily=False,
        ladder=[{"after": 0, "roles": ["leader", "responsible"], "label": "直报局领导"}],
    )
    assert run(at(2026, 10, 8, 9)) == 1
    assert told("problem.escalated") == {city.users[Role.LEADER].pk, city.users[Role.TEACHER].pk}
    assert not told("problem.reminder")
    assert run(at(2026, 10, 9, 9)) == 0


def test_an_extended_deadline_resets_the_ladder(city, overdue):
    run(at(2026, 10, 8, 9))
    with time_machine.travel(at(2026, 10, 8, 10), tick=False):
        services.problem_correct(
            problem=overdue,
            changes={"deadline": calendar.end_of_day(dt.date(2026, 10, 9))},
            reason="材料需外购，延期一天",
            actor=city.users[Role.OFFICE],
        )
    overdue.refresh_from_db()
    assert overdue.escalation_level == 0
    assert run(at(2026, 10, 9, 9)) == 0  # not overdue any more
    assert run(at(2026, 10, 10, 9)) == 2  # the make-up Saturday: overdue again, step 0 + reminder


def test_the_worker_thread_is_registered():
    from chuangwen.core.management.commands.worker import _loops
    from chuangwen.ledger.escalation import EscalationThread

    assert EscalationThread in _loops
