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
