"""The demo city: its shape, its accounts and their reach, idempotence, refresh, and the demo-mode guard.

The city is built once for the module inside a transaction that is rolled back at the end, so other
modules never see it; each test runs in its own savepoint on top of it.
"""

import datetime as dt
import sys
from io import StringIO

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from chuangwen.accountability.models import CardPeriod, Kind, Record
from chuangwen.accounts.models import User
from chuangwen.bulletins.models import Bulletin
from chuangwen.campaigns.models import Campaign, Round
from chuangwen.core import access, audit
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import BUREAU_ROLES, Role
from chuangwen.demo.city import (
    DEMO_DISTRICT,
    DEMO_PASSWORD,
    DEMO_SCHOOL,
    DEPARTMENTS,
    SECOND_SCHOOL,
    USERS,
    build_demo_city,
    generate_city,
)
from chuangwen.duty.models import BureauAssignment, SchoolAssignment
from chuangwen.inspections.models import Answer, Inspection
from chuangwen.ledger.models import Problem, ProblemEvent
from chuangwen.notify.models import Notification
from chuangwen.org.models import HUGE_CLASS_MIN, LARGE_CLASS_MIN, Grade, Membership, SchoolClass, Unit

pytestmark = pytest.mark.django_db

EXPECTED_GRADES = {
    "kindergarten": {Grade.K1, Grade.K2, Grade.K3},  # plus 托班 in some
    "primary": set(range(Grade.G1, Grade.G6 + 1)),
    "junior": {Grade.G7, Grade.G8, Grade.G9},
    "nine_year": set(range(Grade.G1, Grade.G9 + 1)),
    "senior": {Grade.S1, Grade.S2, Grade.S3},
    "complete": {Grade.G7, Grade.G8, Grade.G9, Grade.S1, Grade.S2, Grade.S3},
    "vocational": {Grade.S1, Grade.S2, Grade.S3},
    "special": set(range(Grade.G1, Grade.G9 + 1)),
}


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        out = StringIO()
        try:
            call_command("demo", stdout=out)
        except BaseException:
            outer.__exit__(*sys.exc_info())
            raise
    try:
        yield out.getvalue()
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def snapshot() -> dict:
    """Every demo-relevant row, minus timestamps, so two snapshots compare equal iff nothing changed."""
    return {
        "units": sorted(
            Unit.objects.values_list(
                "code",
                "kind",
                "name",
                "parent__code",
                "path",
                "school_type",
                "ownership",
                "address",
                "enrolment",
                "staff_count",
                "is_active",
            )
        ),
        "classes": sorted(
            SchoolClass.objects.values_list(
                "school__code",
                "grade",
                "name",
                "head_teacher_name",
                "head_teacher__username",
                "student_count",
            )
        ),
        "users": sorted(
            User.objects.values_list("username", "name", "phone", "is_active", "is_staff", "password")
        ),
        "memberships": sorted(
            Membership.objects.values_list("user__username", "unit__code", "role", "title")
        ),
        "audit_events": AuditEvent.objects.count(),
        "campaign": [
            SchoolAssignment.objects.count(),
            BureauAssignment.objects.count(),
            Campaign.objects.count(),
            Round.objects.count(),
            Inspection.objects.count(),
            Answer.objects.count(),
            Problem.objects.count(),
            ProblemEvent.objects.count(),
            Notification.objects.count(),
        ],
        "accountability": [
            Bulletin.objects.count(),
            Record.objects.count(),
            CardPeriod.objects.count(),
        ],
    }


def test_generation_is_deterministic():
    assert generate_city() == generate_city()
    assert generate_city(seed=1) != generate_city()


def test_refuses_outside_demo_mode():
    before = (Unit.objects.count(), User.objects.count())
    with override_settings(CHUANGWEN_DEMO=False), pytest.raises(CommandError, match="未启用演示模式"):
        call_command("demo", stdout=StringIO())
    assert (Unit.objects.count(), User.objects.count()) == before


def test_output_lists_accounts_password_and_timing(demo_output):
    for username, name, _role, unit_name, *_ in USERS:
        assert username in demo_output
        assert name in demo_output
        assert unit_name in demo_output
    assert DEMO_PASSWORD in demo_output
    assert "用时" in demo_output
    assert "新建单位 215" in demo_output


