"""The embargo: a school does not see an unannounced round, or that it is in it, until it is finished."""

import pytest

from chuangwen.campaigns import selectors
from chuangwen.campaigns.models import Round
from chuangwen.core.roles import Role
from chuangwen.org.tests.factories import MembershipFactory, UserFactory

from .factories import make_round

pytestmark = pytest.mark.django_db
SCHOOL_USERS = [Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST, Role.TEACHER]


def _sees(client, user, round_) -> dict:
    client.force_login(user)
    listed = round_.name in client.get("/campaigns/").content.decode()
    detail = client.get(f"/campaigns/rounds/{round_.pk}/").status_code
    api_list = [r["id"] for r in client.get("/api/campaigns/rounds").json()["items"]]
    api_detail = client.get(f"/api/campaigns/rounds/{round_.pk}").status_code
    return {"list": listed, "detail": detail, "api_list": round_.pk in api_list, "api_detail": api_detail}


HIDDEN = {"list": False, "detail": 404, "api_list": False, "api_detail": 404}
SHOWN = {"list": True, "detail": 200, "api_list": True, "api_detail": 200}


@pytest.mark.parametrize("role", SCHOOL_USERS)
@pytest.mark.parametrize("status", ["planned", "in_progress"])
def test_unannounced_round_is_hidden_from_the_school_until_finished(client, city, role, status):
    round_ = make_round(city, kind=Round.Kind.UNANNOUNCED, status=status)
    assert _sees(client, city.users[role], round_) == HIDDEN


@pytest.mark.parametrize("role", [Role.SCHOOL_HEAD, Role.LIAISON])
def test_unannounced_round_shows_once_finished(client, city, role):
    round_ = make_round(city, kind=Round.Kind.UNANNOUNCED, status="finished")
    assert _sees(client, city.users[role], round_) == SHOWN


@pytest.mark.parametrize("kind", [Round.Kind.SELF, Round.Kind.MOCK, Round.Kind.FOLLOW_UP])
def test_announced_rounds_show_to_the_school(client, city, kind):
    round_ = make_round(city, kind=kind)
    assert _sees(client, city.users[Role.LIAISON], round_) == SHOWN


@pytest.mark.parametrize("role", [Role.ADMIN, Role.LEADER, Role.OFFICE, Role.DEPT_HEAD])
def test_unannounced_round_is_visible_to_the_bureau(client, city, role):
    round_ = make_round(city, kind=Round.Kind.UNANNOUNCED, status="in_progress")
    assert _sees(client, city.users[role], round_) == SHOWN


def test_assigned_inspector_sees_it_and_another_inspector_does_not(client, city):
    assigned = city.users[Role.INSPECTOR]
    other = UserFactory(username="inspector_2")
    MembershipFactory(user=other, unit=city.bureau, role=Role.INSPECTOR)
    round_ = make_round(city, kind=Round.Kind.UNANNOUNCED, inspectors=[assigned])
    announced = make_round(city, kind=Round.Kind.MOCK)
    assert _sees(client, assigned, round_) == SHOWN
    assert _sees(client, other, round_) == HIDDEN
    assert set(selectors.visible_rounds(other)) == {announced}


def test_other_schools_do_not_see_rounds_they_are_not_in(client, city):
    round_ = make_round(city, kind=Round.Kind.MOCK, schools=[city.school_a])
    assert _sees(client, city.outsider, round_) == HIDDEN


def test_a_school_sees_only_its_own_school_of_a_round(client, city):
    round_ = make_round(city, kind=Round.Kind.MOCK, schools=[city.school_a, city.school_c])
    client.force_login(city.users[Role.LIAISON])
    data = client.get(f"/api/campaigns/rounds/{round_.pk}").json()
    assert [s["id"] for s in data["schools"]] == [city.school_a.pk]
    assert data["inspector_ids"] == []
    page = client.get(f"/campaigns/rounds/{round_.pk}/").content.decode()
    assert city.school_a.name in page
    assert city.school_c.name not in page


