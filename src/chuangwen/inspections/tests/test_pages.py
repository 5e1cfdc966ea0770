"""The inspection pages through the test client: saving as answers are given (htmx and plain posts), photos,
the one-tap ledger problem, submit, corrections, the list, and who sees which inspection."""

import re
from decimal import Decimal

import pytest

from chuangwen.core.models import AuditEvent, EvidencePhoto
from chuangwen.core.roles import Role
from chuangwen.inspections import services
from chuangwen.inspections.models import Answer, Inspection
from chuangwen.ledger.models import Problem, Severity
from chuangwen.ledger.tests.factories import jpeg, make_setup

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def setup(city):
    return make_setup(city)


@pytest.fixture
def inspector(city):
    return city.users[Role.INSPECTOR]


@pytest.fixture
def inspection(city, setup, inspector):
    return services.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)


@pytest.fixture
def as_inspector(client, inspector):
    client.force_login(inspector)
    return client


def _answer_url(inspection, standard, suffix=""):
    return f"/inspections/{inspection.pk}/answer/{standard.pk}/{suffix}"


def _save(inspection, setup, code, actor, **kwargs):
    return services.answer_save(inspection=inspection, standard=setup.standards[code], actor=actor, **kwargs)


def _text(response) -> str:
    return response.content.decode()


# --- start and the inspection page ------------------------------------------------------------------


def test_start_from_the_round_page_opens_the_inspection(client, city, setup, inspector):
    client.force_login(inspector)
    page = _text(client.get(f"/campaigns/rounds/{setup.round.pk}/"))
    assert f'action="/inspections/start/{setup.round.pk}/{city.school_a.pk}/"' in page
    response = client.post(f"/inspections/start/{setup.round.pk}/{city.school_a.pk}/")
    inspection = Inspection.objects.get(round=setup.round, school=city.school_a)
    assert response.status_code == 302 and response["Location"] == f"/inspections/{inspection.pk}/"
    page = _text(client.get(f"/campaigns/rounds/{setup.round.pk}/"))
    assert f'href="/inspections/{inspection.pk}/"' in page and "继续检查" in page


def test_round_page_offers_nothing_to_people_who_may_not_inspect(client, city, setup):
    client.force_login(city.users[Role.LEADER])
    page = _text(client.get(f"/campaigns/rounds/{setup.round.pk}/"))
    assert "/inspections/start/" not in page
    assert client.post(f"/inspections/start/{setup.round.pk}/{city.school_a.pk}/").status_code == 403
    assert not Inspection.objects.exists()


def test_start_refused_for_a_school_outside_the_round(as_inspector, city, setup):
    assert as_inspector.post(f"/inspections/start/{setup.round.pk}/{city.school_b.pk}/").status_code == 404


def test_inspection_page_shows_the_cards_grouped_with_protocol_and_camera(as_inspector, setup, inspection):
    page = _text(as_inspector.get(f"/inspections/{inspection.pk}/"))
    assert "校园环境" in page  # the index group
    assert page.count('data-testid="card"') == 4
    for code in ("1.1", "1.2", "1.3", "1.4"):
        assert f"检查方法：检查方法{code}" in page
    assert 'accept="image/*" capture="environment"' not in page  # no photo before an answer
    assert "评分后可拍照取证" in page
    assert "已评 <strong>0</strong> / 4 项" in page
    # The negative-list item has no 不适用; the others do.
    card_14 = page.split('data-code="1.4"')[1].split('data-testid="card"')[0]
    assert "不适用" not in card_14
    card_11 = page.split('data-code="1.1"')[1].split('data-testid="card"')[0]
    assert 'value="不适用"' in card_11 and 'value="基本达标"' in card_11


# --- saving answers -------------------------------------------------------------------------------------