def test_bureau_departments_and_districts(demo_output):
    bureau = Unit.objects.get(kind=Unit.Kind.BUREAU, name="清河市教育体育局")
    departments = set(
        Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, parent=bureau).values_list("name", flat=True)
    )
    assert departments == set(DEPARTMENTS)
    assert any("创文" in d for d in departments)
    districts = Unit.objects.filter(kind=Unit.Kind.DISTRICT, parent=bureau)
    assert sorted(districts.values_list("name", flat=True)) == ["东阳县", "城关区", "河西区"]


def test_schools_cover_every_type_with_plausible_facts(demo_output):
    schools = Unit.objects.filter(
        kind=Unit.Kind.SCHOOL, path__startswith=Unit.objects.get(code="419900-JTJ").path
    )
    assert schools.count() == 200
    by_type = dict(schools.values_list("school_type").annotate(n=Count("id")))
    assert set(by_type) == set(Unit.SchoolType.values)
    assert by_type["primary"] == max(by_type.values())
    assert by_type["kindergarten"] > 50
    assert 1 <= by_type["special"] <= 2
    assert schools.filter(ownership=Unit.Ownership.PRIVATE).count() > 20
    assert schools.filter(parent__kind=Unit.Kind.DISTRICT).count() > 150  # the rest are 市直
    for school in schools.select_related("parent"):
        assert len(school.code) == 10 and school.code.isdigit()
        assert school.address.startswith("清河市")
        assert school.enrolment > 0 and school.staff_count > 0
        assert school.path == school.expected_path()
        school.full_clean()
    names = list(schools.values_list("name", flat=True))
    assert len(names) == len(set(names))
    for name in (
        "清河市第一实验小学",
        "城关区东关小学",
        "清河市第三中学",
        "河西区阳光幼儿园",
        "清河市特殊教育学校",
        "清河市职业技术学校",
    ):
        assert name in names


def test_classes_fit_each_school_type(demo_output):
    schools = {s.pk: s for s in Unit.objects.filter(kind=Unit.Kind.SCHOOL)}
    grades: dict[int, set] = {}
    sizes: dict[int, int] = {}
    for school_id, grade, count in SchoolClass.objects.values_list("school_id", "grade", "student_count"):
        grades.setdefault(school_id, set()).add(grade)
        sizes[school_id] = sizes.get(school_id, 0) + count
    assert set(grades) == set(schools)
    for pk, school in schools.items():
        expected = EXPECTED_GRADES[school.school_type]
        got = grades[pk] - ({Grade.NURSERY} if school.school_type == "kindergarten" else set())
        assert got == expected, school.name
        assert sizes[pk] == school.enrolment, school.name
    assert 3000 < SchoolClass.objects.count() < 6000
    assert not SchoolClass.objects.filter(head_teacher_name="").exists()


def test_some_large_and_a_few_huge_classes(demo_output):
    large = SchoolClass.objects.filter(student_count__gte=LARGE_CLASS_MIN, student_count__lt=HUGE_CLASS_MIN)
    huge = SchoolClass.objects.filter(student_count__gte=HUGE_CLASS_MIN)
    total = SchoolClass.objects.count()
    assert 0.02 * total < large.count() < 0.10 * total
    assert 1 <= huge.count() < large.count() / 5
    assert not large.filter(school__school_type__in=["kindergarten", "special"]).exists()
    # Kindergarten and special-education classes stay small.
    assert not SchoolClass.objects.filter(school__school_type="kindergarten", student_count__gt=40).exists()
    assert not SchoolClass.objects.filter(school__school_type="special", student_count__gt=12).exists()


def test_demo_password_satisfies_the_policy(demo_output):
    for user in User.objects.filter(username__in=[u[0] for u in USERS]):
        validate_password(DEMO_PASSWORD, user)


