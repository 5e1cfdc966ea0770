"""The inspections and ledger API: the same workflow as the pages, driven by a city platform or a phone app.

Mostly called with bearer tokens (what integrations use); session writes are checked for CSRF at the end.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chuangwen.accounts.services import token_create
from chuangwen.core.models import EvidencePhoto
from chuangwen.core.roles import Role
from chuangwen.inspections import services as inspections
from chuangwen.inspections.models import Answer, Inspection
from chuangwen.ledger import services as ledger
from chuangwen.ledger.models import Problem, ProblemEvent, Status
from chuangwen.ledger.tests.factories import jpeg, make_problem, make_setup, noisy_jpeg

pytestmark = pytest.mark.django_db

FULL = {"1.1": ("达标", 0), "1.2": ("合格", 0), "1.3": ("", 2), "1.4": ("合格", 0)}


class Api:
    """A client that authenticates with the user's own bearer token."""

    def __init__(self, user):
        _, raw = token_create(user=user, name="接口测试", actor=user)
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, url, params=None):
        return self.client.get(url, params or {}, **self.headers)

    def post(self, url, body=None):
        return self.client.post(url, body or {}, content_type="application/json", **self.headers)

    def put(self, url, body=None):
        return self.client.put(url, body or {}, content_type="application/json", **self.headers)

    def upload(self, url, file, purpose="found"):
        return self.client.post(url, {"file": file, "purpose": purpose}, **self.headers)


@pytest.fixture
def setup(city):
    return make_setup(city)


def api(city, role):
    return Api(city.outsider if role == "outsider" else city.users[role])


def _started(city, setup, school=None):
    return inspections.inspection_start(
        round_=setup.round, school=school or city.school_a, actor=city.users[Role.INSPECTOR]
    )


def _answer_all(city, setup, inspection, answers=FULL):
    for code, (result, occurrences) in answers.items():
        inspections.answer_save(
            inspection=inspection,
            standard=setup.standards[code],
            result=result,
            occurrences=occurrences,
            actor=city.users[Role.INSPECTOR],
        )


def _submitted(city, setup, school=None):
    inspection = _started(city, setup, school)
    _answer_all(city, setup, inspection)
    return inspections.inspection_submit(inspection=inspection, actor=city.users[Role.INSPECTOR])


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


# --- inspections: the whole flow ---------------------------------------------------------------------


def test_an_inspector_runs_a_whole_inspection_over_the_api(city, setup):
    inspector = api(city, Role.INSPECTOR)
    started = inspector.post("/api/inspections/", {"round_id": setup.round.pk, "school_id": city.school_a.pk})
    assert started.status_code == 201, started.content
    body = started.json()
    pk = body["id"]
    assert body["status"] == "in_progress" and body["status_label"] == "检查中"
    assert [s["code"] for s in body["standards"]] == ["1.1", "1.2", "1.3", "1.4"]
    by_code = {s["code"]: s for s in body["standards"]}
    assert by_code["1.1"]["results"] == ["达标", "基本达标", "不达标", "不适用"]
    assert by_code["1.3"]["results"] == ["不适用"]  # per occurrence: a count, or not applicable
    assert by_code["1.4"]["results"] == ["合格", "不合格"]  # a veto item cannot be 不适用
    assert body["may_answer"] is True and body["answered"] == 0 and body["applicable"] == 4

    again = inspector.post("/api/inspections/", {"round_id": setup.round.pk, "school_id": city.school_a.pk})
    assert again.status_code == 200 and again.json()["id"] == pk
    assert Inspection.objects.count() == 1

    put = inspector.put(f"/api/inspections/{pk}/answers/1.1", {"result": "达标", "note": "整洁"})
    assert put.status_code == 200, put.content
    assert put.json()["points"] == "4.00" and put.json()["revision"] == 1
    by_id = inspector.post(
        f"/api/inspections/{pk}/answers", {"standard_id": setup.standards["1.2"].pk, "result": "合格"}
    )
    assert by_id.status_code == 200 and by_id.json()["standard_code"] == "1.2"
    by_code = inspector.post(f"/api/inspections/{pk}/answers", {"standard_code": "1.3", "occurrences": 2})
    assert by_code.json()["points"] == "2.00"

    early = inspector.post(f"/api/inspections/{pk}/submit", {})
    assert early.status_code == 422
    assert "还有 1 项标准未评分（1.4）" in early.json()["detail"][0]
    assert Inspection.objects.get().status == "in_progress"

    inspector.put(f"/api/inspections/{pk}/answers/1.4", {"result": "合格"})
    detail = inspector.get(f"/api/inspections/{pk}").json()
    assert detail["answered"] == 4 and detail["running_score"] == "81.82"
    submitted = inspector.post(f"/api/inspections/{pk}/submit", {})
    assert submitted.status_code == 200, submitted.content
    result = submitted.json()
    assert result["status"] == "submitted"
    assert (result["obtained_points"], result["applicable_points"], result["score"]) == (
        "9.00",
        "11.00",
        "81.82",
    )
    assert result["may_answer"] is False
    assert {a["standard_code"]: a["points"] for a in result["answers"]} == {
        "1.1": "4.00",
        "1.2": "2.00",
        "1.3": "2.00",
        "1.4": "1.00",
    }