def test_htmx_answer_returns_the_card_with_saved_mark_and_progress(as_inspector, setup, inspection):
    standard = setup.standards["1.1"]
    response = as_inspector.post(
        _answer_url(inspection, standard),
        {"result": "基本达标", "note": "走廊有纸屑", "revision": "0"},
        **HTMX,
    )
    assert response.status_code == 200
    body = _text(response)
    assert re.search(r"已保存 \d\d:\d\d", body)
    assert f'id="s{standard.pk}"' in body and 'value="1"' in body  # the new revision
    assert 'hx-swap-oob="true"' in body and "已评 <strong>1</strong> / 4 项" in body
    unanswered = body.split('<div id="unanswered"')[1]
    assert "还有 3 项未评" in unanswered and f'href="#s{standard.pk}"' not in unanswered
    answer = Answer.objects.get(inspection=inspection, standard=standard)
    assert (answer.result, answer.note, answer.points) == ("基本达标", "走廊有纸屑", Decimal("2.40"))
    assert "<html" not in body  # a fragment, not the page


def test_bad_result_shows_the_error_and_saves_nothing(as_inspector, setup, inspection):
    standard = setup.standards["1.1"]
    response = as_inspector.post(
        _answer_url(inspection, standard), {"result": "优秀", "note": "保留我", "revision": "0"}, **HTMX
    )
    body = _text(response)
    assert response.status_code == 200
    assert 'data-testid="error"' in body and "结果只能是：达标、基本达标、不达标、不适用" in body
    assert "保留我" in body  # what was typed is not lost on the page
    assert "已保存" not in body
    body = _text(
        as_inspector.post(_answer_url(inspection, standard), {"note": "先写说明", "revision": "0"}, **HTMX)
    )
    assert "请先选择评分结果，说明会随结果一起保存" in body and "先写说明" in body
    assert not Answer.objects.exists()


def test_stale_revision_asks_to_refresh_and_keeps_the_colleagues_answer(
    as_inspector, city, setup, inspection
):
    standard = setup.standards["1.1"]
    _save(inspection, setup, "1.1", city.users[Role.OFFICE], result="不达标")
    response = as_inspector.post(
        _answer_url(inspection, standard), {"result": "达标", "revision": "0"}, **HTMX
    )
    body = _text(response)
    assert "请刷新" in body and "刷新页面" in body
    answer = Answer.objects.get()
    assert (answer.result, answer.revision) == ("不达标", 1)


def test_plain_post_without_js_redirects_back_to_the_card(as_inspector, setup, inspection):
    standard = setup.standards["1.2"]
    response = as_inspector.post(_answer_url(inspection, standard), {"result": "合格", "revision": "0"})
    assert response.status_code == 302
    assert response["Location"] == f"/inspections/{inspection.pk}/#s{standard.pk}"
    assert Answer.objects.get().result == "合格"
    bad = as_inspector.post(
        _answer_url(inspection, standard), {"result": "达标", "revision": "1"}, follow=True
    )
    assert "1.2：1.2 的结果只能是：合格、不合格、不适用" in _text(bad)
    assert Answer.objects.get().result == "合格"


def test_deduction_counts_with_minus_and_plus(as_inspector, setup, inspection):
    standard = setup.standards["1.3"]
    url = _answer_url(inspection, standard)
    as_inspector.post(url, {"occurrences": "0", "delta": "1", "revision": "0"}, **HTMX)
    as_inspector.post(url, {"occurrences": "1", "delta": "1", "revision": "1"}, **HTMX)
    answer = Answer.objects.get()
    assert (answer.occurrences, answer.points) == (2, Decimal("2.00"))
    as_inspector.post(url, {"occurrences": "2", "delta": "-1", "revision": "2"}, **HTMX)
    answer.refresh_from_db()
    assert (answer.occurrences, answer.points) == (1, Decimal("3.00"))
    # 不适用 ticked: neither sum counts it; a tap on + counts again.
    as_inspector.post(url, {"occurrences": "1", "result": "不适用", "revision": "3"}, **HTMX)
    answer.refresh_from_db()
    assert answer.not_applicable
    as_inspector.post(url, {"occurrences": "1", "result": "不适用", "delta": "1", "revision": "4"}, **HTMX)
    answer.refresh_from_db()
    assert (answer.result, answer.occurrences) == ("", 2)
    body = _text(as_inspector.post(url, {"occurrences": "abc", "revision": "5"}, **HTMX))
    assert "次数须为整数" in body
    answer.refresh_from_db()
    assert answer.revision == 5


