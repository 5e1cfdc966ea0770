"""The ledger pages through the test client: scoping, filters, every action, refusals, bulk, record, rules."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chuangwen.core.models import AuditEvent, EvidencePhoto
from chuangwen.core.roles import Role
from chuangwen.ledger import services
from chuangwen.ledger.models import LedgerSettings, Problem, ProblemEvent, Source, Status

from .factories import make_problem, make_setup, noisy_jpeg

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


def _numbers(response) -> set[str]:
    return {row["number"] for row in response.context["rows"]}


def _msgs(response) -> str:
    return response.content.decode()


@pytest.fixture
def setup(city):
    return make_setup(city)


def _c_problem(city, setup, **kwargs):
    """A problem at school_c (no standard owners there: its liaison, the outsider, is responsible)."""
    return make_problem(city, setup, school=city.school_c, responsible=city.outsider, **kwargs)


def _in_progress(city, setup, **kwargs):
    problem = make_problem(city, setup, **kwargs)
    return services.problem_move(problem=problem, code="accept", actor=city.users[Role.TEACHER])


def _pending(city, setup, seed: int, **kwargs):
    problem = _in_progress(city, setup, **kwargs)
    teacher = city.users[Role.TEACHER]
    services.problem_add_photo(problem=problem, file=noisy_jpeg(seed), purpose="after", actor=teacher)
    return services.problem_move(
        problem=problem, code="submit", actor=teacher, cause="值日缺位", measures="已清理"
    )


# --- the list: scoping and filters ---------------------------------------------------------------------


def test_a_school_never_sees_another_schools_problems(client, city, setup):
    a = make_problem(city, setup, description="甲校问题")
    c = _c_problem(city, setup, description="丙校问题")
    liaison = _login(client, city.users[Role.LIAISON]).get("/ledger/")
    assert _numbers(liaison) == {a.number}
    assert client.get(f"/ledger/{c.pk}/").status_code == 404
    outsider = _login(client, city.outsider).get("/ledger/")
    assert _numbers(outsider) == {c.number}
    assert client.get(f"/ledger/{a.pk}/").status_code == 404
    office = _login(client, city.users[Role.OFFICE]).get("/ledger/")
    assert _numbers(office) == {a.number, c.number}
    # A school id in the query string does not widen a school's view.
    assert _numbers(_login(client, city.outsider).get(f"/ledger/?school={city.school_a.pk}")) == {c.number}


def test_unannounced_problems_stay_hidden_from_the_school_until_its_inspection_is_submitted(client, city):
    from chuangwen.inspections import services as inspections

    setup = make_setup(city, kind="unannounced")
    inspector = city.users[Role.INSPECTOR]
    inspection = inspections.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    answer = inspections.answer_save(
        inspection=inspection, standard=setup.standards["1.1"], result="不达标", actor=inspector
    )
    problem = services.problem_create(
        school=city.school_a,
        description="暗访发现垃圾",
        inspection=inspection,
        answer=answer,
        actor=inspector,
    )
    for role in (Role.LIAISON, Role.SCHOOL_HEAD):
        _login(client, city.users[role])
        assert _numbers(client.get("/ledger/")) == set()
        assert client.get(f"/ledger/{problem.pk}/").status_code == 404
    assert problem.number in _numbers(_login(client, city.users[Role.OFFICE]).get("/ledger/"))
    inspections.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    _login(client, city.users[Role.LIAISON])
    assert _numbers(client.get("/ledger/")) == {problem.number}
    assert client.get(f"/ledger/{problem.pk}/").status_code == 200


def test_filters_narrow_the_list(client, city, setup):
    office = city.users[Role.OFFICE]
    assigned = make_problem(city, setup, description="操场垃圾", location="东操场")
    other_standard = make_problem(city, setup, code="1.2", description="广告破损")
    held = make_problem(city, setup, description="走廊墙面脏", assign=False)
    closed = _pending(city, setup, 1, description="厕所异味")
    services.problem_move(problem=closed, code="approve", actor=office)
    at_c = _c_problem(city, setup, description="丙校操场")
    Problem.objects.filter(pk=assigned.pk).update(deadline=timezone.now() - dt.timedelta(hours=2))
    _login(client, office)

    def numbers(query):
        response = client.get(f"/ledger/?{query}")
        assert response.status_code == 200
        return _numbers(response)

    assert numbers("status=open") == {assigned.number, other_standard.number, held.number, at_c.number}
    assert numbers("status=closed") == {closed.number}
    assert numbers("status=new") == {held.number}
    assert numbers(f"standard={setup.standards['1.2'].pk}") == {other_standard.number}
    assert numbers(f"school={city.school_c.pk}") == {at_c.number}
    assert numbers(f"responsible={city.outsider.pk}") == {at_c.number}
    assert numbers("overdue=on") == {assigned.number}
    assert numbers("q=东操场") == {assigned.number}
    assert numbers("q=操场") == {assigned.number, at_c.number}
    assert numbers("source=self") == set()
    assert numbers(f"round={setup.round.pk}&status=open&school={city.school_a.pk}") == {
        assigned.number,
        other_standard.number,
        held.number,
    }
    # Nonsense in the query string is ignored, never a crash page.
    assert client.get("/ledger/?school=abc&standard=-&status=nope&page=x").status_code == 200
    response = client.get("/ledger/?school=abc&status=open")
    assert response.status_code == 200 and len(_numbers(response)) == 4


def test_list_rows_show_markup_as_text_and_link_each_problem(client, city, setup):
    """The rows are built in Python (ledger/list_rows.py): every value from a user is escaped."""
    problem = make_problem(city, setup, description='<script>alert("x")</script>墙面', location="东楼 & 西楼")
    response = _login(client, city.users[Role.OFFICE]).get("/ledger/")
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;墙面" in html and "东楼 &amp; 西楼" in html
    assert f'<a href="/ledger/{problem.pk}/">{problem.number}</a>' in html
    assert f'<td data-label="学校" class="text-break">{city.school_a.name}</td>' in html
    liaison = _login(client, city.users[Role.LIAISON]).get("/ledger/").content.decode()
    assert 'data-label="学校"' not in liaison and 'name="ids"' not in liaison  # no school column, no bulk


def test_overdue_row_shows_the_red_light(client, city, setup):
    problem = make_problem(city, setup)
    Problem.objects.filter(pk=problem.pk).update(deadline=timezone.now() - dt.timedelta(minutes=5))
    response = _login(client, city.users[Role.LIAISON]).get("/ledger/")
    row = response.context["rows"][0]
    assert row["light"] == "red" and row["light_class"] == "danger"
    assert 'class="cw-light bg-danger" title="逾期" data-light="red"' in _msgs(response)
    assert '<tr data-testid="problem" class="table-danger">' in _msgs(response)


def _bulk_make(city, setup, n: int) -> None:
    """n problems written directly (the list's query count is what is measured, not the services)."""
    now = timezone.now()
    people = [city.users[Role.TEACHER], city.users[Role.LIAISON], city.outsider]
    rows = []
    for i in range(n):
        school = city.school_c if i % 3 == 2 else city.school_a
        rows.append(
            Problem(
                school=school,
                standard=list(setup.standards.values())[i % 4],
                round=setup.round,
                source=Source.MOCK,
                description=f"问题{i}",
                found_by=city.users[Role.INSPECTOR],
                found_at=now - dt.timedelta(minutes=i),
                status=Status.ASSIGNED,
                responsible=people[i % 3] if school == city.school_a else city.outsider,
                assigned_at=now - dt.timedelta(days=1),
                deadline=now + dt.timedelta(hours=i - 10),
            )
        )
    Problem.objects.bulk_create(rows)


@pytest.mark.parametrize("role", [Role.OFFICE, Role.LIAISON])
def test_the_list_makes_the_same_number_of_queries_for_5_and_60_problems(client, city, setup, role):
    _login(client, city.users[role])
    _bulk_make(city, setup, 5)
    client.get("/ledger/")  # warm per-process caches (content types, calendar)
    with CaptureQueriesContext(connection) as few:
        first = client.get("/ledger/")
    _bulk_make(city, setup, 55)
    with CaptureQueriesContext(connection) as many:
        second = client.get("/ledger/")
    assert len(first.context["rows"]) < len(second.context["rows"])
    assert len(few.captured_queries) == len(many.captured_queries), [q["sql"] for q in many.captured_queries]
    counts = [
        q["sql"] for q in many.captured_queries if "COUNT(*)" in q["sql"] and "ledger_problem" in q["sql"]
    ]
    assert len(counts) == 1


def test_the_list_pages_by_20_or_as_many_as_asked(client, city, setup):
    _bulk_make(city, setup, 60)
    _login(client, city.users[Role.OFFICE])
    first = client.get("/ledger/")
    assert len(first.context["rows"]) == 20 and "第 1 / 3 页" in _msgs(first)
    assert len(client.get("/ledger/?page=3").context["rows"]) == 20
    wide = client.get("/ledger/?per=50&page=2")
    assert len(wide.context["rows"]) == 10 and "第 2 / 2 页" in _msgs(wide)
    assert "per=50" in _msgs(wide)  # the pager keeps the page size
    assert len(client.get("/ledger/?per=7").context["rows"]) == 20  # not offered: the default


def test_district_and_school_type_filters_narrow_the_list_its_total_and_the_export(client, city, setup):
    """区县 and 学校类型 (what the dashboards narrow by): the rows, the total and the export agree; an id
    that is no district lists nothing; a school user has neither filter."""
    import io

    from openpyxl import load_workbook

    from chuangwen.org.models import Unit

    east = make_problem(city, setup, description="东区问题")
    west = _c_problem(city, setup, description="西区问题")
    Unit.objects.filter(pk=city.school_c.pk).update(school_type=Unit.SchoolType.JUNIOR)
    _login(client, city.users[Role.OFFICE])

    def listed(query):
        response = client.get(f"/ledger/?{query}")
        assert response.status_code == 200
        return _numbers(response), response.context["page"].paginator.count

    assert listed(f"district={city.district_a.pk}") == ({east.number}, 1)
    assert listed(f"district={city.district_b.pk}") == ({west.number}, 1)
    assert listed("school_type=junior") == ({west.number}, 1)
    assert listed(f"school_type=primary&district={city.district_b.pk}") == (set(), 0)
    assert listed(f"district={city.school_a.pk}") == (set(), 0)  # a school's id is no district
    page = _msgs(client.get(f"/ledger/?district={city.district_a.pk}"))
    assert f'<option value="{city.district_a.pk}" selected>东区</option>' in page
    export = client.get(f"/ledger/export.xlsx?district={city.district_b.pk}")
    sheet = load_workbook(
        io.BytesIO(b"".join(export.streaming_content) if export.streaming else export.content)
    ).active
    texts = {str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value}
    assert "西区问题" in texts and "东区问题" not in texts
    liaison = _msgs(_login(client, city.users[Role.LIAISON]).get("/ledger/"))
    assert 'name="district"' not in liaison and 'name="school_type"' not in liaison


def test_the_campaign_filter_lists_its_rounds_problems_and_those_recorded_on_its_days(client, city, setup):
    """创建周期: the problems of the campaign's rounds, plus those recorded outside any round on one of its
    days (the rule the dashboards count by, campaigns.selectors.problems_in); another campaign's are not
    listed; an unknown id lists nothing."""
    in_round = make_problem(city, setup, description="本周期轮次问题")
    other = make_setup(city)  # a second campaign over the same dates, with its own round
    theirs = make_problem(city, other, description="另一周期问题")
    daily = services.problem_create(
        school=city.school_a,
        standard=setup.standards["1.1"],
        description="日常检查问题",
        actor=city.users[Role.OFFICE],
    )
    Problem.objects.filter(pk=daily.pk).update(round=None)
    _login(client, city.users[Role.OFFICE])
    assert _numbers(client.get(f"/ledger/?campaign={setup.campaign.pk}")) == {in_round.number, daily.number}
    assert _numbers(client.get(f"/ledger/?campaign={other.campaign.pk}")) == {theirs.number, daily.number}
    assert _numbers(client.get("/ledger/?campaign=999999")) == set()
    page = _msgs(client.get(f"/ledger/?campaign={setup.campaign.pk}"))
    assert f'<option value="{setup.campaign.pk}" selected>{setup.campaign.name}</option>' in page


def test_export_keeps_the_filters_and_returns_a_workbook(client, city, setup):
    make_problem(city, setup)
    _login(client, city.users[Role.OFFICE])
    page = client.get("/ledger/?status=open&q=垃圾")
    assert "/ledger/export.xlsx?status=open&amp;q=" in _msgs(page)
    response = client.get("/ledger/export.xlsx?status=open")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- the problem page: actions ------------------------------------------------------------------------


def _move_cards(response) -> set[str]:
    return {item["move"].code for item in response.context["moves"]}


def test_the_problem_page_offers_only_the_allowed_actions(client, city, setup):
    problem = make_problem(city, setup)
    assert _move_cards(_login(client, city.users[Role.TEACHER]).get(f"/ledger/{problem.pk}/")) == {"accept"}
    office = _login(client, city.users[Role.OFFICE]).get(f"/ledger/{problem.pk}/")
    assert _move_cards(office) == {"void"}
    assert 'data-testid="move-void"' in _msgs(office) and 'data-testid="move-accept"' not in _msgs(office)
    assert _move_cards(_login(client, city.users[Role.ARCHIVIST]).get(f"/ledger/{problem.pk}/")) == set()
    assert _move_cards(_login(client, city.users[Role.LEADER]).get(f"/ledger/{problem.pk}/")) == set()


def test_the_problem_page_shows_the_facts(client, city, setup):
    problem = make_problem(city, setup, description="操场东侧有垃圾", location="东操场")
    Problem.objects.filter(pk=problem.pk).update(calendar_gap="2027")
    page = _msgs(_login(client, city.users[Role.OFFICE]).get(f"/ledger/{problem.pk}/"))
    for text in ("操场东侧有垃圾", "东操场", "校园环境整洁，无卫生死角", city.school_a.name, "模拟测评"):
        assert text in page
    assert "2027年节假日未录入，时限仅按周末计算" in page
    assert "交办" in page  # the timeline


def test_every_action_through_the_page_changes_the_state(client, city, setup):
    teacher, office = city.users[Role.TEACHER], city.users[Role.OFFICE]
    problem = make_problem(city, setup, assign=False)
    assert problem.status == Status.NEW

    def post(user, code, data=None):
        _login(client, user)
        response = client.post(f"/ledger/{problem.pk}/move/{code}/", data or {})
        assert response.status_code == 302, response.content.decode()[:2000]
        problem.refresh_from_db()
        return problem

    post(
        office,
        "assign",
        {"assign-responsible": teacher.pk, "assign-severity": "days", "assign-deadline_days": 5},
    )
    assert problem.status == Status.ASSIGNED and problem.deadline_days == 5 and problem.responsible == teacher
    post(teacher, "accept")
    assert problem.status == Status.IN_PROGRESS
    post(
        teacher,
        "submit",
        {"submit-cause": "值日缺位", "submit-measures": "已清理", "submit-photo": noisy_jpeg(11)},
    )
    assert problem.status == Status.PENDING_REVIEW and problem.cause == "值日缺位"
    assert services.after_photos(problem).count() == 1
    post(office, "reject", {"reject-reason": "死角仍有垃圾"})
    assert problem.status == Status.IN_PROGRESS and problem.recheck_note == "死角仍有垃圾"
    post(
        teacher,
        "submit",
        {"submit-cause": "值日缺位", "submit-measures": "再次清理", "submit-photo": noisy_jpeg(12)},
    )
    post(office, "approve", {"approve-note": "已到位"})
    assert problem.status == Status.CLOSED and problem.rechecked_by == office
    post(office, "reopen", {"reopen-reason": "群众再次反映"})
    assert problem.status == Status.IN_PROGRESS and problem.reopen_count == 1
    post(office, "void", {"void-reason": "重复登记"})
    assert problem.status == Status.VOID and problem.void_reason == "重复登记"
    moves = list(problem.events.filter(kind=ProblemEvent.Kind.MOVE).values_list("move", flat=True))
    assert moves == ["assign", "accept", "submit", "reject", "submit", "approve", "reopen", "void"]


def test_an_illegal_action_is_refused_with_the_reason_and_changes_nothing(client, city, setup):
    problem = make_problem(city, setup)
    events = problem.events.count()
    response = _login(client, city.users[Role.OFFICE]).post(f"/ledger/{problem.pk}/move/approve/", {})
    assert response.status_code == 400
    assert "当前为“已交办（待签收）”，不能复核通过并销号" in _msgs(response)
    response = _login(client, city.users[Role.INSPECTOR]).post(
        f"/ledger/{problem.pk}/move/void/", {"void-reason": "重复"}
    )
    assert response.status_code == 403 and "只有创文办可以作废" in _msgs(response)
    response = _login(client, city.outsider).post(f"/ledger/{problem.pk}/move/accept/", {})
    assert response.status_code == 404
    response = _login(client, city.users[Role.OFFICE]).post(
        f"/ledger/{problem.pk}/move/void/", {"void-reason": " "}
    )
    assert response.status_code == 400 and response.context["failed"] == "void"
    assert response.context["moves"][0]["form"].errors["reason"]
    assert client.post(f"/ledger/{problem.pk}/move/teleport/", {}).status_code == 404
    problem.refresh_from_db()
    assert problem.status == Status.ASSIGNED and problem.events.count() == events


def test_submit_without_an_after_photo_is_refused_and_changes_nothing(client, city, setup):
    problem = _in_progress(city, setup)
    _login(client, city.users[Role.TEACHER])
    response = client.post(
        f"/ledger/{problem.pk}/move/submit/", {"submit-cause": "值日缺位", "submit-measures": "已清理"}
    )
    assert response.status_code == 400
    assert response.context["failed"] == "submit"
    problem.refresh_from_db()
    assert problem.status == Status.IN_PROGRESS and problem.cause == ""
    # A file that is not a photo is refused on the form; no photo is kept.
    bad = SimpleUploadedFile("notes.jpg", b"not an image at all", content_type="image/jpeg")
    response = client.post(
        f"/ledger/{problem.pk}/move/submit/",
        {"submit-cause": "值日缺位", "submit-measures": "已清理", "submit-photo": bad},
    )
    assert response.status_code == 400
    problem.refresh_from_db()
    assert problem.status == Status.IN_PROGRESS and not services.after_photos(problem).exists()


def test_a_reused_after_photo_warns_the_rechecker(client, city, setup):
    teacher = city.users[Role.TEACHER]
    first = _in_progress(city, setup, description="一号问题")
    second = _in_progress(city, setup, description="二号问题")
    _login(client, teacher)
    for problem in (first, second):
        response = client.post(f"/ledger/{problem.pk}/photo/", {"purpose": "after", "photo": noisy_jpeg(42)})
        assert response.status_code == 302
    page = _login(client, city.users[Role.OFFICE]).get(f"/ledger/{second.pk}/")
    body = _msgs(page)
    assert "同一或高度相似的照片已用于其他问题/学校" in body and f"/ledger/{first.pk}/" in body
    assert "同一或高度相似的照片" not in _msgs(client.get(f"/ledger/{first.pk}/"))


def test_found_photos_include_the_inspections_answer_photos(client, city, setup):
    from chuangwen.core.evidence.services import evidence_photo_attach, evidence_photo_create
    from chuangwen.inspections import services as inspections

    inspector = city.users[Role.INSPECTOR]
    inspection = inspections.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    answer = inspections.answer_save(
        inspection=inspection, standard=setup.standards["1.1"], result="不达标", actor=inspector
    )
    photo = evidence_photo_create(
        file=noisy_jpeg(5), uploaded_by=inspector, school=city.school_a, purpose="found"
    )
    evidence_photo_attach(photo=photo, owner=answer, actor=inspector)
    problem = services.problem_create(
        school=city.school_a, description="垃圾", inspection=inspection, answer=answer, actor=inspector
    )
    page = _login(client, city.users[Role.OFFICE]).get(f"/ledger/{problem.pk}/")
    assert [p.pk for p in page.context["found_photos"]] == [photo.pk]
    assert f"/evidence/{photo.pk}/thumb.jpg" in _msgs(page)


def test_correction_needs_a_reason_and_is_recorded(client, city, setup):
    problem = make_problem(city, setup)
    _login(client, city.users[Role.OFFICE])
    url = f"/ledger/{problem.pk}/correct/"
    response = client.post(url, {"description": "操场西侧有垃圾", "reason": ""})
    assert response.status_code == 400
    problem.refresh_from_db()
    assert problem.description == "操场东侧有垃圾未清理"
    assert client.post(url, {"description": "操场西侧有垃圾", "reason": "位置记错"}).status_code == 302
    problem.refresh_from_db()
    assert problem.description == "操场西侧有垃圾"
    edit = problem.events.get(kind=ProblemEvent.Kind.EDIT)
    assert edit.note == "位置记错" and edit.data["before"]["description"] == "操场东侧有垃圾未清理"
    # A school may hand the problem over, not rewrite it.
    _login(client, city.users[Role.LIAISON])
    response = client.post(url, {"description": "没有问题", "reason": "不认可"})
    assert response.status_code == 400
    problem.refresh_from_db()
    assert problem.description == "操场西侧有垃圾"


def test_a_milestone_is_completed_from_the_page(client, city, setup):
    today = timezone.localdate()
    problem = make_problem(
        city,
        setup,
        severity="long",
        target_date=today + dt.timedelta(days=90),
        milestones=[("场地招标", today + dt.timedelta(days=20)), ("施工", today + dt.timedelta(days=60))],
    )
    milestone = problem.milestones.order_by("due_date").first()
    assert (
        _login(client, city.users[Role.OFFICE]).post(f"/ledger/milestones/{milestone.pk}/done/").status_code
        == 403
    )
    _login(client, city.users[Role.TEACHER])
    page = client.get(f"/ledger/{problem.pk}/")
    assert f"/ledger/milestones/{milestone.pk}/done/" in _msgs(page)
    assert client.post(f"/ledger/milestones/{milestone.pk}/done/").status_code == 302
    milestone.refresh_from_db()
    assert milestone.done_at is not None
    assert client.post(f"/ledger/milestones/{milestone.pk}/done/").status_code == 400


# --- bulk -----------------------------------------------------------------------------------------------


def test_bulk_is_all_or_nothing_and_names_the_refused_problem(client, city, setup):
    office = city.users[Role.OFFICE]
    ok = _pending(city, setup, 21)
    not_ready = make_problem(city, setup)
    _login(client, office)
    response = client.post(
        "/ledger/bulk/", {"ids": [ok.pk, not_ready.pk], "code": "approve", "next": "/ledger/"}, follow=True
    )
    body = _msgs(response)
    assert f"问题 {not_ready.number}" in body and "本批未做任何更改" in body
    ok.refresh_from_db()
    assert ok.status == Status.PENDING_REVIEW
    other = _pending(city, setup, 22)
    response = client.post("/ledger/bulk/", {"ids": [ok.pk, other.pk], "code": "approve"}, follow=True)
    assert "已复核通过 2 个问题" in _msgs(response)
    assert set(Problem.objects.filter(pk__in=[ok.pk, other.pk]).values_list("status", flat=True)) == {
        Status.CLOSED
    }


def test_bulk_reject_needs_a_reason_and_bulk_assign_uses_the_options(client, city, setup):
    office = city.users[Role.OFFICE]
    pending = _pending(city, setup, 31)
    _login(client, office)
    response = client.post(
        "/ledger/bulk/", {"ids": [pending.pk], "code": "reject", "reason": ""}, follow=True
    )
    assert "复核不通过必须填写原因" in _msgs(response)
    pending.refresh_from_db()
    assert pending.status == Status.PENDING_REVIEW
    held = [make_problem(city, setup, assign=False) for _ in range(2)]
    response = client.post(
        "/ledger/bulk/",
        {"ids": [p.pk for p in held], "code": "assign", "severity": "days", "deadline_days": "7"},
        follow=True,
    )
    assert "已交办 2 个问题" in _msgs(response)
    for p in held:
        p.refresh_from_db()
        assert p.status == Status.ASSIGNED and p.deadline_days == 7
    response = client.post("/ledger/bulk/", {"code": "approve"}, follow=True)
    assert "请先勾选要处理的问题" in _msgs(response)


def test_bulk_refuses_problems_out_of_sight(client, city, setup):
    pending = _pending(city, setup, 41)
    response = _login(client, city.users[Role.OFFICE]).post(
        "/ledger/bulk/", {"ids": [pending.pk, 999999], "code": "approve"}, follow=True
    )
    assert "本批未做任何更改" in _msgs(response)
    pending.refresh_from_db()
    assert pending.status == Status.PENDING_REVIEW


# --- recording a problem ----------------------------------------------------------------------------------


def test_record_form_validates_and_records_with_photos(client, city, setup):
    office = city.users[Role.OFFICE]
    _login(client, office)
    page = client.get("/ledger/new/")
    assert page.status_code == 200
    standards = list(page.context["form"].fields["standard"].queryset)
    assert set(standards) == set(setup.standards.values())  # the active campaign's edition
    response = client.post(
        "/ledger/new/", {"school": city.school_a.pk, "source": "daily", "severity": "immediate"}
    )
    assert response.status_code == 200 and response.context["form"].errors["description"]
    response = client.post(
        "/ledger/new/",
        {
            "school": city.school_a.pk,
            "source": "daily",
            "severity": "long",
            "description": "围墙破损",
            "standard": setup.standards["1.1"].pk,
        },
    )
    assert "长期整改必须填写目标日期" in _msgs(response)
    bad = SimpleUploadedFile("x.jpg", b"GIF89a-not-really", content_type="image/jpeg")
    response = client.post(
        "/ledger/new/",
        {
            "school": city.school_a.pk,
            "source": "daily",
            "severity": "immediate",
            "description": "围墙破损",
            "standard": setup.standards["1.1"].pk,
            "photos": [noisy_jpeg(51), bad],
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["photos"]
    assert not Problem.objects.filter(description="围墙破损").exists()
    assert not EvidencePhoto.objects.filter(purpose="found", owner_id__isnull=False).exists()
    response = client.post(
        "/ledger/new/",
        {
            "school": city.school_a.pk,
            "source": "daily",
            "severity": "days",
            "deadline_days": "4",
            "description": "围墙破损",
            "location": "北门",
            "standard": setup.standards["1.1"].pk,
            "photos": [noisy_jpeg(52), noisy_jpeg(53)],
        },
    )
    assert response.status_code == 302
    problem = Problem.objects.get(description="围墙破损")
    assert problem.status == Status.ASSIGNED and problem.responsible == city.users[Role.TEACHER]
    assert problem.source == Source.DAILY and problem.found_by == office and problem.deadline_days == 4
    assert EvidencePhoto.objects.filter(owner_id=problem.pk, purpose="found").count() == 2


def test_a_school_records_only_its_own_self_checks(client, city, setup):
    liaison = city.users[Role.LIAISON]
    _login(client, liaison)
    form = client.get("/ledger/new/").context["form"]
    assert list(form.fields["school"].queryset) == [city.school_a]
    assert [c[0] for c in form.fields["source"].choices] == ["self"]
    response = client.post(
        "/ledger/new/",
        {"school": city.school_c.pk, "source": "self", "severity": "immediate", "description": "乱贴"},
    )
    assert response.context["form"].errors["school"]
    response = client.post(
        "/ledger/new/",
        {"school": city.school_a.pk, "source": "daily", "severity": "immediate", "description": "乱贴"},
    )
    assert response.context["form"].errors["source"]
    response = client.post(
        "/ledger/new/",
        {
            "school": city.school_a.pk,
            "source": "self",
            "severity": "immediate",
            "description": "三楼乱贴",
            "responsible": city.users[Role.TEACHER].pk,
        },
    )
    assert response.status_code == 302
    problem = Problem.objects.get(description="三楼乱贴")
    assert problem.source == Source.SELF and problem.status == Status.ASSIGNED
    assert _login(client, city.users[Role.TEACHER]).get("/ledger/new/").status_code == 403


def test_a_department_head_records_and_leaves_it_for_the_office_to_assign(client, city, setup):
    _login(client, city.users[Role.DEPT_HEAD])
    response = client.post(
        "/ledger/new/",
        {
            "school": city.school_a.pk,
            "source": "daily",
            "severity": "immediate",
            "description": "食堂地面湿滑",
            "standard": setup.standards["1.1"].pk,
        },
    )
    assert response.status_code == 302
    problem = Problem.objects.get(description="食堂地面湿滑")
    assert problem.status == Status.NEW and problem.responsible == city.users[Role.TEACHER]


# --- the office's rules -------------------------------------------------------------------------------------


def _settings_post(**overrides):
    data = {
        "default_days": "3",
        "yellow_ratio": "0.25",
        "yellow_min_hours": "4",
        "remind_daily": "on",
        "ladder-TOTAL_FORMS": "3",
        "ladder-INITIAL_FORMS": "0",
        "ladder-MIN_NUM_FORMS": "0",
        "ladder-MAX_NUM_FORMS": "10",
        "ladder-0-after": "0",
        "ladder-0-roles": ["liaison", "responsible"],
        "ladder-0-label": "提醒学校",
        "ladder-1-after": "2",
        "ladder-1-roles": ["leader"],
        "ladder-1-label": "报局领导",
        "ladder-1-bulletin": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_settings_validation_and_audited_save(client, city):
    _login(client, city.users[Role.OFFICE])
    assert client.get("/ledger/settings/").status_code == 200
    for overrides, message in (
        ({"yellow_ratio": "1.5"}, "0.99"),
        ({"default_days": "0"}, "1"),
        ({"ladder-1-roles": None}, "请至少选择一个通知对象"),
        ({"ladder-1-after": "0"}, "已有一级升级"),
        ({"ladder-1-after": ""}, "请填写逾期后第几个工作日"),
    ):
        response = client.post("/ledger/settings/", _settings_post(**overrides))
        assert response.status_code == 200, overrides
        assert message in _msgs(response), overrides
        assert not LedgerSettings.objects.exists()
    response = client.post("/ledger/settings/", _settings_post(default_days="5", yellow_ratio="0.3"))
    assert response.status_code == 302
    saved = LedgerSettings.current()
    assert saved.default_days == 5 and str(saved.yellow_ratio) == "0.30"
    assert saved.ladder == [
        {"after": 0, "roles": ["liaison", "responsible"], "label": "提醒学校"},
        {"after": 2, "roles": ["leader"], "label": "报局领导", "bulletin": True},
    ]
    event = AuditEvent.objects.filter(event_type="ledger.settings").latest("seq")
    assert event.data["before"]["default_days"] == 3 and event.data["after"]["default_days"] == 5


def test_settings_page_warns_when_the_coming_year_has_no_holidays(client, city):
    from chuangwen.core.models import HolidayDay

    HolidayDay.objects.all().delete()
    from chuangwen.core import calendar

    calendar.invalidate()
    page = _login(client, city.users[Role.OFFICE]).get("/ledger/settings/")
    body = _msgs(page)
    assert 'data-testid="calendar-warning"' in body and "/admin/core/holidayday/" in body


def test_settings_service_refuses_others_and_bad_ladders(city):
    from django.core.exceptions import ValidationError

    from chuangwen.ledger.settings_service import ledger_settings_save

    values = {
        "default_days": 3,
        "yellow_ratio": "0.25",
        "yellow_min_hours": 4,
        "remind_daily": True,
        "ladder": [],
    }
    with pytest.raises(ValidationError, match="只有创文办"):
        ledger_settings_save(values=values, actor=city.users[Role.LEADER])
    with pytest.raises(ValidationError, match="未知的通知对象"):
        ledger_settings_save(
            values={**values, "ladder": [{"after": 1, "roles": ["janitor"]}]}, actor=city.users[Role.OFFICE]
        )
    assert not LedgerSettings.objects.exists()


def test_a_huge_ledger_is_counted_only_up_to_the_cap(client, city, setup, monkeypatch):
    from chuangwen.ledger import listing

    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    _bulk_make(city, setup, 5)
    _login(client, city.users[Role.OFFICE])
    page = client.get("/ledger/")
    assert "共 3+ 条" in _msgs(page)
    assert len(page.context["rows"]) == 3
    monkeypatch.setattr(listing, "COUNT_CAP", 10)
    assert "共 5 条" in _msgs(client.get("/ledger/"))


def test_a_cached_total_follows_every_move_at_once(client, city, setup, monkeypatch):
    """Large totals are cached; a problem's change makes them stale at once."""
    from chuangwen.ledger import listing

    monkeypatch.setattr(listing, "COUNT_CACHE_MIN", 2)
    _bulk_make(city, setup, 4)
    problems = list(Problem.objects.order_by("pk"))
    _login(client, city.users[Role.OFFICE])
    assert "共 4 条" in _msgs(client.get("/ledger/?status=open"))
    with CaptureQueriesContext(connection) as again:
        assert "共 4 条" in _msgs(client.get("/ledger/?status=open"))
    assert not [q for q in again.captured_queries if "COUNT(*)" in q["sql"] and "ledger_problem" in q["sql"]]
    services.problem_move(problem=problems[0], code="void", reason="重复", actor=city.users[Role.OFFICE])
    assert "共 3 条" in _msgs(client.get("/ledger/?status=open"))


def test_the_filter_dropdowns_keep_the_chosen_option(client, city, setup):
    make_problem(city, setup)
    _login(client, city.users[Role.OFFICE])
    page = _msgs(client.get(f"/ledger/?school={city.school_a.pk}&standard={setup.standards['1.1'].pk}"))
    assert f'<option value="{city.school_a.pk}" selected>{city.school_a.name}</option>' in page
    assert f'<option value="{city.school_c.pk}">' in page
    assert f'<option value="{setup.standards["1.1"].pk}" selected>1.1 ' in page


def test_dropdown_labels_are_escaped(client, city, setup):
    city.school_b.name = '<b onclick="x">东区&一小</b>'
    city.school_b.save()
    _login(client, city.users[Role.OFFICE])
    page = _msgs(client.get("/ledger/"))
    assert "&lt;b onclick=&quot;x&quot;&gt;东区&amp;一小&lt;/b&gt;" in page
    assert '<b onclick="x">' not in page


def _reads(captured, table: str) -> bool:
    return any(f'FROM "{table}"' in q["sql"] for q in captured.captured_queries)


def test_users_with_the_same_grants_share_the_dropdowns_and_others_do_not(client, city, setup):
    """The dropdowns are cached per set of grants: a second office user reads the first one's entry, a
    school's liaison (other grants) and an inspector (their own assigned rounds) never do. Schools and
    standards come from the catalogue every user shares: nobody reads them again within its minute."""
    from chuangwen.org.tests.factories import MembershipFactory, UserFactory

    make_problem(city, setup)
    colleague = UserFactory(username="office2")
    MembershipFactory(user=colleague, unit=city.bureau, role=Role.OFFICE)
    with CaptureQueriesContext(connection) as first:
        _login(client, city.users[Role.OFFICE]).get("/ledger/")
    assert _reads(first, "index_standard") and _reads(first, "campaigns_round")
    with CaptureQueriesContext(connection) as shared:
        assert _login(client, colleague).get("/ledger/").status_code == 200
    assert not _reads(shared, "campaigns_round")  # the office's entry
    assert not _reads(shared, "index_standard")  # the catalogue
    with CaptureQueriesContext(connection) as school:
        page = _msgs(_login(client, city.users[Role.LIAISON]).get("/ledger/"))
    assert _reads(school, "campaigns_round")  # its own entry
    assert not _reads(school, "index_standard")  # the shared catalogue
    assert f">{city.school_c.name}</option>" not in page  # not the bureau's school dropdown
    with CaptureQueriesContext(connection) as inspector:
        _login(client, city.users[Role.INSPECTOR]).get("/ledger/")
    assert _reads(inspector, "campaigns_round")


def test_a_district_office_picks_among_its_own_schools_only(client, city, setup):
    """The schools of the shared catalogue are narrowed to the user's reach: a district's 创文办 gets its
    district's schools, the city's office all of them."""
    from chuangwen.org.tests.factories import MembershipFactory, UserFactory

    district_office = UserFactory(username="east_office")
    MembershipFactory(user=district_office, unit=city.district_a, role=Role.OFFICE)
    _login(client, city.users[Role.OFFICE]).get("/ledger/")  # the catalogue is built by the city's office
    page = _msgs(_login(client, district_office).get("/ledger/"))
    assert f'<option value="{city.school_a.pk}">{city.school_a.name}</option>' in page
    assert f'<option value="{city.school_b.pk}">{city.school_b.name}</option>' in page
    assert f'<option value="{city.school_c.pk}">' not in page
    city_page = _msgs(_login(client, city.users[Role.OFFICE]).get("/ledger/"))
    assert f'<option value="{city.school_c.pk}">{city.school_c.name}</option>' in city_page


def test_a_new_school_round_or_standard_shows_in_the_dropdowns_at_once(client, city, setup):
    """Saving a unit, a round or a standard drops the shared catalogue and with it every cached dropdown:
    the next view lists it without waiting for the minute to pass. A school made inactive leaves it."""
    from chuangwen.campaigns import services as campaigns
    from chuangwen.index.models import Standard
    from chuangwen.org.tests.factories import SchoolFactory

    office = city.users[Role.OFFICE]
    _login(client, office).get("/ledger/")  # everything cached
    school = SchoolFactory(parent=city.district_b, name="西区新建小学")
    round_ = campaigns.round_create(
        campaign=setup.campaign,
        kind="self",
        name="新一轮自查",
        start_date=setup.campaign.start_date,
        end_date=setup.campaign.end_date,
        schools=[school],
        inspectors=[],
        actor=office,
    )
    standard = setup.standards["1.1"]
    Standard.objects.filter(pk=standard.pk).update(text="改过的标准文字（批量更新不发信号）")
    page = _msgs(client.get("/ledger/"))
    assert f'<option value="{school.pk}">西区新建小学</option>' in page
    assert f'<option value="{round_.pk}">新一轮自查</option>' in page
    city.school_c.is_active = False
    city.school_c.save()
    page = _msgs(client.get("/ledger/"))
    assert f'<option value="{city.school_c.pk}">' not in page
    assert "改过的标准文字" in page  # re-read with the catalogue the school's save dropped


def test_the_lists_cached_rules_follow_a_save_at_once(city):
    """The list shows its lights with `LedgerSettings.for_display()` (cached); saving the rules drops the
    cached copy, so the next list uses the new rules, while decisions keep reading `current()`."""
    first = LedgerSettings.for_display()
    rules = LedgerSettings.current()
    rules.default_days = first.default_days + 2
    rules.save()
    assert LedgerSettings.for_display().default_days == first.default_days + 2
    LedgerSettings.objects.filter(pk=1).update(default_days=first.default_days + 3)  # no save(): cached
    assert LedgerSettings.for_display().default_days == first.default_days + 2
    assert LedgerSettings.current().default_days == first.default_days + 3


def test_whether_a_user_is_responsible_is_asked_once_per_request(city, setup):
    """visible_problems asks "responsible for any problem?" once per user object (one request), and
    access.forget drops the answer with the scope."""
    from chuangwen.core import access
    from chuangwen.ledger import selectors

    teacher = city.users[Role.TEACHER]
    with CaptureQueriesContext(connection) as captured:
        list(selectors.visible_problems(teacher))
        list(selectors.visible_problems(teacher, counting=True))
    sqls = [q["sql"] for q in captured.captured_queries]
    asked = [sql for sql in sqls if '"responsible_id" =' in sql and "LIMIT 1" in sql]
    assert len(asked) == 1
    problem = make_problem(city, setup)  # the teacher owns the standards at school_a: responsible now
    access.forget(teacher)
    assert problem in selectors.visible_problems(teacher)


def test_on_a_phone_the_filters_fold_behind_a_button_that_counts_them(client, city, setup):
    _login(client, city.users[Role.OFFICE])
    assert "已选" not in _msgs(client.get("/ledger/"))
    page = _msgs(client.get(f"/ledger/?status=open&district={city.district_a.pk}&q=垃圾"))
    assert 'data-testid="filters-toggle"' in page and "筛选条件（已选 3 项）" in page
