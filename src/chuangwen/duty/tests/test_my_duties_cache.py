"""我的责任 is cached per user; any change of responsibilities shows at once (the version bump)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chuangwen.core.roles import Role
from chuangwen.duty import selectors, services
from chuangwen.duty.models import SchoolAssignment, Task

from .factories import build_edition

pytestmark = pytest.mark.django_db
DUTY_TABLES = ("duty_schoolassignment", "duty_bureauassignment", "duty_task")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _duty_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if any(t in q["sql"] for t in DUTY_TABLES)]


def _home(client) -> tuple[str, list[dict]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    assert response.status_code == 200
    return response.content.decode(), ctx.captured_queries


@pytest.fixture
def edition(city):
    return build_edition(projects=1, standards_per_project=2)


def test_second_home_page_view_makes_fewer_queries(client, city, edition):
    teacher, office = city.users[Role.TEACHER], city.users[Role.OFFICE]
    services.task_create(
        school=city.school_a,
        standard=edition.standards.first(),
        title="设置公益广告牌",
        due_date=dt.date(2027, 1, 15),
        assignee=teacher,
        actor=office,
    )
    client.force_login(teacher)
    first_page, first = _home(client)
    second_page, second = _home(client)
    assert "设置公益广告牌" in first_page and "设置公益广告牌" in second_page
    assert len(_duty_queries(first)) >= 3
    assert _duty_queries(second) == []
    assert len(second) < len(first)


def test_a_change_of_assignment_shows_at_once(client, city, edition):
    teacher, office = city.users[Role.TEACHER], city.users[Role.OFFICE]
    first, second = edition.standards.order_by("position")
    client.force_login(teacher)
    before = selectors.my_duties(user=teacher)
    assert before.counts == {"owned": 0, "led": 0, "tasks": 0}

    assignment = services.assignment_set(school=city.school_a, standard=first, owner=teacher, actor=office)
    assert selectors.my_duties(user=teacher).counts["owned"] == 1
    assert first.code in _home(client)[0]

    services.assignment_clear(assignment=assignment, actor=office)
    assert selectors.my_duties(user=teacher).counts["owned"] == 0

    task = services.task_create(
        school=city.school_a,
        standard=second,
        title="主题班会",
        due_date=dt.date(2027, 1, 15),
        assignee=teacher,
        actor=office,
    )
    assert selectors.my_duties(user=teacher).counts["tasks"] == 1
    services.task_complete(task=task, actor=office)
    assert selectors.my_duties(user=teacher).counts["tasks"] == 0


def test_bulk_writes_bump_the_version_too(city, edition):
    """assign_by_rule writes with bulk_create (no model signals); its audit event bumps the version."""
    liaison, office = city.users[Role.LIAISON], city.users[Role.OFFICE]
    assert selectors.my_duties(user=liaison).counts["owned"] == 0
    services.assign_by_rule(edition=edition, actor=office, owner_role=Role.LIAISON)
    assert SchoolAssignment.objects.filter(owner=liaison).count() == 2
    assert selectors.my_duties(user=liaison).counts["owned"] == 2


def test_cached_entry_is_per_user(city, edition):
    teacher, archivist, office = city.users[Role.TEACHER], city.users[Role.ARCHIVIST], city.users[Role.OFFICE]
    services.assignment_set(
        school=city.school_a, standard=edition.standards.first(), owner=teacher, actor=office
    )
    assert selectors.my_duties(user=teacher).counts["owned"] == 1
    assert selectors.my_duties(user=archivist).counts["owned"] == 0
    # Without a bump, a row written behind the services' back is seen only after the short TTL: the
    # cache is really used.
    Task.objects.bulk_create(
        [
            Task(
                school=city.school_a,
                standard=edition.standards.first(),
                title="x",
                assignee=archivist,
                due_date=dt.date(2027, 1, 15),
            )
        ]
    )
    assert selectors.my_duties(user=archivist).counts["tasks"] == 0
    selectors.bump_my_duties()
    assert selectors.my_duties(user=archivist).counts["tasks"] == 1