def test_viewers_who_may_not_inspect_cannot_answer(client, city, setup, inspection):
    client.force_login(city.users[Role.LEADER])
    page = _text(client.get(f"/inspections/{inspection.pk}/"))
    assert "您可以查看，不能评分" in page and "hx-post" not in page
    response = client.post(_answer_url(inspection, setup.standards["1.1"]), {"result": "达标"}, **HTMX)
    assert response.status_code == 403
    assert not Answer.objects.exists()


def test_standard_of_another_edition_is_not_found(as_inspector, city, inspection):
    other = make_setup(city)
    response = as_inspector.post(_answer_url(inspection, other.standards["1.1"]), {"result": "达标"})
    assert response.status_code == 404


# --- photos --------------------------------------------------------------------------------------------


def test_photo_upload_shows_the_thumbnail(as_inspector, setup, inspection, inspector):
    standard = setup.standards["1.1"]
    _save(inspection, setup, "1.1", inspector, result="不达标")
    body = _text(as_inspector.post(_answer_url(inspection, standard, "photo/"), {"photo": jpeg()}, **HTMX))
    photo = EvidencePhoto.objects.get()
    assert photo.owner == Answer.objects.get()
    assert f"/evidence/{photo.pk}/thumb.jpg" in body and 'capture="environment"' in body
    assert 'data-testid="error"' not in body


def test_a_photo_used_before_is_saved_with_a_warning(as_inspector, setup, inspection, inspector):
    from chuangwen.core.evidence.selectors import REUSE_MESSAGE

    for code in ("1.1", "1.2"):
        _save(inspection, setup, code, inspector, result="不达标" if code == "1.1" else "不合格")
    first = _text(
        as_inspector.post(
            _answer_url(inspection, setup.standards["1.1"], "photo/"), {"photo": jpeg()}, **HTMX
        )
    )
    assert REUSE_MESSAGE not in first
    again = _text(
        as_inspector.post(
            _answer_url(inspection, setup.standards["1.2"], "photo/"), {"photo": jpeg()}, **HTMX
        )
    )
    assert f"照片已保存，但{REUSE_MESSAGE}" in again
    assert EvidencePhoto.objects.count() == 2


def test_bad_photo_file_is_refused_clearly(as_inspector, setup, inspection, inspector):
    from django.core.files.uploadedfile import SimpleUploadedFile

    standard = setup.standards["1.1"]
    _save(inspection, setup, "1.1", inspector, result="不达标")
    fake = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    body = _text(as_inspector.post(_answer_url(inspection, standard, "photo/"), {"photo": fake}, **HTMX))
    assert "照片未保存：" in body and 'data-testid="error"' in body
    body = _text(as_inspector.post(_answer_url(inspection, standard, "photo/"), {}, **HTMX))
    assert "请选择或拍摄一张照片" in body
    assert not EvidencePhoto.objects.exists()


def test_photo_before_an_answer_is_refused(as_inspector, setup, inspection):
    standard = setup.standards["1.2"]
    response = as_inspector.post(_answer_url(inspection, standard, "photo/"), {"photo": jpeg()}, follow=True)
    assert "请先给出本项的评分结果，再拍照上传" in _text(response)
    assert not EvidencePhoto.objects.exists()


# --- the one-tap problem ----------------------------------------------------------------------------------


