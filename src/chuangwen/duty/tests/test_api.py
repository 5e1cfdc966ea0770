"""The duty API: scoped lists, coverage summary, task create/update with the services' rules."""

from __future__ import annotations

import pytest

from chuangwen.core.roles import Role
from chuangwen.duty import services
from chuangwen.duty.models import Task

from .factories import build_edition


@pytest.fixture
def edition(city):
    edition = build_edition(projects=1, standards_per_project=2)
    office = city.users[Role.OFFICE]
    for s in edition.standards.all():
        services.assignment_set(
            school=city.school_a, standard=s, owner=city.users[Role.LIAISON], actor=office
        )
        services.assignment_set(school=city.school_c, standard=s, owner=city.outsider, actor=office)
    return edition


def test_assignments_are_scoped(client, city, edition):
    client.force_login(city.users[Role.LEADER])
    data = client.get(f"/api/duty/assignments?edition={edition.pk}").json()
    assert data["count"] == 4
    client.force_login(city.outsider)
    data = client.get(f"/api/duty/assignments?edition={edition.pk}").json()
    assert {item["school_id"] for item in data["items"]} == {city.school_c.pk}
    assert data["items"][0]["owner_name"] == city.outsider.name
    assert client.get(f"/api/duty/assignments?school={city.school_a.pk}").json()["count"] == 0


def test_coverage_summary(client, city, edition):
    client.force_login(city.users[Role.OFFICE])
    data = client.get(f"/api/duty/coverage?edition={edition.pk}").json()
    assert (data["applicable"], data["owned"]) == (6, 4)
    assert {p["school_id"] for p in data["unowned"]} == {city.school_b.pk}
    assert client.get("/api/duty/coverage?edition=999999").status_code == 404


def test_tasks_create_and_update(client, city, edition):
    standard = edition.standards.order_by("position").first()
    body = {
        "school_id": city.school_a.pk,
        "standard_id": standard.pk,
        "title": "制作宣传栏",
        "due_date": "2026-12-15",
        "assignee_id": city.users[Role.TEACHER].pk,
    }
    client.force_login(city.users[Role.TEACHER])
    assert client.post("/api/duty/tasks", body, content_type="application/json").status_code == 403
    client.force_login(city.users[Role.LIAISON])
    response = client.post("/api/duty/tasks", body, content_type="application/json")
    assert response.status_code == 201, response.content
    task_id = response.json()["id"]
    assert response.json()["status_label"] == "未开始"
    client.force_login(city.outsider)
    assert client.post("/api/duty/tasks", body, content_type="application/json").status_code == 404
    assert client.get("/api/duty/tasks").json()["count"] == 0
    # The assignee reports progress through the API.
    client.force_login(city.users[Role.TEACHER])
    response = client.patch(
        f"/api/duty/tasks/{task_id}",
        {"status": "done", "progress_note": "已完成"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["status"] == "done"
    response = client.patch(f"/api/duty/tasks/{task_id}", {"status": "todo"}, content_type="application/json")
    assert response.status_code == 422
    response = client.patch(
        f"/api/duty/tasks/{task_id}", {"status": "bogus"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert Task.objects.get(pk=task_id).status == "done"


def test_session_writes_need_csrf(city, edition):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users[Role.LIAISON])
    body = {
        "school_id": city.school_a.pk,
        "standard_id": edition.standards.first().pk,
        "title": "x",
        "due_date": "2026-12-15",
    }
    assert client.post("/api/duty/tasks", body, content_type="application/json").status_code == 403
    assert not Task.objects.exists()
    # With the token a page hands out (the cookie and the X-CSRFToken header htmx sends), it succeeds.
    client.get("/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/duty/tasks", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201 and Task.objects.count() == 1