def test_a_partial_inspection_is_submitted_only_when_asked(city, setup):
    inspection = _started(city, setup)
    _answer_all(city, setup, inspection, {"1.1": ("基本达标", 0)})
    inspector = api(city, Role.INSPECTOR)
    assert inspector.post(f"/api/inspections/{inspection.pk}/submit", {}).status_code == 422
    response = inspector.post(f"/api/inspections/{inspection.pk}/submit", {"partial": True})
    assert response.status_code == 200
    assert response.json()["score"] == "60.00"
    again = inspector.post(f"/api/inspections/{inspection.pk}/submit", {"partial": True})
    assert again.status_code == 422 and again.json()["detail"] == ["这次检查已经提交过了"]


def test_an_answer_saved_meanwhile_on_another_phone_is_not_overwritten(city, setup):
    inspection = _started(city, setup)
    inspector, office = api(city, Role.INSPECTOR), api(city, Role.OFFICE)
    url = f"/api/inspections/{inspection.pk}/answers/1.1"
    assert inspector.put(url, {"result": "达标", "revision": 0}).json()["revision"] == 1
    assert office.put(url, {"result": "不达标", "revision": 1}).json()["revision"] == 2
    stale = inspector.put(url, {"result": "基本达标", "revision": 1})
    assert stale.status_code == 422
    assert "1.1 已被" in stale.json()["detail"][0] and "请刷新后再评" in stale.json()["detail"][0]
    answer = Answer.objects.get()
    assert (answer.result, answer.revision) == ("不达标", 2)


@pytest.mark.parametrize(
    ("url_tail", "body", "message"),
    [
        ("answers/1.1", {"result": "很好"}, "1.1 的结果只能是：达标、基本达标、不达标、不适用"),
        ("answers/1.3", {"occurrences": 101}, "次数须在 0 到 100 之间"),
        ("answers/1.4", {"result": "不适用"}, "1.4 是负面清单事项，不能判为不适用"),
        ("answers/9.9", {"result": "达标"}, "本轮使用的测评体系中没有编号为 9.9 的标准"),
        ("answers", {"result": "达标"}, "请用 standard_id 或 standard_code 指定一项标准（二选一）"),
        ("answers", {"standard_id": 1, "standard_code": "1.1"}, "二选一"),
        ("answers/1.1", {"result": "达标", "note": "长" * 1001}, "说明不能超过 1000 字"),
    ],
)
def test_bad_answers_get_a_clear_422_and_save_nothing(city, setup, url_tail, body, message):
    inspection = _started(city, setup)
    method = "put" if "/" in url_tail else "post"
    response = getattr(api(city, Role.INSPECTOR), method)(
        f"/api/inspections/{inspection.pk}/{url_tail}", body
    )
    assert response.status_code == 422
    assert message in str(response.json()["detail"])
    assert not Answer.objects.exists()