def test_lost_answer_opens_a_ledger_problem_with_one_tap(as_inspector, city, setup, inspection, inspector):
    standard = setup.standards["1.1"]
    _save(inspection, setup, "1.1", inspector, result="不达标", note="操场东侧有垃圾")
    page = _text(as_inspector.get(f"/inspections/{inspection.pk}/"))
    assert page.count('data-testid="problem-button"') == 1
    body = _text(as_inspector.post(_answer_url(inspection, standard, "problem/"), **HTMX))
    problem = Problem.objects.get()
    assert problem.answer == Answer.objects.get() and problem.inspection == inspection
    assert problem.description == "1.1 校园环境整洁，无卫生死角：不达标。操场东侧有垃圾"
    assert problem.severity == Severity.IMMEDIATE and problem.responsible == city.users[Role.TEACHER]
    assert (
        f'href="/ledger/{problem.pk}/"' in body
        and f'已登记问题 <a href="/ledger/{problem.pk}/">{problem.number}' in body
    )
    again = _text(as_inspector.post(_answer_url(inspection, standard, "problem/"), **HTMX))
    assert "不要重复登记" in again and Problem.objects.count() == 1


def test_problem_form_takes_severity_and_location_and_checks_them(as_inspector, setup, inspection, inspector):
    standard = setup.standards["1.3"]
    _save(inspection, setup, "1.3", inspector, occurrences=2)
    url = _answer_url(inspection, standard, "problem/")
    body = _text(
        as_inspector.post(url, {"description": "墙面涂画", "severity": "days", "location": "三楼"}, **HTMX)
    )
    assert "限期整改请填写工作日数" in body and not Problem.objects.exists()
    # What was typed comes back in the opened form.
    assert '<details class="mt-1" open>' in body and ">墙面涂画</textarea>" in body
    assert 'value="days" id="sv' in body and 'value="三楼"' in body
    assert re.search(r'value="days" id="sv\d+-d" checked', body)
    body = _text(
        as_inspector.post(
            url, {"description": "墙面涂画", "severity": "long", "target_date": "2020-01-01"}, **HTMX
        )
    )
    assert "问题未登记：目标日期不能早于今天" in body and 'value="2020-01-01"' in body
    assert not Problem.objects.exists()
    body = _text(as_inspector.post(url, {"description": "  ", "severity": "immediate"}, **HTMX))
    assert "请填写问题描述" in body and not Problem.objects.exists()
    as_inspector.post(
        url, {"description": "墙面涂画", "severity": "days", "deadline_days": "3", "location": "三楼"}
    )
    problem = Problem.objects.get()
    assert (problem.severity, problem.deadline_days, problem.location) == ("days", 3, "三楼")


def test_no_problem_for_a_full_score_answer(as_inspector, setup, inspection, inspector):
    _save(inspection, setup, "1.2", inspector, result="合格")
    body = _text(as_inspector.post(_answer_url(inspection, setup.standards["1.2"], "problem/"), **HTMX))
    assert "本项没有失分" in body and not Problem.objects.exists()


# --- submit and the result ----------------------------------------------------------------------------------


def test_submit_lists_the_unanswered_then_partial_submits(as_inspector, setup, inspection, inspector):
    _save(inspection, setup, "1.1", inspector, result="基本达标")
    response = as_inspector.post(f"/inspections/{inspection.pk}/submit/", follow=True)
    assert "还有 3 项标准未评分（1.2、1.3、1.4）" in _text(response)
    inspection.refresh_from_db()
    assert not inspection.is_submitted
    response = as_inspector.post(f"/inspections/{inspection.pk}/submit/", {"partial": "on"}, follow=True)
    page = _text(response)
    inspection.refresh_from_db()
    assert inspection.is_submitted and inspection.score == Decimal("60.00")
    assert "检查已提交：60.00 分" in page
    assert 'data-testid="score">60.00<' in page and "未检查 3 项" in page
    assert "hx-post" not in page  # read only now


