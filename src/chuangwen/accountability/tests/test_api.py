"""The accountability API with JSON bodies: create (office), acknowledge (the head), read, cards, rules."""

from __future__ import annotations

import datetime as dt

from chuangwen.accountability import services
from chuangwen.accountability.models import CardRules, Kind, Record
from chuangwen.core.roles import Role
from chuangwen.ledger.tests.factories import make_problem, make_setup


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_office_creates_and_head_acknowledges_over_the_api(client, city):
    setup = make_setup(city)
    problem = make_problem(city, setup)
    client.force_login(city.users[Role.OFFICE])
    body = {
        "kind": "talk",
        "unit_id": city.school_a.pk,
        "reason": "逾期问题较多，约谈校长",
        "date": "2026-11-20",
        "problem_ids": [problem.pk],
        "talk_at": "2026-11-25T09:30:00+08:00",
        "talk_place": "局三楼会议室",
    }
    response = _post(client, "/api/accountability/records", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kind_label"] == "约谈" and data["unit_name"] == "东区第一小学"
    assert data["problems"] == [{"id": problem.pk, "number": problem.number, "status": problem.status}]
    assert [e["kind"] for e in data["events"]] == ["create"]
    assert data["may_acknowledge"] is False
    record_id = data["id"]

    client.force_login(city.users[Role.LIAISON])
    refused = _post(client, f"/api/accountability/records/{record_id}/acknowledge", {"note": "x"})
    assert refused.status_code == 403
    assert client.get(f"/api/accountability/records/{record_id}").json()["may_acknowledge"] is False

    client.force_login(city.users[Role.SCHOOL_HEAD])
    assert client.get(f"/api/accountability/records/{record_id}").json()["may_acknowledge"] is True
    done = _post(client, f"/api/accountability/records/{record_id}/acknowledge", {"note": "按时参加"})
    assert done.status_code == 200
    assert done.json()["acknowledged"] is True and done.json()["acknowledged_by_name"] == "学校一把手测试"
    twice = _post(client, f"/api/accountability/records/{record_id}/acknowledge", {})
    assert twice.status_code == 422


def test_create_refusals(client, city):
    body = {"kind": "criticise", "unit_id": city.school_a.pk, "reason": "x", "date": "2026-11-20"}
    client.force_login(city.users[Role.SCHOOL_HEAD])
    assert _post(client, "/api/accountability/records", body).status_code == 403
    client.force_login(city.users[Role.OFFICE])
    assert _post(client, "/api/accountability/records", {**body, "kind": "bogus"}).status_code == 422
    assert _post(client, "/api/accountability/records", {**body, "reason": ""}).status_code == 422
    assert _post(client, "/api/accountability/records", {**body, "problem_ids": [999999]}).status_code == 422
    assert _post(client, "/api/accountability/records", {**body, "unit_id": 999999}).status_code == 404
    assert not Record.objects.exists()


def test_list_filters_cards_and_rules(client, city):
    office = city.users[Role.OFFICE]
    for kind, unit in ((Kind.COMMEND, city.school_a), (Kind.YELLOW, city.school_b)):
        services.record_create(kind=kind, unit=unit, reason="r", date=dt.date(2026, 11, 20), actor=office)
    client.force_login(city.users[Role.LEADER])
    items = client.get("/api/accountability/records?kind=yellow").json()["items"]
    assert [i["unit_name"] for i in items] == ["东区实验初级中学"]
    assert client.get("/api/accountability/records?kind=nope").status_code == 422
    cards = client.get("/api/accountability/cards").json()
    assert [(c["unit_id"], c["yellow"]) for c in cards] == [(city.school_b.pk, 1)]
    CardRules.objects.create(
        pk=1, threshold=5, period_days=7, repeat_days=14, start_date=dt.date(2026, 11, 2)
    )
    rules = client.get("/api/accountability/rules").json()
    assert rules["threshold"] == 5 and rules["next_period_start"] == "2026-11-02"
    assert rules["next_period_end"] == "2026-11-08"


def test_list_query_count_is_flat(client, city, django_assert_max_num_queries):
    office = city.users[Role.OFFICE]
    client.force_login(office)
    services.record_create(
        kind=Kind.COMMEND, unit=city.school_a, reason="r", date=dt.date(2026, 11, 20), actor=office
    )
    client.get("/api/accountability/records")
    with django_assert_max_num_queries(10) as few:
        client.get("/api/accountability/records")
    for _ in range(10):
        services.record_create(
            kind=Kind.COMMEND, unit=city.school_b, reason="r", date=dt.date(2026, 11, 20), actor=office
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/api/accountability/records")
