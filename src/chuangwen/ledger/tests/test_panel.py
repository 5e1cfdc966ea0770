"""我的问题 on the home page: my open problems with their lights, the school's and the office's counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chuangwen.core import access
from chuangwen.core.roles import Role
from chuangwen.ledger import services
from chuangwen.ledger.models import Problem
from chuangwen.ledger.panels import my_problems_panel

from .factories import make_problem, make_setup, noisy_jpeg

pytestmark = pytest.mark.django_db


def _panel(user):
    user = type(user).objects.get(pk=user.pk)  # a fresh user: no cached scope from the fixtures
    access.scope_of(user)  # the workbench has the user's roles before the panels run
    with CaptureQueriesContext(connection) as queries:
        panel = my_problems_panel(user)
    return panel, len(queries.captured_queries)


def test_the_responsible_teacher_sees_their_problems_with_lights(city):
    setup = make_setup(city)
    soon = make_problem(city, setup, description="操场垃圾")
    later = make_problem(city, setup, description="广告破损", code="1.2", severity="days", deadline_days=5)
    Problem.objects.filter(pk=soon.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    panel, queries = _panel(city.users[Role.TEACHER])
    assert [row["p"].pk for row in panel["rows"]] == [soon.pk, later.pk]  # soonest deadline first
    assert [row["light"] for row in panel["rows"]] == ["red", "green"]
    assert panel["counts"] == {}  # a teacher gets no school-wide counts
    assert queries <= 3


def test_school_leads_get_their_schools_open_and_overdue_counts(city):
    setup = make_setup(city)
    late = make_problem(city, setup)
    make_problem(city, setup, code="1.2")
    make_problem(city, setup, school=city.school_c, responsible=city.outsider)
    Problem.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    panel, queries = _panel(city.users[Role.LIAISON])
    assert panel["rows"] == []
    assert panel["counts"]["open"] == 2 and panel["counts"]["overdue"] == 1
    assert not panel["reviewer"]
    assert queries <= 3


def test_the_office_sees_what_waits_for_a_recheck_across_its_reach(city):
    setup = make_setup(city)
    teacher = city.users[Role.TEACHER]
    problem = make_problem(city, setup)
    services.problem_move(problem=problem, code="accept", actor=teacher)
    services.problem_add_photo(problem=problem, file=noisy_jpeg(3), purpose="after", actor=teacher)
    services.problem_move(problem=problem, code="submit", actor=teacher, cause="原因", measures="措施")
    at_c = make_problem(city, setup, school=city.school_c, responsible=city.outsider)
    Problem.objects.filter(pk=at_c.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    panel, queries = _panel(city.users[Role.OFFICE])
    assert panel["counts"]["pending"] == 1 and panel["counts"]["overdue"] == 1
    assert panel["reviewer"] and queries <= 3


def test_nothing_to_show_means_no_panel(city):
    assert my_problems_panel(city.users[Role.ARCHIVIST]) is None


def test_the_home_page_shows_the_panel(client, city):
    setup = make_setup(city)
    problem = make_problem(city, setup, description="操场东侧有垃圾")
    client.force_login(city.users[Role.TEACHER])
    body = client.get("/").content.decode()
    assert 'data-testid="panel-my-problems"' in body
    assert f"/ledger/{problem.pk}/" in body and "操场东侧有垃圾" in body
    client.force_login(city.users[Role.OFFICE])
    body = client.get("/").content.decode()
    assert 'data-testid="count-pending"' in body


def test_the_office_is_warned_on_its_home_page_about_a_year_without_holidays(client, city):
    import datetime as dt

    import time_machine

    from chuangwen.core import calendar
    from chuangwen.core.calendar import SHANGHAI

    calendar.invalidate()
    # 2026-11-27: the coming year reaches into 2027, which nobody has entered yet.
    with time_machine.travel(dt.datetime(2026, 11, 27, 10, tzinfo=SHANGHAI)):
        client.force_login(city.users[Role.OFFICE])
        page = client.get("/").content.decode()
        assert 'data-testid="calendar-warning"' in page and "2027 年的节假日安排尚未录入" in page
        client.force_login(city.users[Role.LIAISON])
        assert 'data-testid="calendar-warning"' not in client.get("/").content.decode()
    with time_machine.travel(dt.datetime(2025, 3, 1, 10, tzinfo=SHANGHAI)):
        client.force_login(city.users[Role.OFFICE])
        assert 'data-testid="calendar-warning"' not in client.get("/").content.decode()