def test_result_shows_veto_raw_score_lost_points_and_problems(as_inspector, setup, inspection, inspector):
    for code, result in (("1.1", "达标"), ("1.2", "不合格"), ("1.4", "不合格")):
        _save(inspection, setup, code, inspector, result=result)
    _save(inspection, setup, "1.3", inspector, occurrences=1)
    as_inspector.post(_answer_url(inspection, setup.standards["1.2"], "problem/"))
    as_inspector.post(f"/inspections/{inspection.pk}/submit/")
    page = _text(as_inspector.get(f"/inspections/{inspection.pk}/"))
    assert 'data-testid="score">0.00<' in page
    assert 'data-testid="raw-score">63.64<' in page  # 7 of 11 points
    assert "负面清单事项不合格：1.4，一票否决" in page
    assert page.count('data-testid="lost-row"') == 3
    assert page.count('data-testid="result-problem"') == 1
    assert "失 2 分" in page  # 1.2: 2 points lost


# --- corrections --------------------------------------------------------------------------------------


def _submitted(inspection, setup, inspector):
    _save(inspection, setup, "1.1", inspector, result="不达标")
    services.inspection_submit(inspection=inspection, actor=inspector, partial=True)


def test_office_corrects_with_a_reason_and_the_history_shows(client, city, setup, inspection, inspector):
    _submitted(inspection, setup, inspector)
    client.force_login(city.users[Role.OFFICE])
    url = _answer_url(inspection, setup.standards["1.1"], "correct/")
    form = _text(client.get(url))
    assert "更正原因" in form and 'value="基本达标"' in form
    response = client.post(url, {"result": "达标", "reason": ""})
    assert response.status_code == 200 and "更正评分必须填写原因" in _text(response)
    assert Answer.objects.get().result == "不达标"
    response = client.post(url, {"result": "达标", "reason": "复核照片后确认达标"})
    assert response.status_code == 302
    inspection.refresh_from_db()
    assert inspection.score == Decimal("100.00") and Answer.objects.get().result == "达标"
    page = _text(client.get(f"/inspections/{inspection.pk}/"))
    history = page.split('data-testid="correction"')[1]
    assert "不达标（0.00 分）→ 达标（4.00 分）" in history and "原因：复核照片后确认达标" in history
    assert "总分 0.00 → 100.00" in history
    assert (
        AuditEvent.objects.filter(event_type="inspection.correct", object_id=str(inspection.pk)).count() == 1
    )


def test_correction_is_refused_to_inspectors_and_before_submission(
    client, city, setup, inspection, inspector
):
    _save(inspection, setup, "1.1", inspector, result="不达标")
    client.force_login(city.users[Role.OFFICE])
    url = _answer_url(inspection, setup.standards["1.1"], "correct/")
    response = client.post(url, {"result": "达标", "reason": "x"}, follow=True)
    assert "检查尚未提交" in _text(response) and Answer.objects.get().result == "不达标"
    services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    client.force_login(inspector)
    assert client.post(url, {"result": "达标", "reason": "x"}).status_code == 403
    page = _text(client.get(f"/inspections/{inspection.pk}/"))
    assert "/correct/" not in page
    # An unchecked standard of a partial submission has nothing to correct.
    client.force_login(city.users[Role.OFFICE])
    response = client.get(_answer_url(inspection, setup.standards["1.2"], "correct/"), follow=True)
    assert "在提交时未检查" in _text(response)


