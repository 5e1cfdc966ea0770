"""The ledger workbook read back with openpyxl: layout, one row per problem, Shanghai times, scoping, and a
query count that does not depend on the number of rows."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chuangwen.core.calendar import SHANGHAI
from chuangwen.core.models import AuditEvent, EvidencePhoto
from chuangwen.core.roles import Role
from chuangwen.ledger import exports, selectors, services
from chuangwen.ledger.forms import FilterForm
from chuangwen.ledger.models import Problem, Status

from .factories import make_problem, make_setup, noisy_jpeg

pytestmark = pytest.mark.django_db

HEADER = [
    "序号",
    "学校",
    "问题描述",
    "对应标准",
    "发现方式",
    "发现时间",
    "责任人",
    "整改时限",
    "整改措施",
    "整改情况",
    "复核人",
    "销号时间",
    "状态",
]
# 01:30 in Shanghai is 17:30 the day before in UTC: a date written in UTC would be a day off.
FOUND = dt.datetime(2026, 11, 20, 17, 30, 40, tzinfo=dt.UTC)


def _book(queryset, **kwargs):
    buffer = io.BytesIO()
    count = exports.write_ledger(queryset, buffer, **kwargs)
    buffer.seek(0)
    return count, openpyxl.load_workbook(buffer)


def _rows(ws) -> list[dict]:
    return [dict(zip(HEADER, row, strict=True)) for row in ws.iter_rows(min_row=3, values_only=True)]


def _wall(*args) -> dt.datetime:
    """A Shanghai wall-clock time as Excel holds it (naive)."""
    return dt.datetime(*args, tzinfo=SHANGHAI).replace(tzinfo=None)


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(SHANGHAI).replace(tzinfo=None, second=0, microsecond=0)


def _closed_problem(city):
    teacher, office = city.users[Role.TEACHER], city.users[Role.OFFICE]
    with time_machine.travel(FOUND, tick=True):
        problem = make_problem(city, description="操场东侧有垃圾未清理", location="操场东侧")
        services.problem_move(problem=problem, code="accept", actor=teacher)
        services.problem_add_photo(
            problem=problem, file=noisy_jpeg(1), purpose=EvidencePhoto.Purpose.AFTER, actor=teacher
        )
        services.problem_move(
            problem=problem, code="submit", actor=teacher, cause="值日不到位", measures="已清理并落实值日制度"
        )
    with time_machine.travel(FOUND + dt.timedelta(hours=3), tick=True):
        services.problem_move(problem=problem, code="approve", actor=office, note="已整改到位")
    problem.refresh_from_db()
    return problem


def test_layout_title_header_frozen_and_widths(city):
    make_problem(city)
    now = dt.datetime(2026, 11, 27, 16, 5, tzinfo=dt.UTC)
    count, wb = _book(Problem.objects.all(), now=now)
    ws = wb["问题台帐"]
    assert count == 1
    assert ws["A1"].value == "检查问题台帐"
    assert ws["K1"].value == "导出时间：2026-11-28 00:05"  # Shanghai time of `now`
    assert [c.value for c in ws[2]] == HEADER
    assert ws.freeze_panes == "C3"
    assert ws.column_dimensions["C"].width >= 30  # 问题描述 is wide …
    assert ws.column_dimensions["A"].width < 10  # … 序号 narrow
    assert ws["C3"].alignment.wrap_text
    assert "A1:J1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.auto_filter.ref == "A2:M3"


def test_closed_problem_has_every_date_and_person_in_shanghai_time(city):
    problem = _closed_problem(city)
    _, wb = _book(Problem.objects.all())
    [row] = _rows(wb.active)
    assert row["序号"] == 1
    assert row["学校"] == city.school_a.name
    assert row["问题描述"] == "操场东侧有垃圾未清理（位置：操场东侧）"
    assert row["对应标准"] == "1.1 校园环境整洁，无卫生死角"
    assert row["发现方式"] == "模拟测评"
    assert row["发现时间"] == _wall(2026, 11, 21, 1, 30)
    assert row["发现时间"] == _local(problem.found_at)
    assert row["整改时限"] == _local(problem.deadline)
    assert row["整改时限"] == _wall(2026, 11, 21, 23, 59)  # 立行立改: the end of that Shanghai day
    assert row["销号时间"] == _local(problem.closed_at)
    assert row["销号时间"] == _wall(2026, 11, 21, 4, 30)
    assert row["责任人"] == city.users[Role.TEACHER].name
    assert row["复核人"] == city.users[Role.OFFICE].name
    assert row["整改措施"] == "已清理并落实值日制度"
    assert row["整改情况"] == "已整改，复核通过：已整改到位"
    assert row["状态"] == "已销号"
    assert wb.active["F3"].number_format == "yyyy-mm-dd hh:mm"


def test_progress_text_follows_the_life_of_the_problem(city):
    setup = make_setup(city)
    teacher, office = city.users[Role.TEACHER], city.users[Role.OFFICE]
    with time_machine.travel(FOUND, tick=True):
        waiting = make_problem(city, setup, description="待签收的问题")
        rejected = make_problem(city, setup, code="1.2", description="复核不通过的问题")
        services.problem_move(problem=rejected, code="accept", actor=teacher)
        services.problem_add_photo(
            problem=rejected, file=noisy_jpeg(3), purpose=EvidencePhoto.Purpose.AFTER, actor=teacher
        )
        services.problem_move(problem=rejected, code="submit", actor=teacher, cause="原因", measures="措施")
        services.problem_move(problem=rejected, code="reject", actor=office, reason="死角仍有垃圾")
        pending = make_problem(city, setup, code="1.3", description="待复核的问题")
        services.problem_move(problem=pending, code="accept", actor=teacher)
        services.problem_add_photo(
            problem=pending, file=noisy_jpeg(4), purpose=EvidencePhoto.Purpose.AFTER, actor=teacher
        )
        services.problem_move(problem=pending, code="submit", actor=teacher, cause="原因", measures="措施")
        void = make_problem(city, setup, description="重复登记的问题")
        services.problem_move(problem=void, code="void", actor=office, reason="与另一条重复")
    # Three Shanghai days after the 立行立改 deadline (end of 21 Nov).
    now = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    _, wb = _book(Problem.objects.order_by("pk"), now=now)
    rows = {r["问题描述"]: r for r in _rows(wb.active)}
    assert rows["待签收的问题"]["整改情况"] == "已交办，待签收（逾期3天）"
    assert rows["复核不通过的问题"]["整改情况"] == "复核未通过，重新整改（逾期3天）：死角仍有垃圾"
    assert rows["复核不通过的问题"]["复核人"] == office.name
    assert rows["复核不通过的问题"]["销号时间"] is None
    assert rows["待复核的问题"]["整改情况"] == "已整改，待复核（2026-11-21 01:30提交）"
    assert rows["重复登记的问题"]["整改情况"] == "已作废：与另一条重复"
    assert rows["重复登记的问题"]["状态"] == "已作废"
    assert [r["序号"] for r in _rows(wb.active)] == [1, 2, 3, 4]
    # Before the deadline nothing is overdue.
    _, wb = _book(Problem.objects.filter(pk=waiting.pk), now=FOUND + dt.timedelta(hours=1))
    assert _rows(wb.active)[0]["整改情况"] == "已交办，待签收"


def test_long_description_is_kept_whole_and_text_never_becomes_a_formula(city):
    long = ("校门口五十米内公益广告缺失，" * 40)[:500]
    setup = make_setup(city)
    make_problem(city, setup, description=long)
    make_problem(city, setup, description='=HYPERLINK("http://evil.example","点击")')
    _, wb = _book(Problem.objects.order_by("pk"))
    ws = wb.active
    assert ws["C3"].value == long and len(ws["C3"].value) == 500
    assert ws["C3"].alignment.wrap_text
    assert ws["C4"].value == '=HYPERLINK("http://evil.example","点击")'
    assert ws["C4"].data_type == "s"


def test_control_characters_are_dropped_not_a_crash(city):
    make_problem(city, description="垃圾\x07未清理\x1b")
    _, wb = _book(Problem.objects.all())
    assert wb.active["C3"].value == "垃圾未清理"


def test_scoping_is_the_callers_queryset(city):
    setup = make_setup(city)
    make_problem(city, setup, school=city.school_a, description="东区一小的问题")
    make_problem(city, setup, school=city.school_c, description="西区二小的问题", responsible=city.outsider)
    office_count, office_wb = _book(selectors.problem_list(user=city.users[Role.OFFICE]))
    outsider_count, outsider_wb = _book(selectors.problem_list(user=city.outsider))
    assert office_count == 2
    assert {r["问题描述"] for r in _rows(office_wb.active)} == {"东区一小的问题", "西区二小的问题"}
    assert outsider_count == 1
    assert [r["学校"] for r in _rows(outsider_wb.active)] == [city.school_c.name]
    filtered_count, _ = _book(
        selectors.problem_list(user=city.users[Role.OFFICE], school_id=city.school_c.pk)
    )
    assert filtered_count == 1


def _bulk(city, setup, n: int) -> None:
    """n problems in one insert, each with a responsible person, a re-checker and a standard."""
    now = timezone.now()
    Problem.objects.bulk_create(
        Problem(
            school=city.school_a if i % 2 else city.school_c,
            standard=setup.standards["1.1"],
            source="mock",
            description=f"批量问题{i}",
            found_by=city.users[Role.INSPECTOR],
            found_at=now - dt.timedelta(minutes=i),
            responsible=city.users[Role.TEACHER],
            rechecked_by=city.users[Role.OFFICE],
            rechecked_at=now,
            closed_at=now,
            deadline=now,
            status=Status.CLOSED,
        )
        for i in range(n)
    )


def test_query_count_does_not_grow_with_rows(city):
    setup = make_setup(city)
    office = city.users[Role.OFFICE]
    _bulk(city, setup, 3)
    few_rows = selectors.problem_list(user=office)  # the visibility rule's own lookups stay outside
    with CaptureQueriesContext(connection) as few:
        count_few, _ = _book(few_rows)
    _bulk(city, setup, 27)
    many_rows = selectors.problem_list(user=office)
    with CaptureQueriesContext(connection) as many:
        count_many, wb = _book(many_rows)
    assert (count_few, count_many) == (3, 30)
    assert len(many.captured_queries) == len(few.captured_queries) <= 2
    rows = _rows(wb.active)
    assert len(rows) == 30 and all(r["复核人"] == office.name and r["销号时间"] for r in rows)


def test_empty_ledger_is_a_valid_workbook_with_the_header(city):
    count, wb = _book(Problem.objects.none())
    assert count == 0
    assert [c.value for c in wb.active[2]] == HEADER
    assert wb.active.max_row == 2


def test_export_response_is_a_download_with_a_dated_utf8_name_and_is_audited(city):
    make_problem(city)
    office = city.users[Role.OFFICE]
    with time_machine.travel(dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC), tick=True):
        response = exports.export_response(selectors.problem_list(user=office), actor=office)
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="ledger-20261128.xlsx"')
    assert f"filename*=UTF-8''{quote('问题台帐-20261128.xlsx')}" in disposition
    assert response["Cache-Control"] == "no-store"
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(_rows(wb.active)) == 1
    response.file_to_stream.close()  # not response.close(): that fires request_finished (closes the DB)
    event = AuditEvent.objects.filter(event_type="ledger.export").latest("seq")
    assert event.data == {"rows": 1, "filters": {}} and event.actor_id == office.pk


def _export(client, query: str):
    response = client.get(f"/ledger/export.xlsx?{query}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return _rows(book.active), AuditEvent.objects.filter(event_type="ledger.export").latest("seq")


def test_the_exports_audit_event_records_the_filters_that_chose_the_rows(client, city):
    """The audit tells what was exported: the rows and the very filters the list applied (an invalid
    filter, ignored by the list, is recorded as not set)."""
    setup = make_setup(city)
    make_problem(city, setup, description="操场东侧有垃圾未清理")
    make_problem(city, setup, code="1.2", description="走廊灯坏")
    make_problem(city, setup, school=city.school_c, description="西区垃圾")
    office = city.users[Role.OFFICE]
    client.force_login(office)
    everything = FilterForm(None).filters()  # every filter the list takes, none set
    assert everything["q"] == "" and everything["school_id"] is None

    rows, event = _export(client, f"status=open&school={city.school_a.pk}&q=垃圾&standard=abc")
    assert [r["问题描述"] for r in rows] == ["操场东侧有垃圾未清理"]
    assert event.actor_id == office.pk and event.object_type == "ledger.problem"
    assert event.data == {
        "rows": 1,
        "filters": {**everything, "status": "open", "school_id": city.school_a.pk, "q": "垃圾"},
    }

    rows, event = _export(client, f"district={city.district_b.pk}&overdue=on")
    assert rows == [] and event.data == {
        "rows": 0,
        "filters": {**everything, "district_id": city.district_b.pk, "overdue": True},
    }

    rows, event = _export(client, "")
    assert len(rows) == 3 and event.data == {"rows": 3, "filters": everything}
    assert AuditEvent.objects.filter(event_type="ledger.export").count() == 3


def test_download_name_is_made_safe():
    now = dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC)
    assert exports.download_name('东区/一小:"逾期"', now=now) == "东区_一小__逾期_-20261127.xlsx"
    assert exports.download_name("", now=now) == "问题台帐-20261127.xlsx"
    assert exports.download_name("台帐.xlsx", now=now) == "台帐-20261127.xlsx"
