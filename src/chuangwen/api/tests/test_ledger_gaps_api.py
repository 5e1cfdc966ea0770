"""The ledger API's corrections, milestones and rules (整改规则) — the same services, permissions, audit and
refusals as the pages — and Chinese 422s, naming the field, for anything a schema refuses."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.ledger.models import LedgerSettings, Milestone, Problem, ProblemEvent
from chuangwen.ledger.tests.factories import make_problem, make_setup

from .test_inspections_ledger_api import Api, api

pytestmark = pytest.mark.django_db

ROLES = [*Role, "outsider"]
# Who may correct (the office fully; the school's head, liaison and the responsible teacher may hand the
# problem to another person); who sees the problem at all (the outsider, at school_c, does not: 404).
MAY_REASSIGN = {Role.ADMIN, Role.OFFICE, Role.SCHOOL_HEAD, Role.LIAISON, Role.TEACHER}
SCHOOL_SIDE = {Role.SCHOOL_HEAD, Role.LIAISON, Role.TEACHER}
OFFICE = {Role.ADMIN, Role.OFFICE}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def setup(city):
    return make_setup(city)


def _long_problem(city, setup):
    today = timezone.localdate()
    return make_problem(
        city,
        setup,
        severity="long",
        target_date=today + dt.timedelta(days=90),
        milestones=[("场地招标", today + dt.timedelta(days=20)), ("施工", today + dt.timedelta(days=60))],
    )


def _events(problem, kind):
    return ProblemEvent.objects.filter(problem=problem, kind=kind).count()


# --- corrections -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_who_may_correct_a_problem(city, setup, role):
    """Reassigning to the liaison: the office and the school's side may (200); the bureau's other roles
    see the problem but may not (403); another school's user does not see it (404)."""
    problem = make_problem(city, setup)
    liaison = city.users[Role.LIAISON]
    response = api(city, role).post(
        f"/api/ledger/problems/{problem.pk}/corrections",
        {"responsible_id": liaison.pk, "reason": "改由联络员负责"},
    )
    expected = 200 if role in MAY_REASSIGN else 404 if role == "outsider" else 403
    assert response.status_code == expected, response.content
    problem.refresh_from_db()
    if expected == 200:
        assert response.json()["responsible_id"] == liaison.pk == problem.responsible_id
        event = ProblemEvent.objects.get(problem=problem, kind=ProblemEvent.Kind.EDIT)
        assert event.note == "改由联络员负责"
        assert event.data == {
            "before": {"responsible": city.users[Role.TEACHER].pk},
            "after": {"responsible": liaison.pk},
        }
    else:
        assert problem.responsible_id == city.users[Role.TEACHER].pk
        assert _events(problem, ProblemEvent.Kind.EDIT) == 0
    if expected == 403:
        assert response.json() == {"detail": f"您不能更正问题 {problem.number}"}


def test_the_office_corrects_facts_with_a_reason_and_an_audited_event(city, setup):
    problem = make_problem(city, setup, location="操场")
    old_deadline = problem.deadline
    later = timezone.localtime(old_deadline, dt.timezone(dt.timedelta(hours=8))) + dt.timedelta(days=3)
    naive = later.replace(tzinfo=None, second=0, microsecond=0).isoformat()  # Beijing time, no zone
    response = api(city, Role.OFFICE).post(
        f"/api/ledger/problems/{problem.pk}/corrections",
        {
            "description": "操场西侧有垃圾",
            "location": "操场西侧",
            "deadline": naive,
            "reason": "现场复核更正",
        },
    )
    assert response.status_code == 200, response.content
    problem.refresh_from_db()
    assert (problem.description, problem.location) == ("操场西侧有垃圾", "操场西侧")
    assert problem.deadline == later.replace(second=0, microsecond=0)
    event = ProblemEvent.objects.get(problem=problem, kind=ProblemEvent.Kind.EDIT)
    assert event.note == "现场复核更正"
    assert event.data["before"]["description"] == "操场东侧有垃圾未清理"
    assert event.data["after"]["location"] == "操场西侧"
    assert response.json()["events"][-1]["note"] == "现场复核更正"
    audited = AuditEvent.objects.filter(event_type="problem.edit").latest("seq")
    assert audited.actor_id == city.users[Role.OFFICE].pk
    assert audited.data["note"] == "现场复核更正" and audited.data["after"]["description"] == "操场西侧有垃圾"


