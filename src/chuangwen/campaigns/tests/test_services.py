import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from chuangwen.campaigns import services
from chuangwen.campaigns.models import Campaign, Round
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.index.models import Edition
from chuangwen.org.models import Unit
from chuangwen.org.tests.factories import SchoolFactory

from .factories import END, START, make_campaign, make_round, published_edition

pytestmark = pytest.mark.django_db


def _events(event_type):
    return list(AuditEvent.objects.filter(event_type=event_type))


def test_campaign_create_records_an_audit_event(city):
    campaign = make_campaign(city, name="2026-2027 创建周期")
    assert campaign.status == Campaign.Status.ACTIVE
    [event] = _events("campaign.create")
    assert event.object_id == str(campaign.pk)
    assert event.actor_id == city.users[Role.OFFICE].pk


@pytest.mark.parametrize("status", [Edition.Status.DRAFT, Edition.Status.ARCHIVED])
def test_campaign_refuses_an_unpublished_edition(city, status):
    with pytest.raises(ValidationError, match="未发布"):
        services.campaign_create(
            name="草稿周期",
            edition=published_edition(status=status),
            start_date=START,
            end_date=END,
            actor=city.users[Role.OFFICE],
        )
    assert not Campaign.objects.exists()
    assert not _events("campaign.create")


def test_campaign_refuses_reversed_dates_and_non_managers(city):
    with pytest.raises(ValidationError, match="结束日期"):
        services.campaign_create(
            name="x",
            edition=published_edition(),
            start_date=END,
            end_date=START,
            actor=city.users[Role.OFFICE],
        )
    with pytest.raises(PermissionDenied):
        services.campaign_create(
            name="x",
            edition=published_edition(),
            start_date=START,
            end_date=END,
            actor=city.users[Role.LEADER],
        )


def test_round_lifecycle_legal_moves_are_audited(city):
    round_ = make_round(city)
    office = city.users[Role.OFFICE]
    round_ = services.round_transition(round_=round_, to=Round.Status.IN_PROGRESS, actor=office)
    round_ = services.round_transition(round_=round_, to=Round.Status.FINISHED, actor=office)
    round_.refresh_from_db()
    assert round_.status == Round.Status.FINISHED
    moves = [(e.data["from"], e.data["to"]) for e in _events("round.transition")]
    assert moves == [("planned", "in_progress"), ("in_progress", "finished")]


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("planned", "finished"),
        ("planned", "planned"),
        ("in_progress", "planned"),
        ("finished", "in_progress"),
        ("finished", "planned"),
        ("planned", "bogus"),
    ],
)
def test_round_lifecycle_illegal_moves_are_refused(city, start, to):
    round_ = make_round(city, status=start)
    before = len(_events("round.transition"))
    with pytest.raises(ValidationError, match="检查轮次不能从"):
        services.round_transition(round_=round_, to=to, actor=city.users[Role.OFFICE])
    round_.refresh_from_db()
    assert round_.status == start
    assert len(_events("round.transition")) == before


def test_transition_needs_a_manager(city):
    round_ = make_round(city)
    with pytest.raises(PermissionDenied):
        services.round_transition(round_=round_, to="in_progress", actor=city.users[Role.INSPECTOR])


def test_round_create_with_a_stratified_sample_records_seed_and_strata(city):
    for i in range(4):
        SchoolFactory(parent=city.district_a, name=f"小学{i}", school_type=Unit.SchoolType.PRIMARY)
    campaign = make_campaign(city)

    def create(seed):
        return services.round_create(
            campaign=campaign,
            kind=Round.Kind.UNANNOUNCED,
            name=f"暗访 {seed}",
            start_date=START,
            end_date=END,
            sample_size=3,
            sample_seed=seed,
            actor=city.users[Role.OFFICE],
        )

    first, again = create(99), create(99)
    assert first.sample_seed == 99
    assert set(first.schools.values_list("pk", flat=True)) == set(again.schools.values_list("pk", flat=True))
    # 6 primary (school_a, school_c + 4), 1 junior (school_b): quotas 2.57/0.43 → 2 + 1 with one per stratum
    assert first.sample_strata == {
        "junior": {"drawn": 1, "population": 1},
        "primary": {"drawn": 2, "population": 6},
    }
    assert first.schools.count() == 3
    event = _events("round.create")[0]
    assert event.data["sample_seed"] == 99
    assert event.data["sample_strata"] == first.sample_strata


def test_round_create_draws_a_seed_when_none_given(city):
    round_ = services.round_create(
        campaign=make_campaign(city),
        kind=Round.Kind.MOCK,
        name="模拟测评",
        start_date=START,
        end_date=END,
        sample_size=2,
        actor=city.users[Role.OFFICE],
    )
    assert round_.sample_seed is not None
    assert sum(s["drawn"] for s in round_.sample_strata.values()) == 2


def test_round_create_refuses_both_or_neither_scope(city):
    kwargs = {
        "campaign": make_campaign(city),
        "kind": "mock",
        "name": "x",
        "start_date": START,
        "end_date": END,
        "actor": city.users[Role.OFFICE],
    }
    with pytest.raises(ValidationError, match="二者选一"):
        services.round_create(**kwargs)
    with pytest.raises(ValidationError, match="二者选一"):
        services.round_create(**kwargs, schools=[city.school_a], sample_size=1)
    with pytest.raises(ValidationError, match="不是学校"):
        services.round_create(**kwargs, schools=[city.district_a])
    assert not Round.objects.exists()


def test_inspectors_must_hold_an_inspector_or_office_role(city):
    round_ = make_round(city)
    office = city.users[Role.OFFICE]
    services.round_assign_inspectors(
        round_=round_, inspectors=[city.users[Role.INSPECTOR], office], actor=office
    )
    assert set(round_.inspectors.all()) == {city.users[Role.INSPECTOR], office}
    assert _events("round.inspectors")[0].data["after"] == sorted([city.users[Role.INSPECTOR].pk, office.pk])
    with pytest.raises(ValidationError, match="不是督查员"):
        services.round_assign_inspectors(round_=round_, inspectors=[city.users[Role.LIAISON]], actor=office)
    assert round_.inspectors.count() == 2


def test_a_self_check_round_takes_no_inspectors(city):
    with pytest.raises(ValidationError, match="自查"):
        make_round(city, kind=Round.Kind.SELF, inspectors=[city.users[Role.INSPECTOR]])


# The follow-up round (only schools with unfinished problems) is tested in test_follow_up.py.