@pytest.mark.parametrize(("username", "role", "unit_name"), [(u[0], u[2], u[3]) for u in USERS])
def test_every_account_logs_in_and_sees_its_scope(demo_output, client, username, role, unit_name):
    user = User.objects.get(username=username)
    assert user.phone and user.masked_phone.count("*") == 4
    response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:300]
    assert client.session[SESSION_KEY] == str(user.pk)
    home = client.get("/")
    assert home.status_code == 200
    assert unit_name in home.content.decode()

    assert access.roles_of(user) == {role}
    visible = access.visible_schools(user)
    if unit_name == DEMO_DISTRICT:  # the district's 创文办 reaches its district's schools, no others
        district = Unit.objects.get(kind=Unit.Kind.DISTRICT, name=DEMO_DISTRICT)
        assert set(visible) == set(Unit.objects.filter(kind=Unit.Kind.SCHOOL, parent=district))
        assert 50 < visible.count() < Unit.objects.filter(kind=Unit.Kind.SCHOOL).count()
    elif role in BUREAU_ROLES:
        assert visible.count() == Unit.objects.filter(kind=Unit.Kind.SCHOOL).count()
    else:
        assert list(visible.values_list("name", flat=True)) == [unit_name]
    api = client.get("/api/schools")
    assert api.status_code == 200
    assert api.json()["count"] == visible.count()


def test_teacher_is_head_of_a_class(demo_output):
    teacher = User.objects.get(username="teacher")
    klass = SchoolClass.objects.get(head_teacher=teacher)
    assert klass.school.name == DEMO_SCHOOL
    assert klass.head_teacher_name == teacher.name
    assert str(klass) == "三年级2班"
    liaison2 = User.objects.get(username="liaison2")
    assert set(access.visible_classes(liaison2).values_list("school__name", flat=True)) == {SECOND_SCHOOL}


def test_second_run_changes_nothing(demo_output):
    before = snapshot()
    out = StringIO()
    call_command("demo", stdout=out)
    assert "未作任何改动" in out.getvalue()
    assert snapshot() == before
    assert audit.verify_chain().ok


def test_refresh_restores_edited_demo_data(demo_output):
    before = snapshot()
    school = Unit.objects.get(name=DEMO_SCHOOL)
    Unit.objects.filter(pk=school.pk).update(name="改过的名字", enrolment=1, is_active=False)
    district = Unit.objects.get(name="城关区")
    moved = Unit.objects.filter(parent=district).first()
    moved.parent = Unit.objects.get(name="河西区")
    moved.save()
    klass = SchoolClass.objects.filter(school=school).first()
    SchoolClass.objects.filter(pk=klass.pk).update(student_count=99, head_teacher_name="")
    SchoolClass.objects.create(school=school, grade=Grade.G1, name="临时班", student_count=30)
    liaison = User.objects.get(username="liaison")
    liaison.name, liaison.is_active = "别人", False
    liaison.set_password("Another#Pass2026")
    liaison.save()
    Membership.objects.create(user=liaison, unit=district, role=Role.OFFICE)
    Membership.objects.filter(user__username="leader").delete()

    report = build_demo_city()

    assert report.changes["units.updated"] == 2
    assert report.changes["classes.updated"] == 1
    assert report.changes["classes.deleted"] == 1
    assert report.changes["users.updated"] == 1
    assert report.changes["roles.revoked"] == 1
    assert report.changes["roles.granted"] == 1
    after = snapshot()
    assert after.pop("audit_events") > before.pop("audit_events")
    # The password is set again, so its salted hash differs; compare everything else.
    for state in (before, after):
        state["users"] = [row[:-1] for row in state["users"]]
    assert after == before
    assert AuditEvent.objects.filter(event_type="demo.build").count() == 2
    assert User.objects.get(username="liaison").check_password(DEMO_PASSWORD)


# --- the campaign: reference edition, responsibilities, rounds, inspections, the problem ledger -----------


def test_demo_publishes_the_reference_edition_and_owns_every_applicable_pair(demo_output):
    from chuangwen.index.models import Edition, Standard

    edition = Edition.objects.get(code="ref-2026")
    assert edition.status == Edition.Status.PUBLISHED
    standards = list(Standard.objects.filter(edition=edition))
    types = list(Unit.objects.filter(kind=Unit.Kind.SCHOOL).values_list("school_type", flat=True))
    applicable = sum(1 for s in standards for t in types if t in s.school_types)
    assignments = SchoolAssignment.objects.filter(standard__edition=edition)
    assert applicable > 10_000
    assert assignments.count() == applicable
    assert not assignments.filter(owner__isnull=True).exists()
    assert not assignments.filter(leader__isnull=True).exists()
    with_department = [s for s in standards if s.lead_department_id]
    assert BureauAssignment.objects.filter(standard__edition=edition, person__isnull=False).count() == len(
        with_department
    )


