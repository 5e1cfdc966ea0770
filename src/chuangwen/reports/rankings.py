"""Rankings of schools: by score (the city's competition ranks), by rectification rate, or by overdue
count (most first: the list a leader reads for criticism), with ties shown as equal ranks; and the same
table as an Excel workbook, recorded in the audit chain like the ledger export.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from html import escape  # as django.utils.html.escape, without its lazy-string wrapper (2,000 calls)
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from chuangwen.core import audit
from chuangwen.core.calendar import SHANGHAI

from . import figures
from .selectors import SORTS, Filters

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = (
    ("名次", 7),
    ("学校", 30),
    ("区县", 12),
    ("学校类型", 12),
    ("得分", 9),
    ("全市排名", 9),
    ("类型内排名", 10),
    ("一票否决", 9),
    ("问题数", 8),
    ("未销号", 8),
    ("逾期问题", 9),
    ("已销号", 8),
    ("整改率(%)", 10),
)


@dataclass(frozen=True)
class Ranked:
    position: int | None  # competition rank by the chosen sort among the rows shown; None = no value
    figures: figures.SchoolFigures

    def row_html(self, *, school_base: str, ledger_base: str) -> str:
        """The table row, built here with every text escaped: the template's per-cell lookups and filters
        on 200 rows were half the page's time (the ledger list does the same, ledger/list_rows.py).
        `ledger_base`: the ledger list's URL with the campaign (and round) already in its query, ending in
        "?" or "&amp;"."""
        f = self.figures
        veto = ' <span class="badge text-bg-dark">一票否决</span>' if f.vetoed else ""
        problems = f'<a href="{ledger_base}school={f.school_id}">{f.problems}</a>'
        overdue = (
            f'<a class="text-danger" href="{ledger_base}school={f.school_id}&amp;overdue=1">{f.overdue}</a>'
            if f.overdue
            else "0"
        )
        cells = (
            ("名次", ' class="fw-bold" data-testid="position"', _dash(self.position)),
            ("学校", "", f'<a href="{school_base}{f.school_id}/">{escape(f.name)}</a>{veto}'),
            ("区县", "", escape(f.district or "市直")),
            ("类型", "", escape(f.school_type_label)),
            ("得分", _END, "未检查" if f.score is None else f"{f.score:.2f}"),
            ("全市排名", _END, _dash(f.rank)),
            ("类型内排名", _END, _dash(f.rank_in_type)),
            ("问题", _END, problems),
            ("逾期", _END, overdue),
            ("整改率", _END, "—" if f.rectification_rate is None else f"{f.rectification_rate:.1f}%"),
        )
        tds = "".join(f'<td data-label="{label}"{attrs}>{value}</td>' for label, attrs, value in cells)
        return f'<tr data-testid="ranking-row" data-school="{f.school_id}">{tds}</tr>'


_END = ' class="text-end"'


def _dash(value: int | None) -> str:
    return "—" if value is None else str(value)


def _metric(sort: str, f: figures.SchoolFigures):
    if sort == "rate":
        return f.rectification_rate
    if sort == "overdue":
        return f.overdue
    return f.score


def rank_by(rows: list[figures.SchoolFigures], sort: str) -> list[Ranked]:
    """Rows ordered by the metric (descending; missing values last), ranked 1, 2, 2, 4 on equal values."""
    sort = sort if sort in SORTS else "score"
    valued = [f for f in rows if _metric(sort, f) is not None]
    valued.sort(key=lambda f: (-_metric(sort, f), f.rank or 10**9, f.name, f.school_id))
    out: list[Ranked] = []
    previous = object()
    position = 0
    for i, f in enumerate(valued, start=1):
        value = _metric(sort, f)
        if value != previous:
            position, previous = i, value
        out.append(Ranked(position, f))
    missing = sorted((f for f in rows if _metric(sort, f) is None), key=lambda f: (f.name, f.school_id))
    out.extend(Ranked(None, f) for f in missing)
    return out


def ranked(filters: Filters) -> list[Ranked]:
    if filters.campaign is None:
        return []
    rows = figures.school_figures(campaign=filters.campaign, round=filters.round, schools=filters.schools)
    return rank_by(rows, filters.sort)


def _title(filters: Filters) -> str:
    parts = [filters.campaign.name if filters.campaign else "", filters.round.name if filters.round else ""]
    parts += [filters.district_label, filters.school_type_label]
    return "学校排名（" + " · ".join(p for p in parts if p) + "）"


def write_rankings(rows: list[Ranked], filters: Filters, fileobj, *, now=None) -> int:
    now = now or timezone.now()
    wb = Workbook()
    ws = wb.active
    ws.title = "学校排名"
    last = get_column_letter(len(HEADERS))
    ws.append([_title(filters)])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(name="宋体", size=14, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(
        [f"排序：{SORTS.get(filters.sort, '得分')}　导出时间：{now.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"]
    )
    ws.merge_cells(f"A2:{last}2")
    ws.append([h for h, _ in HEADERS])
    thin = Side(style="thin", color="999999")
    fill = PatternFill("solid", fgColor="F2F2F2")
    for i, (_, width) in enumerate(HEADERS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        cell = ws.cell(row=3, column=i)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r in rows:
        f = r.figures
        ws.append(
            [
                r.position if r.position is not None else "—",
                f.name,
                f.district or "市直",
                f.school_type_label,
                f.score if f.score is not None else "未检查",
                f.rank if f.rank is not None else "—",
                f.rank_in_type if f.rank_in_type is not None else "—",
                "是" if f.vetoed else "",
                f.problems,
                f.open_problems,
                f.overdue,
                f.closed,
                f.rectification_rate if f.rectification_rate is not None else "—",
            ]
        )
    for row in ws.iter_rows(min_row=3, max_row=ws.max_row):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col in (5, 13):
        for (cell,) in ws.iter_rows(min_row=4, min_col=col, max_col=col):
            if not isinstance(cell.value, str):
                cell.number_format = "0.00"
    ws.freeze_panes = "C4"
    ws.auto_filter.ref = f"A3:{last}{ws.max_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"
    ws.print_title_rows = "3:3"
    wb.save(fileobj)
    return len(rows)


def export_response(filters: Filters, *, request) -> HttpResponse:
    now = timezone.now()
    rows = ranked(filters)
    buf = io.BytesIO()
    count = write_rankings(rows, filters, buf, now=now)
    audit.record(
        "reports.rankings_export",
        actor=request.user,
        request=request,
        object_type="org.unit",
        data={
            "rows": count,
            "campaign_id": filters.campaign.pk if filters.campaign else None,
            "round_id": filters.round.pk if filters.round else None,
            "district_id": filters.district.pk if filters.district else None,
            "school_type": filters.school_type,
            "sort": filters.sort,
        },
    )
    name = f"学校排名-{now.astimezone(SHANGHAI):%Y%m%d}.xlsx"
    response = HttpResponse(buf.getvalue(), content_type=XLSX_CONTENT_TYPE)
    fallback = f"rankings-{now.astimezone(SHANGHAI):%Y%m%d}.xlsx"
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response
