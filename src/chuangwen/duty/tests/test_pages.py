"""Pages: coverage matrix (content, query budget, scoping), assignment forms, plans, exports, 我的责任."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from docx import Document

from chuangwen.core.audit import verify_chain
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.duty import services
from chuangwen.duty.models import SchoolAssignment, Task
from chuangwen.org.models import Unit
from chuangwen.org.tests.factories import MembershipFactory, SchoolFactory, UserFactory

from .factories import build_edition

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def assign_all(city, edition, school, owner):
    for s in edition.standards.all():
        if s.applies_to(school.school_type):
            services.assignment_set(school=school, standard=s, owner=owner, actor=city.users[Role.OFFICE])


def test_coverage_page_lists_unowned_first_with_counts(client, city):
    edition = build_edition(projects=2, standards_per_project=2)
    assign_all(city, edition, city.school_a, city.users[Role.LIAISON])
    client.force_login(city.users[Role.OFFICE])
    response = client.get(f"/duty/coverage/?edition={edition.pk}")
    assert response.status_code == 200
    page = response.content.decode()
    matrix = response.context["matrix"]
    assert (matrix.applicable, matrix.owned) == (12, 4)
    assert f"{100 * 4 / 12:.1f}%" in page
    unowned_schools = {s.id for s, _ in matrix.unowned}
    assert unowned_schools == {city.school_b.pk, city.school_c.pk}
    assert page.index('data-testid="unowned-list"') < page.index('data-testid="coverage-matrix"')
    assert f"/duty/schools/{city.school_b.pk}/assign/?edition={edition.pk}&amp;standard=" in page
    assert 'class="table-responsive"' in page
    row_a = next(r for r in matrix.schools if r.id == city.school_a.pk)
    assert (row_a.owned, row_a.applicable, row_a.cells) == (4, 4, ["o"] * 4)
    assert all(s.applicable == 3 and s.owned == 1 for s in matrix.standards)


def test_coverage_defaults_to_the_published_edition_and_handles_none(client, city):
    client.force_login(city.users[Role.LIAISON])
    response = client.get("/duty/coverage/")
    assert response.status_code == 200 and 'data-testid="no-edition"' in response.content.decode()
    build_edition(projects=1, standards_per_project=1, publish=False)
    edition = build_edition(projects=1, standards_per_project=1)
    assert client.get("/duty/coverage/").context["edition"] == edition


def _grow(city, schools: int, edition_standards: int):
    district = city.district_a
    for i in range(schools):
        school = SchoolFactory(
            parent=district, school_type=[Unit.SchoolType.PRIMARY, Unit.SchoolType.JUNIOR][i % 2]
        )
        MembershipFactory(user=UserFactory(), unit=school, role=Role.LIAISON)
    edition = build_edition(
        projects=4,
        standards_per_project=edition_standards // 4,
        types=lambda i: [[Unit.SchoolType.PRIMARY], [Unit.SchoolType.JUNIOR], list(Unit.SchoolType.values)][
            i % 3
        ],
    )
    services.assign_by_rule(edition=edition, actor=city.users[Role.OFFICE])
    return edition


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_coverage_query_count_does_not_grow_with_schools_or_standards(
    client, city, django_assert_max_num_queries
):
    client.force_login(city.users[Role.OFFICE])
    small = _grow(city, schools=3, edition_standards=8)
    url_small = f"/duty/coverage/?edition={small.pk}"
    client.get(url_small)  # warm the session
    small_count = _queries(client, url_small)
    large = _grow(city, schools=40, edition_standards=60)
    url_large = f"/duty/coverage/?edition={large.pk}"
    with django_assert_max_num_queries(small_count):
        response = client.get(url_large)
    matrix = response.context["matrix"]
    assert len(matrix.schools) == 46 and len(matrix.standards) == 60
    # The API's summary is held to the same budget.
    client.get(f"/api/duty/coverage?edition={small.pk}")
    api_small = _queries(client, f"/api/duty/coverage?edition={small.pk}")
    with django_assert_max_num_queries(api_small):
        client.get(f"/api/duty/coverage?edition={large.pk}")


def test_liaison_sees_only_their_school(client, city):
    edition = build_edition(projects=1, standards_per_project=2)
    assign_all(city, edition, city.school_c, city.outsider)
    client.force_login(city.users[Role.LIAISON])
    matrix = client.get(f"/duty/coverage/?edition={edition.pk}").context["matrix"]
    assert [r.id for r in matrix.schools] == [city.school_a.pk]
    assert matrix.owned == 0 and matrix.applicable == 2


@pytest.mark.parametrize(
    "build",
    [
        lambda c, t: f"/duty/schools/{c.school_a.pk}/assign/",
        lambda c, t: f"/duty/schools/{c.school_a.pk}/plan/",
        lambda c, t: f"/duty/schools/{c.school_a.pk}/plan/new/",
        lambda c, t: f"/duty/schools/{c.school_a.pk}/plan.xlsx",
        lambda c, t: f"/duty/schools/{c.school_a.pk}/plan.docx",
        lambda c, t: f"/duty/tasks/{t.pk}/edit/",
        lambda c, t: f"/api/duty/tasks/{t.pk}",
    ],
)
def test_cross_school_rows_are_invisible(client, city, build):
    edition = build_edition(projects=1, standards_per_project=1)
    task = services.task_create(
        school=city.school_a,
        standard=edition.standards.get(),
        title="东区任务",
        due_date=dt.date(2026, 12, 1),
        actor=city.users[Role.OFFICE],
    )
    client.force_login(city.outsider)
    url = build(city, task)
    response = client.patch(url, {}, content_type="application/json") if "/api/" in url else client.get(url)
    assert response.status_code == 404


def test_school_head_assigns_one_by_one(client, city):
    edition = build_edition(projects=1, standards_per_project=2)
    standard = edition.standards.order_by("position").first()
    client.force_login(city.users[Role.SCHOOL_HEAD])
    url = f"/duty/schools/{city.school_a.pk}/assign/?edition={edition.pk}"
    page = client.get(url)
    assert page.status_code == 200 and "无人负责" in page.content.decode()
    data = {
        "edition": edition.pk,
        "standard": standard.pk,
        "owner": city.users[Role.TEACHER].pk,
        "leader": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    a = SchoolAssignment.objects.get()
    assert (a.school, a.standard, a.owner, a.leader) == (
        city.school_a,
        standard,
        city.users[Role.TEACHER],
        None,
    )
    # An owner who is not at the school is refused with a message, not stored.
    data["owner"] = city.outsider.pk
    response = client.post(url, data)
    assert response.status_code == 200 and SchoolAssignment.objects.get().owner == city.users[Role.TEACHER]


def test_rule_form_reports_what_it_did(client, city):
    edition = build_edition(projects=1, standards_per_project=2)
    client.force_login(city.users[Role.OFFICE])
    response = client.post(
        f"/duty/rules/?edition={edition.pk}",
        {"edition": edition.pk, "owner_role": Role.LIAISON, "leader_role": Role.SCHOOL_HEAD, "mode": "fill"},
        follow=True,
    )
    page = response.content.decode()
    assert "新增 4 项" in page and "另有 2 项未分配" in page and city.school_b.name in page
    assert SchoolAssignment.objects.count() == 4


def test_handover_page(client, city):
    edition = build_edition(projects=1, standards_per_project=2)
    liaison, archivist = city.users[Role.LIAISON], city.users[Role.ARCHIVIST]
    assign_all(city, edition, city.school_a, liaison)
    client.force_login(city.users[Role.SCHOOL_HEAD])
    page = client.get(f"/duty/handover/?person={liaison.pk}").content.decode()
    assert "学校责任人 2 项" in page
    response = client.post(
        "/duty/handover/", {"person": liaison.pk, "successor": archivist.pk, "reason": "调岗"}
    )
    assert response.status_code == 302
    assert set(SchoolAssignment.objects.values_list("owner", flat=True)) == {archivist.pk}
    assert AuditEvent.objects.filter(event_type="duty.handover").exists() and verify_chain().ok


@pytest.fixture
def plan(city):
    edition = build_edition(projects=1, standards_per_project=2)
    first, second = edition.standards.order_by("position")
    office, teacher = city.users[Role.OFFICE], city.users[Role.TEACHER]
    late = services.task_create(
        school=city.school_a,
        standard=first,
        title="设置公益广告牌",
        due_date=dt.date(2026, 11, 30),
        assignee=teacher,
        actor=office,
    )
    done = services.task_create(
        school=city.school_a, standard=first, title="整理台账", due_date=dt.date(2026, 11, 30), actor=office
    )
    services.task_complete(task=done, actor=office)
    future = services.task_create(
        school=city.school_a,
        standard=second,
        title="主题班会",
        due_date=dt.date(2026, 12, 10),
        assignee=teacher,
        actor=office,
    )
    return edition, late, done, future


def test_overdue_tasks_are_flagged_by_the_shanghai_date(client, city, plan):
    edition, late, _done, _future = plan
    url = f"/duty/schools/{city.school_a.pk}/plan/?edition={edition.pk}"
    # (Log in inside each journey: a session idle since "before" would have expired.)
    # 23:30 on 30 Nov in Shanghai (15:30 UTC): due today, not overdue.
    with time_machine.travel(dt.datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI), tick=False):
        client.force_login(city.users[Role.LIAISON])
        page = client.get(url).content.decode()
        assert 'data-overdue="1"' not in page
    # 00:30 on 1 Dec in Shanghai, still 30 Nov in UTC: overdue.
    with time_machine.travel(dt.datetime(2026, 12, 1, 0, 30, tzinfo=SHANGHAI), tick=False):
        client.force_login(city.users[Role.LIAISON])
        response = client.get(url)
        page = response.content.decode()
        assert page.count('data-overdue="1"') == 1
        flagged = [t for e in response.context["entries"] for t in e["tasks"] if t.overdue]
        assert flagged == [late]  # the finished task of the same day is not overdue
        assert "逾期 1 项" in page


def test_plan_exports_open_again_with_the_right_content(client, city, plan):
    edition = plan[0]
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        client.force_login(city.users[Role.TEACHER])
        x = client.get(f"/duty/schools/{city.school_a.pk}/plan.xlsx?edition={edition.pk}")
        d = client.get(f"/duty/schools/{city.school_a.pk}/plan.docx?edition={edition.pk}")
    assert x.status_code == 200 and "attachment" in x["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == f"{city.school_a.name}创文工作计划"
    assert rows[2][:4] == ("序号", "标准编号", "测评标准", "工作内容")
    body = {r[3]: r for r in rows[3:]}
    assert set(body) == {"设置公益广告牌", "整理台账", "主题班会"}
    assert body["设置公益广告牌"][8] == "逾期" and body["整理台账"][6] == "已完成"
    assert body["主题班会"][5] == "2026-12-10"

    document = Document(io.BytesIO(d.content))
    assert document.paragraphs[0].text == f"{city.school_a.name}创文工作计划"
    table = document.tables[0]
    texts = [[c.text for c in row.cells] for row in table.rows]
    assert texts[0][0] == "序号" and len(texts) == 4
    assert any("设置公益广告牌" in row and "2026-11-30（逾期）" in row for row in texts)
    fonts = document.paragraphs[0].runs[0]._element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "宋体"
    assert AuditEvent.objects.filter(event_type="duty.plan_export").count() == 2


def test_task_forms(client, city, plan):
    edition = plan[0]
    teacher = city.users[Role.TEACHER]
    client.force_login(city.users[Role.LIAISON])
    standard = edition.standards.order_by("position").first()
    response = client.post(
        f"/duty/schools/{city.school_a.pk}/plan/new/?edition={edition.pk}",
        {
            "edition": edition.pk,
            "standard": standard.pk,
            "title": "张贴守则",
            "assignee": teacher.pk,
            "due_date": "2026-12-20",
            "progress_note": "",
        },
    )
    assert response.status_code == 302
    task = Task.objects.get(title="张贴守则")
    # The assignee edits status and progress only.
    client.force_login(teacher)
    page = client.get(f"/duty/tasks/{task.pk}/edit/").content.decode()
    assert 'name="due_date"' not in page and 'name="status"' in page
    response = client.post(
        f"/duty/tasks/{task.pk}/edit/", {"status": "doing", "progress_note": "已联系广告公司"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == "doing" and task.progress_note == "已联系广告公司"


def test_my_duties_panel_on_the_home_page(client, city, plan):
    edition = plan[0]
    services.assignment_set(
        school=city.school_a,
        standard=edition.standards.first(),
        owner=city.users[Role.TEACHER],
        actor=city.users[Role.OFFICE],
    )
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        client.force_login(city.users[Role.TEACHER])
        page = client.get("/").content.decode()
    assert 'data-testid="panel-my-duties"' in page
    assert page.index("设置公益广告牌") < page.index("主题班会")  # overdue first
    assert "逾期任务 1" in page
    client.force_login(city.users[Role.ARCHIVIST])
    assert 'data-testid="panel-my-duties"' not in client.get("/").content.decode()


def test_matrix_strip_is_compact_and_marks_each_state():
    from chuangwen.duty.views import _strip

    html = _strip(["o", "o", "u", "n", "n", "o", "u"], breaks={5})
    assert html == "■■<b>□</b><i>··</i> ■<b>□</b>"


def test_my_duties_costs_few_queries(city, django_assert_num_queries, plan):
    from chuangwen.core import access
    from chuangwen.duty.panels import my_duties_panel

    for role in (Role.ARCHIVIST, Role.TEACHER):
        access.scope_of(city.users[role])  # a request has computed it already
    with django_assert_num_queries(3):
        assert my_duties_panel(city.users[Role.ARCHIVIST]) is None
    with django_assert_num_queries(4):
        panel = my_duties_panel(city.users[Role.TEACHER])
    assert panel["counts"] == {"owned": 0, "led": 0, "tasks": 2}