def _campaign():
    from chuangwen.campaigns.models import Campaign
    from chuangwen.demo.problems import CAMPAIGN_NAME

    return Campaign.objects.get(name=CAMPAIGN_NAME)


def test_campaign_has_a_round_of_each_kind(demo_output):
    from chuangwen.campaigns.models import Round
    from chuangwen.campaigns.selectors import followed_problem_ids
    from chuangwen.ledger.models import DONE_STATUSES, Problem

    campaign = _campaign()
    assert campaign.edition.code == "ref-2026"
    rounds = {r.kind: r for r in campaign.rounds.all()}
    assert set(rounds) == set(Round.Kind.values)
    assert rounds["self"].status == "finished"
    assert rounds["self"].schools.count() == Unit.objects.filter(kind=Unit.Kind.SCHOOL).count()
    mock = rounds["mock"]
    assert mock.status == "finished" and mock.is_sampled and mock.schools.count() == 30
    assert sum(s["drawn"] for s in mock.sample_strata.values()) == 30
    assert len(mock.sample_strata) >= 6  # stratified over the school types
    assert {DEMO_SCHOOL, SECOND_SCHOOL} <= set(mock.schools.values_list("name", flat=True))
    unannounced = rounds["unannounced"]
    assert unannounced.status == "in_progress"
    assert list(unannounced.inspectors.values_list("username", flat=True)) == ["inspector"]
    follow = rounds["follow_up"]
    assert follow.status == "planned" and list(follow.previous_rounds.all()) == [mock]
    unfinished = Problem.objects.filter(round=mock).exclude(status__in=DONE_STATUSES)
    assert set(follow.schools.all()) == {p.school for p in unfinished}
    assert sorted(followed_problem_ids(follow)) == sorted(unfinished.values_list("pk", flat=True))


def test_mock_inspections_answer_every_applicable_standard_with_realistic_results(demo_output):
    from collections import Counter

    from chuangwen.inspections.models import Answer, Inspection
    from chuangwen.inspections.services import applicable_standards

    mock = _campaign().rounds.get(kind="mock")
    inspections = list(Inspection.objects.filter(round=mock).select_related("school", "round__campaign"))
    assert len(inspections) == 30
    for inspection in inspections:
        assert inspection.status == Inspection.Status.SUBMITTED
        expected = {s.pk for s in applicable_standards(mock, inspection.school)}
        assert set(inspection.answers.values_list("standard_id", flat=True)) == expected
    results = Counter(Answer.objects.filter(inspection__round=mock).values_list("result", flat=True))
    graded = results["达标"] + results["基本达标"] + results["不达标"]
    assert results["达标"] > 0.75 * graded
    assert 0 < results["不达标"] < results["基本达标"] < results["达标"]
    vetoed = [i for i in inspections if i.vetoed]
    assert len(vetoed) == 1 and vetoed[0].score == 0 and vetoed[0].raw_score > 60
    scores = [i.score for i in inspections if not i.vetoed]
    assert len(set(scores)) > 10 and min(scores) > 60


def test_ledger_has_problems_in_every_status(demo_output):
    from chuangwen.ledger.deadlines import light
    from chuangwen.ledger.models import Light, Problem, Severity, Status

    problems = list(Problem.objects.filter(round__campaign=_campaign()))
    statuses = {p.status for p in problems}
    assert statuses == set(Status.values)
    lights = {light(p) for p in problems}
    assert {Light.RED, Light.YELLOW, Light.GREEN} <= lights
    closed = [p for p in problems if p.status == Status.CLOSED]
    assert closed and all(p.rechecked_by_id and p.closed_at and p.measures for p in closed)
    [void] = [p for p in problems if p.status == Status.VOID]
    assert void.void_reason
    assert any(p.reopen_count for p in problems)
    [long] = [p for p in problems if p.severity == Severity.LONG]
    assert long.milestones.count() == 3 and long.milestones.filter(done_at__isnull=False).count() == 1
    # Events tell the story in order, and the audit chain (with the demo's back-dating record) holds.
    for problem in problems:
        times = [e.at for e in problem.events.all()]
        assert times == sorted(times) and times[0] >= problem.found_at - dt.timedelta(seconds=1)
    assert AuditEvent.objects.filter(event_type="demo.backdate").count() == 1
    assert audit.verify_chain().ok