def test_a_standard_of_another_edition_is_refused(city, setup):
    other = make_setup(city)
    inspection = _started(city, setup)
    response = api(city, Role.INSPECTOR).post(
        f"/api/inspections/{inspection.pk}/answers",
        {"standard_id": other.standards["1.1"].pk, "result": "达标"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == {"standard": ["标准不属于本轮使用的测评体系版本"]}


def test_who_may_start_an_inspection(city, setup):
    body = {"round_id": setup.round.pk, "school_id": city.school_a.pk}
    leader = api(city, Role.LEADER).post("/api/inspections/", body)
    assert leader.status_code == 403
    assert leader.json() == {"detail": "您不是本轮对东区第一小学的检查人员"}
    # The school sees a mock round but does not score it; an unannounced round it does not see at all.
    assert api(city, Role.LIAISON).post("/api/inspections/", body).status_code == 403
    hidden = {**body, "round_id": make_setup(city, kind="unannounced").round.pk}
    assert api(city, Role.LIAISON).post("/api/inspections/", hidden).status_code == 404
    not_in_round = api(city, Role.INSPECTOR).post(
        "/api/inspections/", {"round_id": setup.round.pk, "school_id": city.school_b.pk}
    )
    assert not_in_round.status_code == 422
    assert "东区实验初级中学不在" in not_in_round.json()["detail"][0]
    assert (
        api(city, Role.INSPECTOR).post("/api/inspections/", {"round_id": 999999, "school_id": 1}).status_code
        == 404
    )
    assert not Inspection.objects.exists()


def test_only_the_rounds_inspectors_and_the_office_score(city, setup):
    inspection = _started(city, setup)
    url = f"/api/inspections/{inspection.pk}/answers/1.1"
    refused = api(city, Role.DEPT_HEAD).put(url, {"result": "达标"})
    assert refused.status_code == 403 and refused.json() == {"detail": "您不是这次检查的检查人员"}
    assert api(city, Role.OFFICE).put(url, {"result": "达标"}).status_code == 200
    assert api(city, Role.TEACHER).put(url, {"result": "不达标"}).status_code == 404
    assert Answer.objects.get().result == "达标"


def test_corrections_after_submission_need_the_office_and_a_reason(city, setup):
    inspection = _submitted(city, setup)
    url = f"/api/inspections/{inspection.pk}/corrections"
    change = {"standard_code": "1.1", "result": "不达标", "reason": "复查照片发现卫生死角"}
    assert api(city, Role.INSPECTOR).post(url, change).status_code == 403
    no_reason = api(city, Role.OFFICE).post(url, {**change, "reason": " "})
    assert no_reason.status_code == 422 and no_reason.json()["detail"] == {"reason": ["更正评分必须填写原因"]}
    unknown = api(city, Role.OFFICE).post(url, {"answer_id": 999999, "result": "达标", "reason": "x"})
    assert unknown.status_code == 422 and unknown.json()["detail"] == {"answer": ["这次检查中没有这条评分"]}
    inspection.refresh_from_db()
    assert str(inspection.score) == "81.82"
    done = api(city, Role.OFFICE).post(url, change)
    assert done.status_code == 200, done.content
    assert done.json()["score"] == "45.45"  # 9 − 4 = 5 of 11
    assert {a["standard_code"]: a["result"] for a in done.json()["answers"]}["1.1"] == "不达标"
    # A submitted inspection is not scored by the ordinary route any more.
    late = api(city, Role.INSPECTOR).put(
        f"/api/inspections/{inspection.pk}/answers/1.2", {"result": "不合格"}
    )
    assert late.status_code == 422 and "更正" in late.json()["detail"][0]


def test_photos_and_problems_hang_off_the_answer(city, setup):
    inspection = _started(city, setup)
    inspector = api(city, Role.INSPECTOR)
    url = f"/api/inspections/{inspection.pk}/answers/1.1/photos"
    early = inspector.upload(url, noisy_jpeg(21))
    assert early.status_code == 422
    assert early.json()["detail"] == {"standard": ["1.1 还没有评分，请先保存评分再上传照片"]}
    answer = inspector.put(f"/api/inspections/{inspection.pk}/answers/1.1", {"result": "不达标"}).json()
    assert answer["photo_ids"] == [] and answer["problem_ids"] == []
    assert api(city, Role.LEADER).upload(url, noisy_jpeg(22)).status_code == 403
    uploaded = inspector.upload(url, noisy_jpeg(23))
    assert uploaded.status_code == 201, uploaded.content
    photo = uploaded.json()
    assert photo["label"] == "标准 1.1" and photo["stamped_url"] == f"/evidence/{photo['id']}/stamped.jpg"
    opened = inspector.post(
        "/api/ledger/problems",
        {
            "school_id": city.school_a.pk,
            "inspection_id": inspection.pk,
            "answer_id": answer["id"],
            "description": "花坛后有卫生死角",
        },
    )
    assert opened.status_code == 201, opened.content
    assert opened.json()["standard_code"] == "1.1" and opened.json()["inspection_id"] == inspection.pk
    detail = inspector.get(f"/api/inspections/{inspection.pk}").json()
    row = next(a for a in detail["answers"] if a["standard_code"] == "1.1")
    assert row["photo_ids"] == [photo["id"]] and row["problem_ids"] == [opened.json()["id"]]
    _answer_all(city, setup, inspection, {k: v for k, v in FULL.items() if k != "1.1"})
    inspections.inspection_submit(inspection=inspection, actor=city.users[Role.INSPECTOR])
    late = inspector.upload(url, noisy_jpeg(24))
    assert late.status_code == 422 and late.json()["detail"] == ["检查已提交，不能再添加照片"]
    assert EvidencePhoto.objects.count() == 1


# --- inspections: who sees what ----------------------------------------------------------------------


def test_the_school_sees_its_inspection_only_after_submission(city, setup):
    inspection = _started(city, setup)
    liaison = api(city, Role.LIAISON)
    assert _ids(liaison.get("/api/inspections/")) == []
    assert liaison.get(f"/api/inspections/{inspection.pk}").status_code == 404
    assert _ids(api(city, Role.LEADER).get("/api/inspections/")) == [inspection.pk]
    assert _ids(api(city, Role.INSPECTOR).get("/api/inspections/")) == [inspection.pk]
    _answer_all(city, setup, inspection)
    inspections.inspection_submit(inspection=inspection, actor=city.users[Role.INSPECTOR])
    assert _ids(liaison.get("/api/inspections/")) == [inspection.pk]
    assert liaison.get(f"/api/inspections/{inspection.pk}").json()["score"] == "81.82"


def test_a_school_token_never_sees_another_schools_inspection(city, setup):
    own = _submitted(city, setup, city.school_c)
    other = _submitted(city, setup, city.school_a)
    outsider = api(city, "outsider")
    assert _ids(outsider.get("/api/inspections/")) == [own.pk]
    assert outsider.get(f"/api/inspections/{other.pk}").status_code == 404
    assert outsider.get("/api/inspections/", {"school": city.school_a.pk}).json()["items"] == []


def test_an_unannounced_inspection_stays_hidden_from_the_school_until_submitted(city):
    setup = make_setup(city, kind="unannounced")
    inspection = _started(city, setup)
    head = api(city, Role.SCHOOL_HEAD)
    assert _ids(head.get("/api/inspections/")) == []
    assert head.get(f"/api/inspections/{inspection.pk}").status_code == 404
    _answer_all(city, setup, inspection)
    inspections.inspection_submit(inspection=inspection, actor=city.users[Role.INSPECTOR])
    assert _ids(head.get("/api/inspections/")) == [inspection.pk]


def test_inspection_list_filters(city, setup):
    a = _submitted(city, setup, city.school_a)
    c = _started(city, setup, city.school_c)
    other = make_setup(city)
    b = _started(city, other, city.school_c)
    office = api(city, Role.OFFICE)
    assert _ids(office.get("/api/inspections/")) == [b.pk, c.pk, a.pk]
    assert _ids(office.get("/api/inspections/", {"round": setup.round.pk})) == [c.pk, a.pk]
    assert _ids(office.get("/api/inspections/", {"school": city.school_c.pk})) == [b.pk, c.pk]
    assert _ids(office.get("/api/inspections/", {"status": "submitted"})) == [a.pk]
    assert office.get("/api/inspections/").json()["items"][2]["answered"] == 4
    bad = office.get("/api/inspections/", {"status": "done"})
    assert bad.status_code == 422 and "未知的检查状态：done" in bad.json()["detail"]["status"][0]


# --- ledger: lists and scoping -----------------------------------------------------------------------


def test_a_school_token_never_sees_another_schools_problems(city, setup):
    mine = make_problem(city, setup, school=city.school_c, description="西区二小走廊有垃圾")
    theirs = make_problem(city, setup)
    outsider = api(city, "outsider")
    assert _ids(outsider.get("/api/ledger/problems")) == [mine.pk]
    assert outsider.get(f"/api/ledger/problems/{theirs.pk}").status_code == 404
    assert outsider.get(f"/api/ledger/problems/{theirs.pk}/moves").status_code == 404
    moved = outsider.post(f"/api/ledger/problems/{theirs.pk}/moves", {"move": "accept"})
    assert moved.status_code == 404
    assert outsider.get("/api/ledger/problems", {"school": city.school_a.pk}).json()["items"] == []
    assert _ids(api(city, Role.LIAISON).get("/api/ledger/problems")) == [theirs.pk]
    assert set(_ids(api(city, Role.LEADER).get("/api/ledger/problems"))) == {mine.pk, theirs.pk}


def test_an_unannounced_rounds_problems_stay_hidden_from_the_school_until_submitted(city):
    setup = make_setup(city, kind="unannounced")
    inspector = city.users[Role.INSPECTOR]
    inspection = _started(city, setup)
    answer = inspections.answer_save(
        inspection=inspection, standard=setup.standards["1.1"], result="不达标", actor=inspector
    )
    problem = ledger.problem_create(
        school=city.school_a, description="厕所异味", inspection=inspection, answer=answer, actor=inspector
    )
    teacher, liaison = api(city, Role.TEACHER), api(city, Role.LIAISON)
    for client in (teacher, liaison):
        assert _ids(client.get("/api/ledger/problems")) == []
        assert client.get(f"/api/ledger/problems/{problem.pk}").status_code == 404
    assert _ids(api(city, Role.INSPECTOR).get("/api/ledger/problems")) == [problem.pk]
    inspections.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    assert _ids(liaison.get("/api/ledger/problems")) == [problem.pk]
    assert teacher.get(f"/api/ledger/problems/{problem.pk}").json()["status"] == "assigned"


def test_problem_list_rows_filters_and_light(city, setup):
    first = make_problem(city, setup, description="操场垃圾")
    second = make_problem(city, setup, code="1.2", description="公益广告破损", location="南门")
    ledger.problem_move(problem=second, code="accept", actor=city.users[Role.TEACHER])
    office = api(city, Role.OFFICE)
    rows = office.get("/api/ledger/problems").json()
    assert rows["count"] == 2
    row = {r["id"]: r for r in rows["items"]}[first.pk]
    assert row["number"] == first.number and row["number"].endswith(f"{first.pk:06d}")
    assert (row["school_name"], row["standard_code"], row["status_label"]) == (
        "东区第一小学",
        "1.1",
        "已交办（待签收）",
    )
    assert (
        row["responsible_id"] == city.users[Role.TEACHER].pk and row["responsible_name"] == "班主任/教师测试"
    )
    assert row["light"] in {"green", "yellow"} and row["light_label"] in {"正常", "临期"}
    assert row["source"] == "mock" and row["source_label"] == "模拟测评"
    assert _ids(office.get("/api/ledger/problems", {"status": "in_progress"})) == [second.pk]
    assert _ids(office.get("/api/ledger/problems", {"status": "open"})) == [second.pk, first.pk]
    assert _ids(office.get("/api/ledger/problems", {"q": "南门"})) == [second.pk]
    assert _ids(office.get("/api/ledger/problems", {"standard": setup.standards["1.1"].pk})) == [first.pk]
    assert _ids(office.get("/api/ledger/problems", {"round_id": setup.round.pk})) == [second.pk, first.pk]
    assert _ids(office.get("/api/ledger/problems", {"overdue": "true"})) == []
    bad = office.get("/api/ledger/problems", {"status": "finished"})
    assert bad.status_code == 422 and "未知的状态：finished" in bad.json()["detail"]["status"][0]
    assert _ids(office.get("/api/ledger/problems", {"district": city.district_a.pk})) == [second.pk, first.pk]
    assert _ids(office.get("/api/ledger/problems", {"district": city.district_b.pk})) == []
    assert _ids(office.get("/api/ledger/problems", {"school_type": city.school_a.school_type})) == [
        second.pk,
        first.pk,
    ]
    bad = office.get("/api/ledger/problems", {"school_type": "college"})
    assert bad.status_code == 422 and "未知的学校类型：college" in bad.json()["detail"]["school_type"][0]


def test_overdue_problems_show_red(city, setup):
    import datetime as dt

    from django.utils import timezone

    problem = make_problem(city, setup)
    Problem.objects.filter(pk=problem.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    rows = api(city, Role.OFFICE).get("/api/ledger/problems", {"overdue": "true"}).json()["items"]
    assert [(r["id"], r["light"], r["light_label"]) for r in rows] == [(problem.pk, "red", "逾期")]


def test_inspection_list_queries_do_not_grow_with_rows(city, setup):
    office = api(city, Role.OFFICE)

    def count():
        office.get("/api/inspections/")
        with CaptureQueriesContext(connection) as ctx:
            assert office.get("/api/inspections/").status_code == 200
        return len(ctx.captured_queries)

    _submitted(city, setup)
    small = count()
    for _ in range(3):
        _started(city, make_setup(city), city.school_c)
    assert office.get("/api/inspections/").json()["count"] == 4
    assert count() == small


def test_problem_list_queries_do_not_grow_with_rows(city, setup):
    office = api(city, Role.OFFICE)

    def count():
        office.get("/api/ledger/problems")
        with CaptureQueriesContext(connection) as ctx:
            assert office.get("/api/ledger/problems").status_code == 200
        return len(ctx.captured_queries)

    make_problem(city, setup)
    small = count()
    for n in range(6):
        make_problem(city, setup, code=f"1.{n % 4 + 1}", description=f"问题{n}")
    assert count() == small


# --- ledger: detail, record, move --------------------------------------------------------------------


def test_problem_detail_has_the_timeline_photos_and_allowed_moves(city, setup):
    problem = make_problem(city, setup)
    photo = ledger.problem_add_photo(
        problem=problem, file=noisy_jpeg(3), purpose="found", actor=city.users[Role.INSPECTOR]
    )
    response = api(city, Role.TEACHER).get(f"/api/ledger/problems/{problem.pk}")
    assert response.status_code == 200
    body = response.json()
    assert [(e["kind"], e["move"], e["to_status"]) for e in body["events"]] == [
        ("create", "", "new"),
        ("move", "assign", "assigned"),
        ("photo", "", "assigned"),
    ]
    assert body["events"][1]["move_label"] == "交办" and body["events"][1]["actor_name"] == "督查员测试"
    assert [p["id"] for p in body["photos"]] == [photo.pk]
    assert body["photos"][0]["purpose"] == "found" and body["photos"][0]["reused"] is False
    assert body["photos"][0]["stamped_url"] == f"/evidence/{photo.pk}/stamped.jpg"
    assert [m["code"] for m in body["moves"]] == ["accept"]
    assert body["deadline"] is not None


def test_allowed_moves_depend_on_the_caller(city, setup):
    problem = make_problem(city, setup)
    url = f"/api/ledger/problems/{problem.pk}/moves"
    assert [m["code"] for m in api(city, Role.TEACHER).get(url).json()] == ["accept"]
    assert [m["code"] for m in api(city, Role.OFFICE).get(url).json()] == ["void"]
    assert api(city, Role.ARCHIVIST).get(url).json() == []
    void = api(city, Role.OFFICE).get(url).json()[0]
    assert void == {
        "code": "void",
        "label": "作废",
        "target": "void",
        "target_label": "已作废",
        "needs_reason": True,
        "fields": ["reason"],
    }


def test_a_problem_goes_from_found_to_closed_over_the_api(city, setup):
    inspector, teacher, office = api(city, Role.INSPECTOR), api(city, Role.TEACHER), api(city, Role.OFFICE)
    created = inspector.post(
        "/api/ledger/problems",
        {
            "school_id": city.school_a.pk,
            "round_id": setup.round.pk,
            "standard_code": "1.1",
            "description": "操场东侧有垃圾未清理",
            "location": "操场东侧",
            "severity": "days",
            "deadline_days": 2,
        },
    )
    assert created.status_code == 201, created.content
    problem = created.json()
    pk = problem["id"]
    assert (problem["status"], problem["severity"], problem["deadline_days"]) == ("assigned", "days", 2)
    assert problem["responsible_id"] == city.users[Role.TEACHER].pk  # the standard's owner at the school
    url = f"/api/ledger/problems/{pk}/moves"
    assert teacher.post(url, {"move": "accept"}).json()["status"] == "in_progress"

    no_photo = teacher.post(url, {"move": "submit", "cause": "值日不到位", "measures": "已清理并排班"})
    assert no_photo.status_code == 422
    assert no_photo.json()["detail"] == {"photos": ["提交整改前请上传至少一张整改后的照片"]}
    uploaded = teacher.upload(f"/api/ledger/problems/{pk}/photos", noisy_jpeg(11), purpose="after")
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["purpose"] == "after" and uploaded.json()["purpose_label"] == "整改后"
    submitted = teacher.post(url, {"move": "submit", "cause": "值日不到位", "measures": "已清理并排班"})
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending_review"
    assert submitted.json()["measures"] == "已清理并排班"

    rejected = office.post(url, {"move": "reject"})
    assert rejected.status_code == 422 and rejected.json()["detail"] == {"reason": ["复核不通过必须填写原因"]}
    closed = office.post(url, {"move": "approve", "note": "已整改到位"})
    assert closed.status_code == 200
    body = closed.json()
    assert body["status"] == "closed" and body["closed_at"] and body["light"] == "none"
    assert body["rechecked_by_id"] == city.users[Role.OFFICE].pk and body["recheck_note"] == "已整改到位"
    assert [e["move"] for e in body["events"] if e["kind"] == "move"] == [
        "assign",
        "accept",
        "submit",
        "approve",
    ]
    assert [m["code"] for m in body["moves"]] == ["reopen", "void"]


def test_an_illegal_move_is_422_with_the_reason_and_changes_nothing(city, setup):
    problem = make_problem(city, setup)
    events = problem.events.count()
    url = f"/api/ledger/problems/{problem.pk}/moves"
    office = api(city, Role.OFFICE)
    illegal = office.post(url, {"move": "approve"})
    assert illegal.status_code == 422
    assert illegal.json()["detail"] == [
        f"问题 {problem.number} 当前为“已交办（待签收）”，不能复核通过并销号"
        "（只有“待复核”的问题可以复核通过并销号）"
    ]
    unknown = office.post(url, {"move": "close"})
    assert unknown.status_code == 422 and unknown.json()["detail"] == ["未知的操作：close"]
    forbidden = api(city, Role.INSPECTOR).post(url, {"move": "void", "reason": "重复"})
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": f"只有创文办可以作废问题 {problem.number}"}
    missing = office.post(url, {})
    assert missing.status_code == 422  # no move named
    problem.refresh_from_db()
    assert problem.status == Status.ASSIGNED and problem.events.count() == events


def test_assigning_a_held_problem_checks_the_responsible_person(city):
    setup = make_setup(city, kind="unannounced")
    inspector = city.users[Role.INSPECTOR]
    inspection = _started(city, setup, city.school_c)  # nobody owns the standards at school_c
    problem = ledger.problem_create(
        school=city.school_c, description="楼道堆放杂物", inspection=inspection, actor=inspector
    )
    url = f"/api/ledger/problems/{problem.pk}/moves"
    office = api(city, Role.OFFICE)
    nobody = office.post(url, {"move": "assign"})
    assert nobody.status_code == 422
    assert nobody.json()["detail"] == {"responsible": ["请指定责任人（该标准在本校尚无责任人）"]}
    ghost = office.post(url, {"move": "assign", "responsible_id": 999999})
    assert ghost.status_code == 422 and ghost.json()["detail"] == {"responsible_id": ["用户 999999 不存在"]}
    wrong_school = office.post(url, {"move": "assign", "responsible_id": city.users[Role.TEACHER].pk})
    assert wrong_school.status_code == 422 and "不是西区第二小学或其上级单位的人员" in str(
        wrong_school.json()
    )
    too_long = office.post(
        url, {"move": "assign", "responsible_id": city.outsider.pk, "severity": "days", "deadline_days": 61}
    )
    assert too_long.status_code == 422 and "1 到 60 之间" in str(too_long.json())
    problem.refresh_from_db()
    assert problem.status == Status.NEW and problem.responsible_id is None
    done = office.post(
        url,
        {
            "move": "assign",
            "responsible_id": city.outsider.pk,
            "severity": "long",
            "target_date": "2027-06-30",
        },
    )
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["responsible_id"], done.json()["target_date"]) == (
        "assigned",
        city.outsider.pk,
        "2027-06-30",
    )


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"description": "  "}, 422, "不能为空"),
        ({"description": "x" * 2001}, 422, "不能超过 2000 字"),
        ({"severity": "soon"}, 422, "整改类型无效"),
        ({"source": "rumour"}, 422, "发现方式无效"),
        ({"standard_code": "1.1"}, 422, "须同时指定检查轮次或检查"),
        ({"standard_id": 999999}, 422, "标准 999999 不存在"),
        ({"answer_id": 1}, 422, "指定评分时须同时指定 inspection_id"),
        ({"round_id": 999999}, 404, "对象不存在或无权访问"),
        ({"school_id": 999999}, 404, "对象不存在或无权访问"),
        ({"responsible_id": 999999}, 422, "用户 999999 不存在"),
    ],
)
def test_bad_problems_are_refused_and_nothing_is_recorded(city, setup, body, status, detail):
    payload = {"school_id": city.school_a.pk, "description": "教室黑板报未更新", **body}
    response = api(city, Role.OFFICE).post("/api/ledger/problems", payload)
    assert response.status_code == status, response.content
    assert detail in str(response.json())
    assert not Problem.objects.exists()