@pytest.mark.parametrize(
    ("role", "body", "status", "message"),
    [
        (Role.OFFICE, {"description": "新描述", "reason": " "}, 422, "更正必须填写原因"),
        (Role.OFFICE, {"description": "操场东侧有垃圾未清理", "reason": "无变化"}, 422, "没有可更正的内容"),
        (Role.OFFICE, {"deadline": "2000-01-01T08:00:00+08:00", "reason": "提前"}, 422, "只能延后"),
        (Role.OFFICE, {"responsible_id": 999999, "reason": "改派"}, 422, "用户 999999 不存在"),
        (Role.OFFICE, {"description": "长" * 2001, "reason": "改"}, 422, "不能超过 2000 字"),
        # The school may only hand the problem over (改派), not rewrite it.
        (Role.LIAISON, {"description": "改写描述", "reason": "改"}, 403, "您不能更正问题"),
    ],
)
def test_refused_corrections_change_nothing(city, setup, role, body, status, message):
    problem = make_problem(city, setup)
    before = Problem.objects.values().get(pk=problem.pk)
    response = api(city, role).post(f"/api/ledger/problems/{problem.pk}/corrections", body)
    assert response.status_code == status, response.content
    assert message in str(response.json()["detail"])
    assert Problem.objects.values().get(pk=problem.pk) == before
    assert _events(problem, ProblemEvent.Kind.EDIT) == 0