def test_problems_take_a_plausible_time_to_close_with_their_events_in_order(demo_output):
    """The mock round's problems were found during the round and closed a realistic time later: 立行立改
    the same day (now and then the next), 限期整改 within days (some late); the dashboard's median days
    to close is above zero; every problem's events, in the order they were written, are in time order and
    agree with the problem's own times and deadline."""
    from decimal import Decimal

    from chuangwen.core.calendar import shanghai_date
    from chuangwen.ledger import deadlines
    from chuangwen.ledger.models import Severity, Status
    from chuangwen.reports.figures import city_figures

    campaign = _campaign()
    figures = city_figures(campaign=campaign)
    assert figures.median_days_to_close > 0
    assert Decimal("0.5") <= figures.median_days_to_close <= Decimal("7")
    assert Decimal("50") <= figures.rectification_rate <= Decimal("85")

    now = dt.datetime.now(dt.UTC)
    problems = Problem.objects.filter(round__campaign=campaign).prefetch_related("events")
    for problem in problems:
        events = sorted(problem.events.all(), key=lambda e: e.pk)  # as written, not as ordered by time
        times = [e.at for e in events]
        assert times == sorted(times), problem.pk
        assert problem.found_at <= times[0] + dt.timedelta(seconds=1) and times[-1] <= now
        moves = {e.move: e.at for e in events if e.kind == ProblemEvent.Kind.MOVE}  # the last of each
        if problem.closed_at is not None:
            assert problem.status == Status.CLOSED and problem.found_at <= problem.closed_at
            assert problem.closed_at == moves["approve"] == problem.rechecked_at
        for name, move in (("accepted_at", "accept"), ("submitted_at", "submit")):
            assert getattr(problem, name) == moves.get(move), (problem.pk, name)

    mock = list(problems.filter(round__kind=Round.Kind.MOCK).exclude(severity=Severity.LONG))
    round_ = mock[0].round
    closed = [p for p in mock if p.status == Status.CLOSED]
    for problem in mock:
        assert round_.start_date <= shanghai_date(problem.found_at) <= round_.end_date
        if problem.assigned_at is not None:  # the deadline the ledger would have set at that assignment
            expected = deadlines.compute(
                severity=problem.severity, start=problem.assigned_at, days=problem.deadline_days
            )
            assert problem.deadline == expected.at, problem.pk
    immediate = [p for p in closed if p.severity == Severity.IMMEDIATE]
    same_day = [p for p in immediate if shanghai_date(p.closed_at) == shanghai_date(p.found_at)]
    assert immediate and len(same_day) >= 0.6 * len(immediate)
    limited = [p for p in closed if p.severity == Severity.DAYS]
    on_time = [p for p in limited if p.submitted_at <= p.deadline]
    assert limited and 0.6 * len(limited) <= len(on_time) < len(limited)  # some late
    assert all(p.closed_at - p.found_at > dt.timedelta(hours=12) for p in limited)
    assert all(p.closed_at - p.found_at < dt.timedelta(days=21) for p in closed)


def test_demo_accounts_see_meaningful_problems_and_rounds(demo_output):
    from chuangwen.campaigns.selectors import visible_rounds
    from chuangwen.ledger.deadlines import light
    from chuangwen.ledger.models import Light
    from chuangwen.ledger.selectors import visible_problems

    liaison = User.objects.get(username="liaison")
    school = Unit.objects.get(name=DEMO_SCHOOL)
    visible = list(visible_problems(liaison))
    mine = [p for p in visible if liaison.pk == p.responsible_id or p.school_id == school.pk]
    assert {Light.RED, Light.YELLOW} <= {light(p) for p in mine}
    assert all(p.school_id == school.pk for p in visible_problems(liaison))
    # The unannounced round: the demo school's inspection is submitted, so its staff see it; a school of the
    # round not yet visited does not.
    unannounced = _campaign().rounds.get(kind="unannounced")
    assert unannounced in visible_rounds(liaison)
    unvisited = unannounced.schools.exclude(inspections__round=unannounced).first()
    stranger = Membership.objects.filter(unit=unvisited, role=Role.LIAISON).first().user
    assert unannounced not in visible_rounds(stranger)
    inspector = User.objects.get(username="inspector")
    assert unannounced in visible_rounds(inspector)
    submitted = Inspection.objects.filter(round=unannounced, status=Inspection.Status.SUBMITTED)
    assert submitted.count() == 3
    assert unannounced.schools.count() - submitted.count() >= 8  # still to inspect
    liaison2 = User.objects.get(username="liaison2")
    assert visible_problems(liaison2).exists()


