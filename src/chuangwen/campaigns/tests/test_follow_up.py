"""跟踪督查: a follow-up round covers only the schools with unfinished problems from the rounds it follows."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from chuangwen.campaigns import selectors, services
from chuangwen.campaigns.models import Round
from chuangwen.core.audit import verify_chain
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.ledger import services as ledger
from chuangwen.ledger.models import Status
from chuangwen.ledger.tests.factories import make_problem, make_setup

from .factories import make_round

pytestmark = pytest.mark.django_db
START, END = dt.date(2026, 12, 1), dt.date(2026, 12, 20)


def _follow_up(city, setup, previous, **kwargs):
    return services.round_create_follow_up(
        campaign=setup.campaign,
        previous_rounds=previous,
        name=kwargs.pop("name", "跟踪督查第一轮"),
        start_date=START,
        end_date=END,
        actor=city.users[Role.OFFICE],
        **kwargs,
    )


def _void(city, problem):
    return ledger.problem_move(problem=problem, code="void", reason="重复登记", actor=city.users[Role.OFFICE])


@pytest.fixture
def setup(city):
    """A mock round over school_a and school_c with the inspector; owners at school_a and school_c."""
    from chuangwen.duty.models import SchoolAssignment

    setup = make_setup(city, kind=Round.Kind.MOCK)
    for standard in setup.standards.values():
        SchoolAssignment.objects.create(school=city.school_c, standard=standard, owner=city.outsider)
    return setup


def test_takes_only_schools_with_unfinished_problems_and_records_them(city, setup):
    open_a = make_problem(city, setup, code="1.1")
    second_a = make_problem(city, setup, code="1.2", description="公益广告褪色")
    voided_c = _void(city, make_problem(city, setup, school=city.school_c, code="1.1"))
    assert open_a.status == Status.ASSIGNED and voided_c.status == Status.VOID

    follow = _follow_up(city, setup, [setup.round], inspectors=[city.users[Role.INSPECTOR]])

    assert follow.kind == Round.Kind.FOLLOW_UP
    assert list(follow.schools.all()) == [city.school_a]  # school_c's only problem is void
    assert set(follow.previous_rounds.all()) == {setup.round}
    assert list(follow.inspectors.all()) == [city.users[Role.INSPECTOR]]
    [event] = AuditEvent.objects.filter(event_type="round.follow_up")
    assert event.object_id == str(follow.pk)
    assert event.data["previous_rounds"] == [setup.round.pk]
    assert event.data["problems"] == [open_a.pk, second_a.pk]
    assert event.data["problems_by_school"] == {str(city.school_a.pk): [open_a.pk, second_a.pk]}
    assert selectors.followed_problem_ids(follow) == [open_a.pk, second_a.pk]
    assert selectors.followed_problem_ids(setup.round) == []
    assert verify_chain().ok


def test_every_unfinished_status_counts_and_closed_ones_do_not(city, setup):
    """待交办, 已交办, 整改中 and 待复核 are followed up; 已销号 and 已作废 are not."""
    from chuangwen.ledger.models import Problem

    held = make_problem(city, setup, school=city.school_c, code="1.1", assign=False)
    assert held.status == Status.NEW
    closed = make_problem(city, setup, code="1.3")
    Problem.objects.filter(pk=closed.pk).update(status=Status.CLOSED)  # reached through re-check elsewhere
    follow = _follow_up(city, setup, [setup.round])
    assert list(follow.schools.all()) == [city.school_c]
    assert selectors.followed_problem_ids(follow) == [held.pk]
    for status in (Status.IN_PROGRESS, Status.PENDING_REVIEW):
        Problem.objects.filter(pk=held.pk).update(status=status)
        again = _follow_up(city, setup, [setup.round], name=f"跟踪督查{status}")
        assert list(again.schools.all()) == [city.school_c]


def test_refused_when_nothing_is_left_to_follow_up(city, setup):
    from chuangwen.campaigns.models import Round as RoundModel

    _void(city, make_problem(city, setup, code="1.1"))
    before = RoundModel.objects.count()
    with pytest.raises(ValidationError) as exc:
        _follow_up(city, setup, [setup.round])
    assert "没有未销号的问题" in str(exc.value)
    assert setup.round.name in str(exc.value)
    assert RoundModel.objects.count() == before
    assert (
        not AuditEvent.objects.filter(event_type__in=["round.follow_up", "round.create"])
        .exclude(object_id=str(setup.round.pk))
        .exists()
    )


def test_problems_of_other_rounds_are_not_followed(city, setup):
    """A problem of a round not chosen (same campaign) or recorded outside any round does not count."""
    make_problem(city, setup, code="1.1")  # in setup.round
    other = make_round(
        city,
        campaign=setup.campaign,
        kind=Round.Kind.SELF,
        schools=[city.school_a, city.school_c],
        status="in_progress",
    )
    ledger.problem_create(
        school=city.school_c, description="日常检查发现", actor=city.users[Role.OFFICE], assign=False
    )
    with pytest.raises(ValidationError, match="没有未销号的问题"):
        _follow_up(city, setup, [other])
    follow = _follow_up(city, setup, [setup.round, other])
    assert list(follow.schools.all()) == [city.school_a]


def test_still_refuses_rounds_of_another_campaign_and_an_empty_choice(city, setup):
    other = make_round(city)
    with pytest.raises(ValidationError, match="同一创建周期"):
        _follow_up(city, setup, [other])
    with pytest.raises(ValidationError, match="请选择要跟踪的轮次"):
        _follow_up(city, setup, [])


def test_the_office_generates_a_follow_up_from_the_round_page(client, city):
    setup = make_setup(city)
    make_problem(city, setup)  # school_a has an open problem; school_c none
    client.force_login(city.users[Role.OFFICE])
    page = client.get(f"/campaigns/rounds/{setup.round.pk}/").content.decode()
    assert f"/campaigns/rounds/{setup.round.pk}/follow-up/" in page
    form = client.get(f"/campaigns/rounds/{setup.round.pk}/follow-up/")
    assert form.status_code == 200 and "跟踪督查" in form.content.decode()
    response = client.post(
        f"/campaigns/rounds/{setup.round.pk}/follow-up/",
        {
            "previous_rounds": [setup.round.pk],
            "name": "十二月跟踪督查",
            "start_date": "2026-12-01",
            "end_date": "2026-12-10",
            "inspectors": [city.users[Role.INSPECTOR].pk],
        },
    )
    follow_up = Round.objects.get(name="十二月跟踪督查")
    assert response.status_code == 302 and response["Location"] == f"/campaigns/rounds/{follow_up.pk}/"
    assert follow_up.kind == Round.Kind.FOLLOW_UP
    assert list(follow_up.schools.all()) == [city.school_a]


def test_a_follow_up_without_open_problems_is_refused_on_the_page(client, city):
    setup = make_setup(city)
    client.force_login(city.users[Role.OFFICE])
    response = client.post(
        f"/campaigns/rounds/{setup.round.pk}/follow-up/",
        {"previous_rounds": [setup.round.pk], "name": "无问题的跟踪", "start_date": "2026-12-01",
         "end_date": "2026-12-10"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "没有未销号的问题" in response.content.decode()
    assert not Round.objects.filter(name="无问题的跟踪").exists()