def test_a_closed_problem_cannot_be_corrected(city, setup):
    problem = make_problem(city, setup)
    office = api(city, Role.OFFICE)
    assert (
        office.post(
            f"/api/ledger/problems/{problem.pk}/moves", {"move": "void", "reason": "重复"}
        ).status_code
        == 200
    )
    response = office.post(
        f"/api/ledger/problems/{problem.pk}/corrections", {"location": "操场", "reason": "补充位置"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [f"问题 {problem.number} 已作废，不能更正"]
    assert _events(problem, ProblemEvent.Kind.EDIT) == 0


# --- milestones --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_who_may_complete_a_milestone(city, setup, role):
    problem = _long_problem(city, setup)
    milestone = problem.milestones.order_by("due_date").first()
    response = api(city, role).post(f"/api/ledger/problems/{problem.pk}/milestones/{milestone.pk}/done")
    expected = 200 if role in SCHOOL_SIDE else 404 if role == "outsider" else 403
    assert response.status_code == expected, response.content
    milestone.refresh_from_db()
    assert (milestone.done_at is not None) == (expected == 200)
    assert _events(problem, ProblemEvent.Kind.MILESTONE) == (1 if expected == 200 else 0)
    if expected == 200:
        done = {m["title"]: m["done_at"] for m in response.json()["milestones"]}
        assert done["场地招标"] is not None and done["施工"] is None
    if expected == 403:
        assert response.json() == {"detail": "只有责任人或学校负责人、联络员可以完成整改节点"}


def test_milestone_refusals(city, setup):
    problem = _long_problem(city, setup)
    other = _long_problem(city, setup)
    first, second = problem.milestones.order_by("due_date")
    teacher = api(city, Role.TEACHER)
    url = f"/api/ledger/problems/{problem.pk}/milestones/{{}}/done"
    assert teacher.post(url.format(first.pk)).status_code == 200
    again = teacher.post(url.format(first.pk))
    assert again.status_code == 422 and again.json() == {"detail": ["该节点已完成"]}
    # Another problem's milestone under this problem's URL does not exist here.
    foreign = other.milestones.first()
    assert teacher.post(url.format(foreign.pk)).status_code == 404
    assert teacher.post(url.format(999999)).status_code == 404
    # Once the problem is voided, its milestones are closed too.
    api(city, Role.OFFICE).post(
        f"/api/ledger/problems/{problem.pk}/moves", {"move": "void", "reason": "撤销"}
    )
    closed = teacher.post(url.format(second.pk))
    assert closed.status_code == 422
    assert "只有整改期间可以完成整改节点" in closed.json()["detail"][0]
    assert Milestone.objects.filter(done_at__isnull=False).count() == 1
    assert _events(problem, ProblemEvent.Kind.MILESTONE) == 1


# --- the office's rules ------------------------------------------------------------------------------

RULES = {
    "default_days": 5,
    "yellow_ratio": "0.3",
    "yellow_min_hours": 8,
    "remind_daily": False,
    "ladder": [
        {"after": 3, "roles": ["leader"], "label": "通报", "bulletin": True},
        {"after": 1, "roles": ["dept_head", "school_head"], "label": "提醒"},
    ],
}


@pytest.mark.parametrize("role", ROLES)
def test_who_may_read_and_change_the_rules(city, role):
    client = api(city, role)
    read = client.get("/api/ledger/settings")
    write = client.put("/api/ledger/settings", RULES)
    if role in OFFICE:
        assert read.status_code == 200, read.content
        assert read.json()["default_days"] == LedgerSettings().default_days
        assert write.status_code == 200, write.content
        assert LedgerSettings.current().default_days == 5
    else:
        assert (read.status_code, write.status_code) == (403, 403)
        assert read.json() == {"detail": "只有创文办可以查看整改规则"}
        assert write.json() == {"detail": "只有创文办可以修改整改规则"}
        assert not LedgerSettings.objects.exists()
        assert not AuditEvent.objects.filter(event_type="ledger.settings").exists()


def test_saving_the_rules_is_audited_and_read_back(city):
    office = api(city, Role.OFFICE)
    saved = office.put("/api/ledger/settings", RULES)
    assert saved.status_code == 200, saved.content
    body = office.get("/api/ledger/settings").json()
    assert body == saved.json()
    assert (body["default_days"], Decimal(body["yellow_ratio"]), body["yellow_min_hours"]) == (
        5,
        Decimal("0.30"),
        8,
    )
    assert body["remind_daily"] is False and body["updated_by_id"] == city.users[Role.OFFICE].pk
    # Sorted by day, as the page saves them.
    assert body["ladder"] == [
        {"after": 1, "roles": ["dept_head", "school_head"], "label": "提醒"},
        {"after": 3, "roles": ["leader"], "label": "通报", "bulletin": True},
    ]
    event = AuditEvent.objects.get(event_type="ledger.settings")
    assert event.actor_id == city.users[Role.OFFICE].pk
    assert event.data["before"]["default_days"] == 3 and event.data["after"]["default_days"] == 5


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        # The service's own checks (the page's rules), in its words.
        ({"default_days": 0}, "default_days", "默认工作日数须在 1 到 60 之间"),
        ({"yellow_ratio": "1.5"}, "yellow_ratio", "临期比例须是 0 到 0.99 之间的小数"),
        ({"yellow_min_hours": 100}, "yellow_min_hours", "临期最少小时数须在 0 到 72 之间"),
        ({"ladder": [{"after": 1, "roles": ["mayor"]}]}, "ladder", "未知的通知对象 mayor"),
        (
            {"ladder": [{"after": 1, "roles": ["leader"]}, {"after": 1, "roles": ["office"]}]},
            "ladder",
            "已有一级升级",
        ),
        # The schema's, translated.
        ({"default_days": "三天"}, "default_days", "限期整改默认工作日数（default_days）须是整数"),
        ({"yellow_ratio": "NaN"}, "yellow_ratio", "临期比例（yellow_ratio）"),
        (
            {"ladder": [{"after": 1, "roles": ["leader"], "label": "长" * 51}]},
            "ladder.0.label",
            "说明（ladder.0.label）不能超过 50 字",
        ),
        ({"ladder": [{"after": 1, "roles": ["leader"]}] * 11}, "ladder", "逾期升级规则（ladder）最多 10 项"),
    ],
)
def test_bad_rules_are_refused_in_chinese_and_change_nothing(city, change, field, message):
    office = api(city, Role.OFFICE)
    assert office.put("/api/ledger/settings", RULES).status_code == 200
    before = LedgerSettings.objects.values().get()
    response = office.put("/api/ledger/settings", {**RULES, **change})
    assert response.status_code == 422, response.content
    assert any(message in m for m in response.json()["detail"][field]), response.json()
    assert LedgerSettings.objects.values().get() == before
    assert AuditEvent.objects.filter(event_type="ledger.settings").count() == 1