def test_demo_has_bulletins_and_accountability_records(demo_output, client):
    """An issued bulletin (numbered, in the schools' inboxes, downloadable), a draft, 通报表扬 and 通报批评
    from the bulletin, a 约谈 awaiting the demo school head's acknowledgement, and 黄牌 by the rules."""
    from chuangwen.accountability.services import may_acknowledge

    campaign = _campaign()
    [issued] = Bulletin.objects.filter(campaign=campaign, status=Bulletin.Status.ISSUED)
    assert issued.number == f"清教体创文〔{issued.year}〕1号"
    assert issued.round.kind == Round.Kind.MOCK and issued.content_sha256
    assert Bulletin.objects.filter(campaign=campaign, status=Bulletin.Status.DRAFT).count() == 1
    inbox = Notification.objects.filter(kind="bulletin.issued")
    assert set(inbox.values_list("unit_id", flat=True)) == set(issued.recipients.values_list("pk", flat=True))
    assert inbox.filter(recipient__username="principal").exists()

    by_bulletin = Record.objects.filter(bulletin=issued)
    commended = set(by_bulletin.filter(kind=Kind.COMMEND).values_list("unit_id", flat=True))
    criticised = set(by_bulletin.filter(kind=Kind.CRITICISE).values_list("unit_id", flat=True))
    assert commended and criticised and not commended & criticised
    assert commended == set(issued.content["commended_ids"])
    assert criticised == set(issued.content["criticised_ids"])

    school = Unit.objects.get(name=DEMO_SCHOOL)
    principal = User.objects.get(username="principal")
    [talk] = Record.objects.filter(kind=Kind.TALK)
    assert talk.unit == school and talk.talk_at > talk.created_at and talk.talk_place
    assert talk.acknowledged_at is None and may_acknowledge(principal, talk)
    assert talk.problems.exists()
    cards = Record.objects.filter(kind=Kind.YELLOW, card_period__isnull=False)
    assert cards.exists() and all(c.problems.count() >= 3 for c in cards)
    assert CardPeriod.objects.exists()

    # The school head reads the bulletin and the talk; the Word file downloads.
    client.force_login(principal)
    assert client.get(f"/bulletins/{issued.pk}/").status_code == 200
    docx = client.get(f"/bulletins/{issued.pk}/docx/")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    page = client.get(f"/accountability/{talk.pk}/")
    assert page.status_code == 200 and "确认" in page.content.decode()
    assert audit.verify_chain().ok


# --- the demo's clock: `chuangwen demo --refresh` keeps the lights as loaded ------------------------------


def _lights(problems, now):
    from chuangwen.ledger.deadlines import light

    return {p.pk: light(p, now=now) for p in problems.all()}