def test_correcting_a_deduction_takes_a_count(client, city, setup, inspection, inspector):
    _save(inspection, setup, "1.3", inspector, occurrences=0)
    _save(inspection, setup, "1.4", inspector, result="合格")
    services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    client.force_login(city.users[Role.OFFICE])
    url = _answer_url(inspection, setup.standards["1.3"], "correct/")
    response = client.post(url, {"result": "", "occurrences": "", "reason": "复看照片"})
    assert "请填写发现的次数" in _text(response)
    assert (
        client.post(url, {"result": "", "occurrences": "3", "reason": "复看照片有三处涂画"}).status_code
        == 302
    )
    answer = Answer.objects.get(standard=setup.standards["1.3"])
    assert (answer.occurrences, answer.points) == (3, Decimal("1.00"))
    inspection.refresh_from_db()
    assert inspection.score == Decimal("40.00")  # 2 of 5 points
    veto_form = _text(client.get(_answer_url(inspection, setup.standards["1.4"], "correct/")))
    assert 'value="不合格"' in veto_form and 'value="不适用"' not in veto_form


def test_round_page_links_to_the_result_after_submission(client, city, setup, inspection, inspector):
    _save(inspection, setup, "1.1", inspector, result="达标")
    services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    for user in (inspector, city.users[Role.LIAISON]):
        client.force_login(user)
        page = _text(client.get(f"/campaigns/rounds/{setup.round.pk}/"))
        assert f'href="/inspections/{inspection.pk}/"' in page and "查看结果 · 100.00 分" in page
    # The liaison of school_a is offered nothing at school_c (not in their reach, and not theirs to inspect).
    assert f"/inspections/start/{setup.round.pk}/" not in page


def test_self_check_is_started_by_the_school_head_from_my_tasks(client, city, setup):
    from .test_services import self_round

    round_ = self_round(city, setup)
    client.force_login(city.users[Role.SCHOOL_HEAD])
    tasks = _text(client.get("/inspections/")).split('data-testid="tasks"')[1]
    assert round_.name in tasks and f'action="/inspections/start/{round_.pk}/{city.school_a.pk}/"' in tasks
    response = client.post(f"/inspections/start/{round_.pk}/{city.school_a.pk}/")
    inspection = Inspection.objects.get(round=round_)
    assert response["Location"] == f"/inspections/{inspection.pk}/"
    response = client.post(_answer_url(inspection, setup.standards["1.1"]), {"result": "达标"}, **HTMX)
    assert "已保存" in _text(response)
    # Their archivist sees the self-check only once it is submitted.
    client.force_login(city.users[Role.ARCHIVIST])
    assert client.get(f"/inspections/{inspection.pk}/").status_code == 404


# --- who sees what --------------------------------------------------------------------------------------


def test_school_cannot_see_an_unannounced_inspection_until_submitted(client, city, inspector):
    setup = make_setup(city, kind="unannounced")
    inspection = services.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    _save(inspection, setup, "1.1", inspector, result="不达标")
    liaison = city.users[Role.LIAISON]
    client.force_login(liaison)
    assert client.get(f"/inspections/{inspection.pk}/").status_code == 404
    assert 'data-testid="inspection"' not in _text(client.get("/inspections/"))
    services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    assert client.get(f"/inspections/{inspection.pk}/").status_code == 200
    listing = _text(client.get("/inspections/"))
    assert listing.count('data-testid="inspection"') == 1 and city.school_a.name in listing


def test_school_sees_its_own_result_but_not_another_schools(client, city, setup, inspector):
    mine = services.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    theirs = services.inspection_start(round_=setup.round, school=city.school_c, actor=inspector)
    for inspection in (mine, theirs):
        _save(inspection, setup, "1.1", inspector, result="达标")
        services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    client.force_login(city.users[Role.SCHOOL_HEAD])
    assert client.get(f"/inspections/{mine.pk}/").status_code == 200
    assert client.get(f"/inspections/{theirs.pk}/").status_code == 404
    assert client.post(_answer_url(theirs, setup.standards["1.1"]), {"result": "不达标"}).status_code == 404
    client.force_login(city.outsider)
    assert client.get(f"/inspections/{mine.pk}/").status_code == 404
    assert client.get(f"/inspections/{theirs.pk}/").status_code == 200
    # Teachers follow their problems in the ledger, not the inspection.
    client.force_login(city.users[Role.TEACHER])
    assert client.get(f"/inspections/{mine.pk}/").status_code == 404