def test_the_rules_need_every_field(city):
    response = api(city, Role.OFFICE).put("/api/ledger/settings", {"default_days": 4})
    assert response.status_code == 422
    assert response.json()["detail"] == {
        "yellow_ratio": ["临期比例（yellow_ratio）必须填写"],
        "yellow_min_hours": ["临期最少小时数（yellow_min_hours）必须填写"],
        "remind_daily": ["逾期后每个工作日重复提醒责任人（remind_daily）必须填写"],
        "ladder": ["逾期升级规则（ladder）必须填写"],
    }
    assert not LedgerSettings.objects.exists()


# --- 422s in Chinese, naming the field ---------------------------------------------------------------


def _snapshot():
    return (
        list(Problem.objects.order_by("pk").values()),
        ProblemEvent.objects.count(),
        AuditEvent.objects.count(),
        list(LedgerSettings.objects.values()),
    )


def _assert_chinese(detail: dict, field: str, *parts: str):
    assert field in detail, detail
    for text in detail[field]:
        assert CHINESE.search(text) and "Input should" not in text, text
        assert field in text, text
    joined = "".join(detail[field])
    for part in parts:
        assert part in joined, (part, joined)


@pytest.mark.parametrize(
    ("method", "url", "body", "field", "parts"),
    [
        # Numbers out of range or not numbers.
        ("post", "problems", {"school_id": 0}, "school_id", ["学校 id", "须不小于 1"]),
        ("post", "problems", {"deadline_days": 40000}, "deadline_days", ["整改工作日数", "须不大于 32767"]),
        ("post", "problems", {"deadline_days": "五"}, "deadline_days", ["整改工作日数", "须是整数"]),
        ("post", "problems", {"deadline_days": 2.5}, "deadline_days", ["须是整数，不能带小数"]),
        (
            "post",
            "problems",
            {"responsible_id": 10**12},
            "responsible_id",
            ["责任人 id", "须不大于 2147483647"],
        ),
        ("post", "problems", {"assign": "maybe"}, "assign", ["是否立即交办", "须是 true 或 false"]),
        # Dates.
        ("post", "problems", {"target_date": "2026-02-30"}, "target_date", ["目标日期", "YYYY-MM-DD"]),
        ("post", "problems", {"target_date": "下周一"}, "target_date", ["目标日期", "YYYY-MM-DD"]),
        (
            "post",
            "problems",
            {"milestones": [{"title": "招标", "due_date": "15/01/2027"}]},
            "milestones.0.due_date",
            ["节点完成日期", "YYYY-MM-DD"],
        ),
        ("post", "corrections", {"reason": "延期", "deadline": "明天"}, "deadline", ["整改时限", "日期时间"]),
        # Too long or too many.
        (
            "post",
            "problems",
            {"milestones": [{"title": "x", "due_date": "2027-01-01"}] * 51},
            "milestones",
            ["最多 50 项"],
        ),
        ("post", "problems", {"description": "a\x00b"}, "description", ["问题描述", "不能包含 NUL 字符"]),
        # Missing.
        ("post", "moves", {"reason": "x"}, "move", ["操作", "必须填写"]),
        ("post", "corrections", {"location": "操场"}, "reason", ["更正原因", "必须填写"]),
        (
            "post",
            "problems",
            {"milestones": [{"due_date": "2027-01-01"}]},
            "milestones.0.title",
            ["节点名称", "必须填写"],
        ),
        # Wrong types.
        ("post", "bulk", {"ids": "1,2", "move": "void"}, "ids", ["须是列表"]),
        ("post", "moves", {"move": ["void"]}, "move", ["须是文字"]),
    ],
)
def test_schema_refusals_are_chinese_and_name_the_field(city, setup, method, url, body, field, parts):
    problem = make_problem(city, setup)
    urls = {
        "problems": "/api/ledger/problems",
        "moves": f"/api/ledger/problems/{problem.pk}/moves",
        "corrections": f"/api/ledger/problems/{problem.pk}/corrections",
        "bulk": "/api/ledger/problems/bulk-moves",
    }
    if url == "problems":
        body = {"school_id": city.school_a.pk, "description": "教室黑板报未更新", **body}
    office = api(city, Role.OFFICE)  # its token is audited: made before the snapshot
    before = _snapshot()
    response = getattr(office, method)(urls[url], body)
    assert response.status_code == 422, response.content
    _assert_chinese(response.json()["detail"], field, *parts)
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("url", "params", "field", "parts"),
    [
        ("/api/ledger/problems", {"school": "-3"}, "school", ["学校 id", "须不小于 1"]),
        ("/api/ledger/problems", {"round_id": "abc"}, "round_id", ["检查轮次 id", "须是整数"]),
        ("/api/ledger/problems", {"overdue": "也许"}, "overdue", ["须是 true 或 false"]),
        ("/api/ledger/problems", {"page": "0"}, "page", ["页码", "须不小于 1"]),
        ("/api/ledger/problems/0", {}, "problem_id", ["问题 id", "须不小于 1"]),
        ("/api/inspections/", {"round": "x"}, "round", ["须是整数"]),
    ],
)
def test_query_and_path_refusals_are_chinese(city, setup, url, params, field, parts):
    response = api(city, Role.OFFICE).get(url, params)
    assert response.status_code == 422, response.content
    _assert_chinese(response.json()["detail"], field, *parts)