def test_who_may_record_problems(city, setup):
    body = {
        "school_id": city.school_a.pk,
        "description": "走廊灯坏",
        "standard_id": setup.standards["1.1"].pk,
    }
    refused = api(city, Role.LIAISON).post("/api/ledger/problems", body)
    assert refused.status_code == 403 and refused.json() == {"detail": "您不能在东区第一小学登记问题"}
    assert api(city, "outsider").post("/api/ledger/problems", {**body, "source": "self"}).status_code == 404
    assert not Problem.objects.exists()
    own = api(city, Role.LIAISON).post("/api/ledger/problems", {**body, "source": "self"})
    assert own.status_code == 201, own.content
    assert own.json()["source_label"] == "自查" and own.json()["status"] == "assigned"
    held = api(city, Role.OFFICE).post("/api/ledger/problems", {**body, "assign": False})
    assert held.status_code == 201 and held.json()["status"] == "new"


# --- ledger: photos ----------------------------------------------------------------------------------


def test_photo_uploads_check_purpose_file_and_who(city, setup):
    problem = make_problem(city, setup)
    url = f"/api/ledger/problems/{problem.pk}/photos"
    inspector = api(city, Role.INSPECTOR)
    bad_purpose = inspector.upload(url, jpeg(), purpose="other")
    assert bad_purpose.status_code == 422 and "found（发现问题）或 after（整改后）" in str(bad_purpose.json())
    from django.core.files.uploadedfile import SimpleUploadedFile

    not_image = inspector.upload(url, SimpleUploadedFile("a.jpg", b"not a photo", content_type="image/jpeg"))
    assert not_image.status_code == 422
    assert api(city, Role.TEACHER).upload(url, jpeg(), purpose="found").status_code == 403
    assert api(city, Role.INSPECTOR).upload(url, jpeg(), purpose="after").status_code == 403
    missing = inspector.client.post(url, {"purpose": "found"}, **inspector.headers)
    assert missing.status_code == 422
    assert not EvidencePhoto.objects.exists()
    ok = inspector.upload(url, noisy_jpeg(5))
    assert ok.status_code == 201 and ok.json()["reused"] is False
    assert EvidencePhoto.objects.get().owner_id == problem.pk


