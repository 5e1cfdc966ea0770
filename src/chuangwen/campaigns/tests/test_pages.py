import pytest

from chuangwen.campaigns.models import Campaign, Round
from chuangwen.core.roles import Role
from chuangwen.org.models import Unit

from .factories import make_campaign, make_round, published_edition

pytestmark = pytest.mark.django_db


def test_office_creates_a_campaign_then_a_sampled_round(client, city):
    client.force_login(city.users[Role.OFFICE])
    edition = published_edition()
    response = client.post(
        "/campaigns/new/",
        {
            "name": "2027 创建周期",
            "edition": edition.pk,
            "start_date": "2027-01-01",
            "end_date": "2027-12-31",
        },
    )
    campaign = Campaign.objects.get(name="2027 创建周期")
    assert response.status_code == 302
    response = client.post(
        f"/campaigns/{campaign.pk}/rounds/new/",
        {
            "kind": "unannounced",
            "name": "第一次暗访",
            "start_date": "2027-03-01",
            "end_date": "2027-03-10",
            "scope": "sample",
            "sample_size": "2",
            "sample_seed": "2027",
            "inspectors": [city.users[Role.INSPECTOR].pk],
        },
    )
    round_ = Round.objects.get(name="第一次暗访")
    assert response.status_code == 302
    assert round_.sample_seed == 2027
    assert round_.schools.count() == 2
    page = client.get(f"/campaigns/rounds/{round_.pk}/").content.decode()
    assert "种子" in page
    assert Unit.SchoolType.PRIMARY.label in page
    assert "开始检查" in page


def test_draft_edition_is_not_offered(client, city):
    client.force_login(city.users[Role.OFFICE])
    draft = published_edition(status="draft")
    response = client.post(
        "/campaigns/new/",
        {"name": "x", "edition": draft.pk, "start_date": "2027-01-01", "end_date": "2027-12-31"},
    )
    assert response.status_code == 200
    assert not Campaign.objects.exists()


def test_explicit_round_form_requires_schools(client, city):
    client.force_login(city.users[Role.OFFICE])
    campaign = make_campaign(city)
    response = client.post(
        f"/campaigns/{campaign.pk}/rounds/new/",
        {
            "kind": "mock",
            "name": "x",
            "start_date": "2027-03-01",
            "end_date": "2027-03-02",
            "scope": "explicit",
        },
    )
    assert response.status_code == 200
    assert "请至少选择一所学校" in response.content.decode()
    assert not Round.objects.exists()


def test_transition_buttons_move_the_round_and_refuse_illegal_moves(client, city):
    client.force_login(city.users[Role.OFFICE])
    round_ = make_round(city)
    client.post(f"/campaigns/rounds/{round_.pk}/transition/", {"to": "finished"})
    round_.refresh_from_db()
    assert round_.status == "planned"
    client.post(f"/campaigns/rounds/{round_.pk}/transition/", {"to": "in_progress"})
    round_.refresh_from_db()
    assert round_.status == "in_progress"


def test_inspectors_page_assigns(client, city):
    client.force_login(city.users[Role.OFFICE])
    round_ = make_round(city)
    response = client.post(
        f"/campaigns/rounds/{round_.pk}/inspectors/", {"inspectors": [city.users[Role.INSPECTOR].pk]}
    )
    assert response.status_code == 302
    assert list(round_.inspectors.all()) == [city.users[Role.INSPECTOR]]