def test_list_shows_my_tasks_with_status_per_school(as_inspector, city, setup, inspection, inspector):
    _save(inspection, setup, "1.1", inspector, result="达标")
    page = _text(as_inspector.get("/inspections/"))
    tasks = page.split('data-testid="tasks"')[1].split("检查记录")[0]
    assert setup.round.name in tasks and "已提交 0 / 2" in tasks
    assert tasks.count('data-testid="task-school"') == 2
    assert "继续检查" in tasks  # school_a
    assert f'action="/inspections/start/{setup.round.pk}/{city.school_c.pk}/"' in tasks
    services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    tasks = _text(as_inspector.get("/inspections/")).split('data-testid="tasks"')[1]
    assert "查看结果 · 100.00 分" in tasks and "已提交 1 / 2" in tasks


def test_list_filters_by_round_and_others_have_no_tasks(client, city, setup, inspection, inspector):
    other = make_setup(city)
    services.inspection_start(round_=other.round, school=city.school_c, actor=inspector)
    client.force_login(city.users[Role.LEADER])
    page = _text(client.get("/inspections/"))
    assert page.count('data-testid="inspection"') == 2 and 'data-testid="tasks"' not in page
    page = _text(client.get(f"/inspections/?round={setup.round.pk}"))
    assert page.count('data-testid="inspection"') == 1 and city.school_a.name in page


def test_list_query_count_does_not_grow(client, city, inspector, django_assert_max_num_queries):
    client.force_login(inspector)
    setups = [make_setup(city) for _ in range(4)]
    for s in setups[:1]:
        services.inspection_start(round_=s.round, school=city.school_a, actor=inspector)
    with django_assert_max_num_queries(14) as few:
        client.get("/inspections/")
    for s in setups[1:]:
        for school in (city.school_a, city.school_c):
            services.inspection_start(round_=s.round, school=school, actor=inspector)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/inspections/")


def test_detail_query_count_does_not_grow_with_answers(
    as_inspector, setup, inspection, inspector, django_assert_max_num_queries
):
    _save(inspection, setup, "1.1", inspector, result="不达标")
    with django_assert_max_num_queries(40) as few:
        as_inspector.get(f"/inspections/{inspection.pk}/")
    for code in ("1.2", "1.4"):
        _save(inspection, setup, code, inspector, result="不合格")
        services.answer_add_photo(
            answer=Answer.objects.get(standard=setup.standards[code]), file=jpeg(), actor=inspector
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        as_inspector.get(f"/inspections/{inspection.pk}/")


def test_round_page_actions_cost_the_same_for_more_schools(
    client, city, setup, inspector, django_assert_max_num_queries
):
    from chuangwen.campaigns import services as campaigns

    office = city.users[Role.OFFICE]
    bigger = campaigns.round_create(
        campaign=setup.campaign,
        kind="mock",
        name="三校轮次",
        start_date=setup.campaign.start_date,
        end_date=setup.campaign.end_date,
        schools=[city.school_a, city.school_b, city.school_c],
        inspectors=[inspector],
        actor=office,
    )
    bigger = campaigns.round_transition(round_=bigger, to="in_progress", actor=office)
    services.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    services.inspection_start(round_=bigger, school=city.school_b, actor=inspector)
    client.force_login(inspector)
    with django_assert_max_num_queries(30) as two:
        client.get(f"/campaigns/rounds/{setup.round.pk}/")
    with django_assert_max_num_queries(len(two.captured_queries)):
        page = _text(client.get(f"/campaigns/rounds/{bigger.pk}/"))
    assert (
        page.count('data-testid="inspection-start"') == 2
        and page.count('data-testid="inspection-continue"') == 1
    )