def test_round_list_query_count_does_not_grow(client, city, django_assert_max_num_queries):
    client.force_login(city.users[Role.LIAISON])
    make_round(city)
    client.get("/campaigns/")
    for _ in range(5):
        make_round(city)
    with django_assert_max_num_queries(12):
        response = client.get("/campaigns/")
    assert response.content.decode().count('data-testid="round"') == 6
    with django_assert_max_num_queries(10):
        assert len(client.get("/api/campaigns/rounds").json()["items"]) == 6


def _campaign(city):
    """A campaign on an edition with standards (from the ledger builders), so inspections can be scored."""
    import datetime as dt

    from chuangwen.campaigns import services
    from chuangwen.ledger.tests.factories import make_edition

    edition, _ = make_edition()
    return services.campaign_create(
        name=f"暗访周期{edition.pk}",
        edition=edition,
        start_date=dt.date(2026, 12, 1),
        end_date=dt.date(2027, 6, 30),
        actor=city.users[Role.OFFICE],
    )


def _submit(city, round_, school):
    """The inspector checks one standard of the school and submits (a partial inspection)."""
    from chuangwen.index.models import Standard
    from chuangwen.inspections import services as inspections

    inspector = city.users[Role.INSPECTOR]
    standard = Standard.objects.get(edition=round_.campaign.edition, code="1.2")
    inspection = inspections.inspection_start(round_=round_, school=school, actor=inspector)
    inspections.answer_save(inspection=inspection, standard=standard, result="合格", actor=inspector)
    return inspections.inspection_submit(inspection=inspection, actor=inspector, partial=True)


def test_unannounced_round_shows_to_a_school_once_its_own_inspection_is_submitted(client, city):
    round_ = make_round(
        city,
        campaign=_campaign(city),
        kind=Round.Kind.UNANNOUNCED,
        status="in_progress",
        schools=[city.school_a, city.school_c],
        inspectors=[city.users[Role.INSPECTOR]],
    )
    liaison_a, liaison_c = city.users[Role.LIAISON], city.outsider
    assert _sees(client, liaison_a, round_) == HIDDEN
    assert _sees(client, liaison_c, round_) == HIDDEN

    # Only started, not submitted: still hidden.
    from chuangwen.inspections import services as inspections

    inspections.inspection_start(round_=round_, school=city.school_c, actor=city.users[Role.INSPECTOR])
    assert _sees(client, liaison_c, round_) == HIDDEN

    _submit(city, round_, city.school_a)
    round_.refresh_from_db()
    assert round_.status == Round.Status.IN_PROGRESS
    for role in SCHOOL_USERS:
        assert _sees(client, city.users[role], round_) == SHOWN, role
    # School C is in the same round, its inspection is not submitted: it still sees nothing.
    assert _sees(client, liaison_c, round_) == HIDDEN
    assert round_ not in selectors.visible_rounds(liaison_c)
    # School A sees only itself in the round, not that school C is being inspected.
    client.force_login(liaison_a)
    data = client.get(f"/api/campaigns/rounds/{round_.pk}").json()
    assert [s["id"] for s in data["schools"]] == [city.school_a.pk]
    page = client.get(f"/campaigns/rounds/{round_.pk}/").content.decode()
    assert city.school_c.name not in page


def test_a_submitted_inspection_in_one_round_does_not_reveal_another_unannounced_round(client, city):
    inspector = city.users[Role.INSPECTOR]
    campaign = _campaign(city)
    first = make_round(
        city,
        campaign=campaign,
        kind=Round.Kind.UNANNOUNCED,
        status="in_progress",
        schools=[city.school_a],
        inspectors=[inspector],
    )
    second = make_round(
        city,
        campaign=campaign,
        kind=Round.Kind.UNANNOUNCED,
        status="in_progress",
        schools=[city.school_a],
        inspectors=[inspector],
    )
    _submit(city, first, city.school_a)
    visible = set(selectors.visible_rounds(city.users[Role.LIAISON]))
    assert first in visible
    assert second not in visible
