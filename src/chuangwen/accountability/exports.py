"""The records and the red/yellow-card table as Excel workbooks, audited like the ledger's export.

Scoping is the caller's: pass `selectors.record_list(user=…)` or `selectors.card_rows(user=…)`.
"""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from chuangwen.core import audit
from chuangwen.core.calendar import SHANGHAI

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECORD_COLUMNS = (
    ("编号", 12),
    ("单位", 24),
    ("类别", 10),
    ("日期", 12),
    ("事由", 50),
    ("来源", 12),
    ("相关问题", 30),
    ("约谈时间", 17),
    ("约谈地点", 16),
    ("约谈人员", 20),
    ("约谈结果", 30),
    ("登记人", 10),
    ("确认", 24),
    ("状态", 30),
)
CARD_COLUMNS = (
    ("学校", 24),
    ("上级单位", 14),
    ("当前在牌", 16),
    ("黄牌累计", 10),
    ("红牌累计", 10),
    ("编号", 12),
    ("类别", 8),
    ("周期/日期", 24),
    ("事由", 50),
    ("相关问题数", 10),
    ("状态", 24),
)


def _text(value) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(value or ""))


def _local(value: dt.datetime | None) -> str:
    return f"{value.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if value else ""


def _person(user) -> str:
    return (user.name or user.username) if user is not None else "系统"


def _sheet(wb: Workbook, title: str, heading: str, columns, now: dt.datetime):
    ws = wb.active
    ws.title = title
    ws.append([heading])
    ws["A1"].font = Font(bold=True, size=14)
    ws.cell(row=1, column=len(columns), value=f"导出时间：{_local(now)}")
    ws.append([c[0] for c in columns])
    for i, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        cell = ws.cell(row=2, column=i)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center")
    ws.freeze_panes = "B3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"
    return ws


def _append(ws, values) -> None:
    ws.append([_text(v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if cell.data_type in ("f", "e"):
            cell.data_type = "s"  # text, never a formula: "=HYPERLINK(…)" in a reason stays text
        cell.alignment = Alignment(vertical="top", wrap_text=True)


def status_text(record) -> str:
    if record.revoked_at:
        return f"已撤销（{_local(record.revoked_at)}）：{record.revoke_reason}"
    return "有效"


def ack_text(record) -> str:
    if record.acknowledged_at:
        note = f"：{record.acknowledgement_note}" if record.acknowledgement_note else ""
        return f"{_person(record.acknowledged_by)} {_local(record.acknowledged_at)}{note}"
    return "未确认"


def write_records(records, fileobj, *, now: dt.datetime) -> int:
    wb = Workbook()
    ws = _sheet(wb, "问责记录", "问责记录", RECORD_COLUMNS, now)
    count = 0
    for count, r in enumerate(records, start=1):  # noqa: B007
        numbers = "、".join(p.number for p in r.problems.all())
        _append(
            ws,
            [
                r.number,
                r.unit.name,
                r.get_kind_display(),
                r.date,
                r.reason,
                r.get_source_display(),
                numbers,
                _local(r.talk_at),
                r.talk_place,
                r.talk_people,
                r.talk_outcome,
                _person(r.created_by),
                ack_text(r),
                status_text(r),
            ],
        )
        ws.cell(row=ws.max_row, column=4).number_format = "yyyy-mm-dd"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(RECORD_COLUMNS))}{count + 2}"
    wb.save(fileobj)
    return count


def write_cards(rows, fileobj, *, now: dt.datetime) -> int:
    """One line per card, grouped by school (school columns on the school's first line)."""
    wb = Workbook()
    ws = _sheet(wb, "红黄牌", "红黄牌情况", CARD_COLUMNS, now)
    count = 0
    for row in rows:
        unit = row["unit"]
        current = "、".join(f"{c.get_kind_display()} {c.number}" for c in row["current"]) or "无"
        for i, card in enumerate(row["history"]):
            count += 1
            period = card.card_period
            when = f"{period.start:%Y-%m-%d}至{period.end:%Y-%m-%d}" if period else f"{card.date:%Y-%m-%d}"
            head = (
                [unit.name, unit.parent.name if unit.parent else "", current, row["yellow"], row["red"]]
                if i == 0
                else ["", "", "", None, None]
            )
            _append(
                ws,
                [
                    *head,
                    card.number,
                    card.get_kind_display(),
                    when,
                    card.reason,
                    card.problem_count,
                    status_text(card),
                ],
            )
    wb.save(fileobj)
    return count


def response(write, data, *, filename: str, event: str, request, filters: dict | None = None) -> HttpResponse:
    """The workbook as a download, recorded in the audit chain with the row count and filters."""
    now = timezone.now()
    buf = io.BytesIO()
    count = write(data, buf, now=now)
    audit.record(
        event,
        request=request,
        object_type="accountability.record",
        data={"rows": count, "filters": filters or {}},
    )
    name = f"{filename}-{now.astimezone(SHANGHAI):%Y%m%d}.xlsx"
    resp = HttpResponse(buf.getvalue(), content_type=XLSX_CONTENT_TYPE)
    fallback = f"accountability-{now.astimezone(SHANGHAI):%Y%m%d}.xlsx"
    resp["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    resp["Cache-Control"] = "no-store"
    return resp