def test_the_same_after_photo_on_two_problems_is_flagged(city, setup):
    first = make_problem(city, setup)
    second = make_problem(city, setup, code="1.2")
    teacher = api(city, Role.TEACHER)
    for p in (first, second):
        ledger.problem_move(problem=p, code="accept", actor=city.users[Role.TEACHER])
    assert (
        teacher.upload(f"/api/ledger/problems/{first.pk}/photos", noisy_jpeg(9), "after").json()["reused"]
        is False
    )
    again = teacher.upload(f"/api/ledger/problems/{second.pk}/photos", noisy_jpeg(9), "after")
    assert again.status_code == 201
    assert again.json()["reused"] is True
    assert again.json()["reuse_message"] == "同一或高度相似的照片已用于其他问题/学校"
    detail = api(city, Role.OFFICE).get(f"/api/ledger/problems/{second.pk}").json()
    assert [p["reused"] for p in detail["photos"]] == [True]


# --- ledger: bulk moves ------------------------------------------------------------------------------


def test_bulk_moves_are_all_or_nothing(city, setup):
    a = make_problem(city, setup)
    b = make_problem(city, setup, code="1.2")
    c = make_problem(city, setup, code="1.3")
    ledger.problem_move(problem=b, code="accept", actor=city.users[Role.TEACHER])
    teacher = api(city, Role.TEACHER)
    refused = teacher.post("/api/ledger/problems/bulk-moves", {"ids": [a.pk, b.pk, c.pk], "move": "accept"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0].startswith(f"问题 {b.number}：")
    assert refused.json()["detail"][0].endswith("（本批未做任何更改）")
    assert set(Problem.objects.values_list("status", flat=True)) == {"assigned", "in_progress"}
    assert Problem.objects.get(pk=a.pk).status == Status.ASSIGNED

    done = teacher.post("/api/ledger/problems/bulk-moves", {"ids": [c.pk, a.pk, c.pk], "move": "accept"})
    assert done.status_code == 200, done.content
    assert done.json()["count"] == 2
    assert [p["id"] for p in done.json()["items"]] == [c.pk, a.pk]
    assert {p["status"] for p in done.json()["items"]} == {"in_progress"}


def test_bulk_moves_refuse_problems_out_of_sight(city, setup):
    mine = make_problem(city, setup, school=city.school_c, description="西区问题")
    theirs = make_problem(city, setup)
    outsider = api(city, "outsider")
    response = outsider.post(
        "/api/ledger/problems/bulk-moves", {"ids": [mine.pk, theirs.pk], "move": "void", "reason": "重复"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == {
        "ids": [f"以下问题不存在或无权访问：{theirs.pk}（本批未做任何更改）"]
    }
    assert (
        api(city, Role.OFFICE)
        .post("/api/ledger/problems/bulk-moves", {"ids": [], "move": "void"})
        .status_code
        == 422
    )
    voided = api(city, Role.OFFICE).post(
        "/api/ledger/problems/bulk-moves", {"ids": [mine.pk, theirs.pk], "move": "void", "reason": "重复登记"}
    )
    assert voided.status_code == 200
    assert set(Problem.objects.values_list("status", "void_reason")) == {("void", "重复登记")}


# --- nonsense input: a 422 before anything reaches the database --------------------------------------


def test_out_of_range_ids_and_nul_characters_are_refused_with_422(city, setup):
    problem = make_problem(city, setup)
    inspection = _started(city, setup)
    office = api(city, Role.OFFICE)
    office.client.raise_request_exception = False
    big = 10**20
    calls = [
        office.get("/api/inspections/", {"round": big}),
        office.get(f"/api/inspections/{big}"),
        office.get("/api/ledger/problems", {"school": big}),
        office.get("/api/ledger/problems", {"q": "垃圾\x00"}),
        office.get(f"/api/ledger/problems/{big}/moves"),
        office.post("/api/ledger/problems/bulk-moves", {"ids": [big], "move": "void", "reason": "x"}),
        office.post("/api/ledger/problems", {"school_id": city.school_a.pk, "description": "a\x00b"}),
        office.post(f"/api/ledger/problems/{problem.pk}/moves", {"move": "void", "reason": "a\x00b"}),
        office.put(f"/api/inspections/{inspection.pk}/answers/1.1", {"result": "达标", "revision": big}),
        office.put(f"/api/inspections/{inspection.pk}/answers/1.3", {"occurrences": big}),
        office.put(f"/api/inspections/{inspection.pk}/answers/1%001", {"result": "达标"}),
    ]
    assert [c.status_code for c in calls] == [422] * len(calls), [c.content[:200] for c in calls]
    # A stored value out of its column's range is caught before the database (assign=False skips the
    # deadline computation that would otherwise refuse it).
    unassigned = office.post(
        "/api/ledger/problems",
        {
            "school_id": city.school_a.pk,
            "description": "x",
            "severity": "days",
            "deadline_days": -5,
            "assign": False,
        },
    )
    assert unassigned.status_code == 422
    assert unassigned.json()["detail"] == {"deadline_days": ["限期整改的工作日数须在 1 到 60 之间"]}
    problem.refresh_from_db()
    assert problem.status == Status.ASSIGNED and Problem.objects.count() == 1 and not Answer.objects.exists()


# --- authentication: sessions need CSRF, tokens do not -----------------------------------------------


def test_session_writes_without_csrf_are_refused_and_change_nothing(city, setup):
    problem = make_problem(city, setup)
    inspection = _started(city, setup)
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users[Role.TEACHER])
    refused = client.post(
        f"/api/ledger/problems/{problem.pk}/moves", {"move": "accept"}, content_type="application/json"
    )
    assert refused.status_code == 403 and "CSRF" in refused.content.decode()
    photo = client.post(f"/api/ledger/problems/{problem.pk}/photos", {"file": jpeg(), "purpose": "after"})
    assert photo.status_code == 403 and "CSRF" in photo.content.decode()
    inspector = Client(enforce_csrf_checks=True)
    inspector.force_login(city.users[Role.INSPECTOR])
    answer = inspector.put(
        f"/api/inspections/{inspection.pk}/answers/1.1", {"result": "达标"}, content_type="application/json"
    )
    assert answer.status_code == 403 and "CSRF" in answer.content.decode()
    problem.refresh_from_db()
    assert (
        problem.status == Status.ASSIGNED
        and not EvidencePhoto.objects.exists()
        and not Answer.objects.exists()
    )

    client.get("/")  # the page sets the CSRF cookie, as in a browser
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    accepted = client.post(
        f"/api/ledger/problems/{problem.pk}/moves",
        {"move": "accept"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "in_progress"


def test_anonymous_calls_get_401(client, city, setup):
    problem = make_problem(city, setup)
    for url in ("/api/inspections/", "/api/ledger/problems", f"/api/ledger/problems/{problem.pk}"):
        assert client.get(url).status_code == 401
    response = client.post(
        f"/api/ledger/problems/{problem.pk}/moves", {"move": "void"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert ProblemEvent.objects.filter(problem=problem, move="void").count() == 0


def test_the_new_endpoints_are_documented(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {
        "/api/inspections/",
        "/api/inspections/{inspection_id}",
        "/api/inspections/{inspection_id}/answers",
        "/api/inspections/{inspection_id}/answers/{standard_code}",
        "/api/inspections/{inspection_id}/answers/{standard_code}/photos",
        "/api/inspections/{inspection_id}/submit",
        "/api/inspections/{inspection_id}/corrections",
        "/api/ledger/problems",
        "/api/ledger/problems/bulk-moves",
        "/api/ledger/problems/{problem_id}",
        "/api/ledger/problems/{problem_id}/moves",
        "/api/ledger/problems/{problem_id}/photos",
    } <= set(paths)
