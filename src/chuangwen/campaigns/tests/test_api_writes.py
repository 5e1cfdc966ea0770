"""Round writes over the API: the campaign office creates, staffs and moves rounds; others are refused."""

import json

import pytest

from chuangwen.accounts.services import token_create
from chuangwen.campaigns.models import Round
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role

from .factories import END, START, make_campaign

pytestmark = pytest.mark.django_db


def bearer(user):
    _, raw = token_create(user=user, name="集成")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def body(campaign, city, **overrides):
    return {
        "campaign_id": campaign.pk,
        "kind": "unannounced",
        "name": "十二月暗访",
        "start_date": str(START),
        "end_date": str(END),
        "school_ids": [city.school_a.pk, city.school_c.pk],
        "inspector_ids": [city.users[Role.INSPECTOR].pk],
        **overrides,
    }


def test_the_office_creates_staffs_and_starts_a_round(client, city):
    campaign = make_campaign(city)
    auth = bearer(city.users[Role.OFFICE])
    response = client.post(
        "/api/campaigns/rounds", body(campaign, city), content_type="application/json", **auth
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert {s["id"] for s in data["schools"]} == {city.school_a.pk, city.school_c.pk}
    assert data["inspector_ids"] == [city.users[Role.INSPECTOR].pk]
    round_id = data["id"]
    response = client.put(
        f"/api/campaigns/rounds/{round_id}/inspectors",
        {"inspector_ids": [city.users[Role.OFFICE].pk]},
        content_type="application/json",
        **auth,
    )
    assert response.json()["inspector_ids"] == [city.users[Role.OFFICE].pk]
    response = client.post(
        f"/api/campaigns/rounds/{round_id}/transition",
        {"to": "in_progress"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 200 and response.json()["status"] == "in_progress"
    assert AuditEvent.objects.filter(event_type="round.transition", object_id=str(round_id)).exists()


def test_a_sampled_round_records_its_seed(client, city):
    campaign = make_campaign(city)
    payload = body(campaign, city, school_ids=None, sample_size=2, sample_seed=7, kind="mock")
    response = client.post(
        "/api/campaigns/rounds", payload, content_type="application/json", **bearer(city.users[Role.OFFICE])
    )
    assert response.status_code == 201, response.content
    assert response.json()["sample_seed"] == 7 and len(response.json()["schools"]) == 2


@pytest.mark.parametrize(
    "role", [Role.LEADER, Role.DEPT_HEAD, Role.INSPECTOR, Role.LIAISON, Role.SCHOOL_HEAD]
)
def test_others_may_not_create_rounds(client, city, role):
    campaign = make_campaign(city)
    response = client.post(
        "/api/campaigns/rounds",
        body(campaign, city),
        content_type="application/json",
        **bearer(city.users[role]),
    )
    assert response.status_code == 403
    assert not Round.objects.exists()


def test_bad_input_is_refused_with_the_reason_and_nothing_is_created(client, city):
    campaign = make_campaign(city)
    auth = bearer(city.users[Role.OFFICE])
    cases = [
        (body(campaign, city, name=" "), "请填写名称"),
        (body(campaign, city, kind="weekly"), "未知的轮次类型"),
        (body(campaign, city, inspector_ids=[city.users[Role.LIAISON].pk]), "不是可指派的督查员"),
        (body(campaign, city, school_ids=[999999]), "不在您的管辖范围内"),
        (body(campaign, city, start_date="2026-12-20", end_date="2026-12-01"), "日期"),
    ]
    for payload, message in cases:
        response = client.post("/api/campaigns/rounds", payload, content_type="application/json", **auth)
        assert response.status_code == 422, (payload, response.content)
        assert message in json.dumps(response.json(), ensure_ascii=False), (message, response.json())
    assert not Round.objects.exists()


def test_an_illegal_transition_is_refused(client, city):
    from .factories import make_round

    round_ = make_round(city, status="finished")
    response = client.post(
        f"/api/campaigns/rounds/{round_.pk}/transition",
        {"to": "in_progress"},
        content_type="application/json",
        **bearer(city.users[Role.OFFICE]),
    )
    assert response.status_code == 422
    round_.refresh_from_db()
    assert round_.status == "finished"
