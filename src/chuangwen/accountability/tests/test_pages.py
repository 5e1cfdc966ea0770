"""The accountability pages through the test client: create, acknowledge, revoke, filters, scoping,
exports, rules, cards and a unit's history."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from chuangwen.accountability import cards, services
from chuangwen.accountability.models import CardRules, Kind, Record
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.ledger.tests.factories import make_problem, make_setup

from .factories import at, problem_on

DAY = dt.date(2026, 11, 20)


def _record(city, unit=None, kind=Kind.CRITICISE, reason="校园卫生整改不力", **kw):
    return services.record_create(
        kind=kind,
        unit=unit or city.school_a,
        reason=reason,
        date=kw.pop("date", DAY),
        actor=city.users[Role.OFFICE],
        **kw,
    )


def _login(client, city, role):
    user = city.users[role]
    client.force_login(user)
    return user


def test_office_creates_a_record_with_problems_of_the_school(client, city):
    setup = make_setup(city)
    problem = make_problem(city, setup)
    _login(client, city, Role.OFFICE)
    page = client.get(f"/accountability/new/?unit={city.school_a.pk}")
    assert page.status_code == 200
    assert problem.number in page.content.decode()
    response = client.post(
        "/accountability/new/",
        {
            "unit": city.school_a.pk,
            "kind": "criticise",
            "date": "2026-11-20",
            "reason": "逾期未整改",
            "problems": [problem.pk],
        },
    )
    record = Record.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/accountability/{record.pk}/"
    assert list(record.problems.all()) == [problem]


def test_create_with_bad_input_shows_errors_and_saves_nothing(client, city):
    _login(client, city, Role.OFFICE)
    response = client.post(
        "/accountability/new/",
        {"unit": city.school_a.pk, "kind": "talk", "date": "2026-11-20", "reason": "约谈"},
    )
    assert response.status_code == 400
    assert "约谈须填写约谈时间" in response.content.decode()
    response = client.post(
        "/accountability/new/", {"unit": city.school_c.pk, "kind": "red", "date": "", "reason": ""}
    )
    assert response.status_code == 400
    assert not Record.objects.exists()


def test_head_acknowledges_on_the_page_liaison_sees_but_cannot(client, city):
    record = _record(city)
    _login(client, city, Role.LIAISON)
    page = client.get(f"/accountability/{record.pk}/").content.decode()
    assert "校园卫生整改不力" in page and 'data-testid="acknowledge"' not in page
    assert client.post(f"/accountability/{record.pk}/acknowledge/", {"note": "x"}).status_code == 403
    head = _login(client, city, Role.SCHOOL_HEAD)
    page = client.get(f"/accountability/{record.pk}/").content.decode()
    assert 'data-testid="acknowledge"' in page
    response = client.post(f"/accountability/{record.pk}/acknowledge/", {"note": "已整改"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.acknowledged_by == head
    again = client.post(f"/accountability/{record.pk}/acknowledge/", {"note": ""})
    assert again.status_code == 400 and "已经确认" in again.content.decode()


def test_revoke_needs_a_reason_and_keeps_the_record(client, city):
    record = _record(city)
    _login(client, city, Role.OFFICE)
    response = client.post(f"/accountability/{record.pk}/revoke/", {"revoke-reason": ""})
    assert response.status_code == 400
    record.refresh_from_db()
    assert record.revoked_at is None
    client.post(f"/accountability/{record.pk}/revoke/", {"revoke-reason": "登记错了学校"})
    page = client.get(f"/accountability/{record.pk}/").content.decode()
    assert "登记错了学校" in page and "已撤销" in page
    # The list shows valid records by default; 已撤销 on request.
    assert record.number not in client.get("/accountability/").content.decode()
    assert record.number in client.get("/accountability/?revoked=yes").content.decode()
    assert record.number in client.get("/accountability/?revoked=all").content.decode()
    assert record.number not in client.get("/accountability/?kind=criticise").content.decode()


def test_correct_on_the_page(client, city):
    record = _record(city)
    _login(client, city, Role.OFFICE)
    response = client.post(
        f"/accountability/{record.pk}/correct/",
        {
            "correct-reason": "校园卫生多次督促仍未整改",
            "correct-date": "2026-11-19",
            "correct-correct_reason": "核实日期",
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.date == dt.date(2026, 11, 19)
    page = client.get(f"/accountability/{record.pk}/").content.decode()
    assert "核实日期" in page and "2026-11-20" in page  # the history shows the date before


def test_a_school_never_sees_another_schools_records(client, city):
    mine = _record(city, reason="甲校的记录")
    other = _record(city, unit=city.school_c, reason="丙校的记录")
    client.force_login(city.outsider)  # liaison of school_c
    assert client.get(f"/accountability/{mine.pk}/").status_code == 404
    assert client.get(f"/accountability/units/{city.school_a.pk}/").status_code == 404
    assert client.post(f"/accountability/{mine.pk}/acknowledge/").status_code == 404
    listing = client.get("/accountability/").content.decode()
    assert "丙校的记录" in listing and "甲校的记录" not in listing
    assert client.get(f"/accountability/{other.pk}/").status_code == 200
    book = load_workbook(io.BytesIO(client.get("/accountability/export.xlsx").content))
    reasons = [row[4] for row in book.active.iter_rows(min_row=3, values_only=True)]
    assert reasons == ["丙校的记录"]
    api = client.get("/api/accountability/records").json()
    assert [r["reason"] for r in api["items"]] == ["丙校的记录"]
    assert client.get(f"/api/accountability/records/{mine.pk}").status_code == 404


def test_list_filters(client, city):
    _record(city, kind=Kind.COMMEND, reason="表扬甲", date=dt.date(2026, 11, 1))
    _record(city, unit=city.school_b, kind=Kind.CRITICISE, reason="批评乙", date=dt.date(2026, 11, 15))
    acked = _record(city, kind=Kind.CRITICISE, reason="批评甲", date=dt.date(2026, 11, 18))
    services.record_acknowledge(record=acked, actor=city.users[Role.SCHOOL_HEAD])
    _login(client, city, Role.LEADER)

    def reasons(query):
        page = client.get(f"/accountability/?{query}")
        assert page.status_code == 200
        return [r.reason for r in page.context["page"].object_list]

    assert reasons("") == ["批评甲", "批评乙", "表扬甲"]
    assert reasons("kind=criticise") == ["批评甲", "批评乙"]
    assert reasons(f"unit={city.school_b.pk}") == ["批评乙"]
    assert reasons("date_from=2026-11-10&date_to=2026-11-16") == ["批评乙"]
    assert reasons("acknowledged=yes") == ["批评甲"]
    assert reasons("acknowledged=no") == ["批评乙", "表扬甲"]
    assert reasons("kind=bogus&date_from=notadate") == ["批评甲", "批评乙", "表扬甲"]  # bad filters dropped


def test_list_query_count_does_not_grow_with_rows(client, city, django_assert_max_num_queries):
    for i in range(3):
        _record(city, reason=f"记录{i}")
    _login(client, city, Role.OFFICE)
    client.get("/accountability/")
    with django_assert_max_num_queries(12) as small:
        client.get("/accountability/")
    for i in range(15):
        _record(city, unit=city.school_b, reason=f"更多{i}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/accountability/")


def test_export_is_audited_and_formulas_stay_text(client, city):
    setup = make_setup(city)
    problem = make_problem(city, setup)
    record = _record(city, reason='=HYPERLINK("http://x")', problems=[problem])
    services.record_acknowledge(record=record, actor=city.users[Role.SCHOOL_HEAD], note="收到")
    _login(client, city, Role.OFFICE)
    response = client.get("/accountability/export.xlsx?kind=criticise")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws["A2"].value == "编号"
    row = list(ws[3])
    assert row[0].value == record.number
    assert row[1].value == "东区第一小学"
    assert row[4].value == '=HYPERLINK("http://x")' and row[4].data_type == "s"
    assert row[6].value == problem.number
    assert row[12].value.startswith("学校一把手测试") and row[12].value.endswith("：收到")
    event = AuditEvent.objects.filter(event_type="accountability.export").last()
    assert event.data["rows"] == 1 and event.data["filters"]["kind"] == "criticise"


@pytest.fixture
def carded(city):
    CardRules.objects.create(
        pk=1, threshold=2, period_days=10, repeat_days=30, start_date=dt.date(2026, 11, 2)
    )
    setup = make_setup(city)
    for _ in range(2):
        problem_on(city, setup, dt.date(2026, 11, 3))
        problem_on(city, setup, dt.date(2026, 11, 3), school=city.school_c)
    return cards.cards_evaluate(as_of=at(dt.date(2026, 11, 12), 1))


def test_cards_page_export_and_school_scope(client, city, carded, time_machine):
    time_machine.move_to(at(dt.date(2026, 11, 20)))
    assert len(carded.cards) == 2
    _login(client, city, Role.LEADER)
    page = client.get("/accountability/cards/")
    rows = page.context["rows"]
    assert {r["unit"].pk for r in rows} == {city.school_a.pk, city.school_c.pk}
    assert all(len(r["current"]) == 1 and r["yellow"] == 1 for r in rows)
    ws = load_workbook(io.BytesIO(client.get("/accountability/cards/export.xlsx").content)).active
    assert sorted(r[0] for r in ws.iter_rows(min_row=3, values_only=True)) == ["东区第一小学", "西区第二小学"]
    assert AuditEvent.objects.filter(event_type="accountability.cards_export").exists()
    # The school sees its own card only, in its history page too.
    client.force_login(city.outsider)
    rows = client.get("/accountability/cards/").context["rows"]
    assert [r["unit"].pk for r in rows] == [city.school_c.pk]
    unit_page = client.get(f"/accountability/units/{city.school_c.pk}/")
    assert 'data-testid="in-force"' in unit_page.content.decode()
    # After the repeat window the card is history, no longer current.
    time_machine.move_to(at(dt.date(2026, 12, 30)))
    client.force_login(city.outsider)  # the session would have expired
    rows = client.get("/accountability/cards/").context["rows"]
    assert rows[0]["current"] == [] and len(rows[0]["history"]) == 1


def test_evaluate_button_and_rules_page(client, city):
    CardRules.objects.create(pk=1, start_date=dt.date(2026, 1, 1))
    _login(client, city, Role.OFFICE)
    response = client.post("/accountability/cards/evaluate/", follow=True)
    assert response.status_code == 200
    assert "已评定" in response.content.decode()
    page = client.get("/accountability/rules/")
    assert page.status_code == 200
    bad = client.post(
        "/accountability/rules/",
        {
            "threshold": "0",
            "period_days": "10",
            "repeat_days": "30",
            "start_date": "2027-01-01",
            "enabled": "on",
        },
    )
    assert bad.status_code == 400
    good = client.post(
        "/accountability/rules/",
        {
            "threshold": "4",
            "period_days": "15",
            "repeat_days": "30",
            "start_date": "2030-01-01",
            "enabled": "on",
        },
    )
    assert good.status_code == 302
    assert CardRules.objects.get(pk=1).threshold == 4


def test_unit_history_for_bureau_and_own_school(client, city):
    _record(city, reason="甲校记录")
    for role in (Role.LEADER, Role.TEACHER, Role.SCHOOL_HEAD):
        _login(client, city, role)
        page = client.get(f"/accountability/units/{city.school_a.pk}/")
        assert page.status_code == 200 and "甲校记录" in page.content.decode()
    _login(client, city, Role.SCHOOL_HEAD)
    assert client.get(f"/accountability/units/{city.school_b.pk}/").status_code == 404
    assert client.get(f"/accountability/units/{city.bureau.pk}/").status_code == 404
    assert client.get("/accountability/units/999999/").status_code == 404


def test_pages_render_for_phones(client, city):
    """The tables become cards below 768 px: the rows carry labels for the phone layout."""
    _record(city)
    _login(client, city, Role.OFFICE)
    html = client.get("/accountability/").content.decode()
    assert 'data-label="事由"' in html and "cw-records" in html
    assert 'name="viewport"' in html


def test_org_unit_page_links_to_the_units_history(client, city):
    _login(client, city, Role.SCHOOL_HEAD)
    html = client.get(f"/org/units/{city.school_a.pk}/").content.decode()
    assert f'href="/accountability/units/{city.school_a.pk}/"' in html
    _login(client, city, Role.OFFICE)
    assert (
        'data-testid="accountability-link"'
        not in client.get(f"/org/units/{city.bureau.pk}/").content.decode()
    )


def test_detail_query_count_does_not_grow_with_problems_or_events(
    client, city, django_assert_max_num_queries
):
    setup = make_setup(city)
    one = _record(city, problems=[make_problem(city, setup)])
    many = _record(city, problems=[make_problem(city, setup) for _ in range(6)])
    for i in range(4):
        services.record_correct(
            record=many,
            changes={"reason": f"事由第{i}稿"},
            reason=f"第{i}次更正",
            actor=city.users[Role.OFFICE],
        )
    _login(client, city, Role.OFFICE)
    client.get(f"/accountability/{one.pk}/")
    with django_assert_max_num_queries(20) as small:
        client.get(f"/accountability/{one.pk}/")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(f"/accountability/{many.pk}/").status_code == 200