def test_other_routers_answer_in_chinese_too(city, setup):
    """Another app's schema without descriptions: the field is named by the shared table, or as sent."""
    inspection_url = "/api/inspections/"
    response = api(city, Role.INSPECTOR).post(inspection_url, {"round_id": "第一轮", "school_id": -1})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail == {
        "round_id": ["检查轮次 id（round_id）须是整数"],
        "school_id": ["学校 id（school_id）须不小于 1"],
    }


def test_a_body_that_is_not_json_is_refused_in_chinese(city, setup):
    office = api(city, Role.OFFICE)
    response = office.client.post(
        "/api/ledger/problems", "{not json", content_type="application/json", **office.headers
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "请求体无法解析：请发送 JSON 对象（Content-Type: application/json）"}
    empty = office.client.post("/api/ledger/problems", "", content_type="application/json", **office.headers)
    assert empty.status_code == 422
    assert empty.json() == {"detail": {"__all__": ["请求体（JSON 对象）必须填写"]}}
    assert not Problem.objects.exists()


def test_every_422_of_the_openapi_writes_is_chinese(city, setup):
    """Each write of the whole API, sent a body of wrong types, answers a Chinese 422 (or a refusal before
    the body is read): nothing in English from the framework reaches a client."""
    from chuangwen.api.api import api as ninja_api

    admin = Api(city.users[Role.ADMIN])
    schema = ninja_api.get_openapi_schema()
    seen = 0
    for path, operations in schema["paths"].items():
        for method in operations:
            if method not in {"post", "put", "patch"}:
                continue
            url = re.sub(r"\{[^}]+\}", "1", path)
            response = admin.client.generic(
                method.upper(), url, '{"__bad__": [1]}', content_type="application/json", **admin.headers
            )
            if response.status_code != 422:
                continue
            seen += 1
            text = str(response.json()["detail"])
            assert CHINESE.search(text), (path, text)
            assert "Input should" not in text and "Field required" not in text, (path, text)
    assert seen >= 10
    assert Problem.objects.count() == 0 and ProblemEvent.objects.count() == 0


def test_the_new_endpoints_are_documented(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert set(paths["/api/ledger/settings"]) == {"get", "put"}
    assert "post" in paths["/api/ledger/problems/{problem_id}/corrections"]
    assert "post" in paths["/api/ledger/problems/{problem_id}/milestones/{milestone_id}/done"]