def test_refresh_keeps_the_lights_as_they_were_loaded(demo_output):
    """Ten days later every waiting demo problem would be red; the refresh moves the waiting deadlines on by
    ten days, so each light is what it was at load time, records it once, and a second refresh changes
    nothing. A deadline someone set since the load is real and stays."""
    import time_machine

    from chuangwen.demo.refresh import refresh_demo_clock
    from chuangwen.ledger.models import Light, Status
    from chuangwen.ledger.services import problem_move

    campaign = _campaign()
    problems = Problem.objects.filter(round__campaign=campaign)
    loaded = AuditEvent.objects.get(event_type="demo.backdate").created_at
    at_load = _lights(problems, loaded)
    assert {Light.RED, Light.YELLOW, Light.GREEN} <= set(at_load.values())
    later = loaded + dt.timedelta(days=10)
    unrefreshed = _lights(problems, later)
    assert Light.YELLOW not in unrefreshed.values()  # what the refresh is for: the yellow went red

    # Someone trying the demo reopens a closed problem just after loading: its fresh deadline is real.
    closed = problems.filter(status=Status.CLOSED).order_by("pk").first()
    with time_machine.travel(loaded + dt.timedelta(minutes=30), tick=False):
        reopened = problem_move(
            problem=closed, code="reopen", reason="演示时重新打开", actor=User.objects.get(username="office")
        )
    real_deadline = reopened.deadline
    before = {p.pk: (p.deadline, p.found_at, p.closed_at) for p in problems.all()}
    events_before = sorted(ProblemEvent.objects.values_list("pk", "at"))

    with time_machine.travel(later, tick=False):
        report = refresh_demo_clock()
        assert report.changed and report.delta == dt.timedelta(days=10)
        assert _lights(problems.exclude(pk=reopened.pk), later) == {
            pk: light for pk, light in at_load.items() if pk != reopened.pk
        }
        again = refresh_demo_clock()
    assert not again.changed and "不足 1 小时" in again.reason

    shifted = set(report.problems)
    waiting = problems.filter(status__in=[Status.ASSIGNED, Status.IN_PROGRESS]).exclude(severity="long")
    assert shifted == set(waiting.exclude(pk=reopened.pk).values_list("pk", flat=True))
    for p in problems.all():
        deadline, found_at, closed_at = before[p.pk]
        moved = dt.timedelta(days=10) if p.pk in shifted else dt.timedelta(0)
        assert (p.deadline, p.found_at, p.closed_at) == (
            deadline + moved if deadline else None,
            found_at,
            closed_at,
        ), p.pk
    assert Problem.objects.get(pk=reopened.pk).deadline == real_deadline
    assert sorted(ProblemEvent.objects.values_list("pk", "at")) == events_before  # history stays
    [event] = AuditEvent.objects.filter(event_type="demo.refresh")
    assert event.object_id == str(campaign.pk)
    assert event.data["problems"] == sorted(shifted) and event.data["hours"] == 240
    assert audit.verify_chain().ok

    # Five days on, the next refresh counts from the last one, through the command as ./run start runs it.
    with time_machine.travel(later + dt.timedelta(days=5), tick=False):
        out = StringIO()
        call_command("demo", "--refresh", stdout=out)
        assert "距上次载入或刷新 5 天 0 小时" in out.getvalue()
        assert _lights(problems.filter(pk__in=shifted), later + dt.timedelta(days=5)) == {
            pk: at_load[pk] for pk in shifted
        }
    assert AuditEvent.objects.filter(event_type="demo.refresh").count() == 2


def test_refresh_touches_only_the_demo_campaign_and_only_in_demo_mode(demo_output):
    import time_machine

    from chuangwen.demo.city import DemoDisabled
    from chuangwen.demo.problems import CAMPAIGN_NAME
    from chuangwen.demo.refresh import refresh_demo_clock

    campaign = _campaign()
    later = timezone.now() + dt.timedelta(days=10)
    deadlines = sorted(Problem.objects.values_list("pk", "deadline"))
    with time_machine.travel(later, tick=False):
        with override_settings(CHUANGWEN_DEMO=False), pytest.raises(DemoDisabled, match="未启用演示模式"):
            refresh_demo_clock()
        with override_settings(CHUANGWEN_DEMO=False), pytest.raises(CommandError, match="未启用演示模式"):
            call_command("demo", "--refresh", stdout=StringIO())
        # A campaign of that name that the demo loader did not make (no demo.backdate of its own).
        Campaign.objects.filter(pk=campaign.pk).update(name="另一个创建周期")
        Campaign.objects.create(
            name=CAMPAIGN_NAME,
            edition=campaign.edition,
            start_date=campaign.start_date,
            end_date=campaign.end_date,
        )
        report = refresh_demo_clock()
    assert not report.changed and "没有演示数据" in report.reason
    assert sorted(Problem.objects.values_list("pk", "deadline")) == deadlines
    assert not AuditEvent.objects.filter(event_type="demo.refresh").exists()
