"""The ledger as an Excel workbook in the official layout (检查问题台帐), for any number of problems.

`write_ledger` streams: one `values_list` query with the joins it needs (school, standard, responsible,
re-checker), read in chunks of 2,000 rows, written by openpyxl in write-only mode (rows go to a temporary
file as they come, strings are inline, not a shared-string table), so memory does not grow with the number
of rows. `export_response` writes to a spooled temporary file and returns it as a download.

Scoping is the caller's: pass `selectors.problem_list(user=…, …)` (or `visible_problems(user)`), never
`Problem.objects.all()`.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from urllib.parse import quote

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from chuangwen.core import audit
from chuangwen.core.calendar import SHANGHAI

from .models import Problem, Severity, Source, Status

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TITLE = "检查问题台帐"
SHEET_TITLE = "问题台帐"
CHUNK_SIZE = 2000
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
STANDARD_TEXT_LIMIT = 60

# (header, column width in characters, wrap long text)
COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("序号", 6, False),
    ("学校", 22, True),
    ("问题描述", 42, True),
    ("对应标准", 30, True),
    ("发现方式", 10, False),
    ("发现时间", 17, False),
    ("责任人", 10, True),
    ("整改时限", 17, False),
    ("整改措施", 36, True),
    ("整改情况", 26, True),
    ("复核人", 10, True),
    ("销号时间", 17, False),
    ("状态", 16, False),
)
HEADER = tuple(c[0] for c in COLUMNS)
DATETIME_COLUMNS = frozenset({"发现时间", "整改时限", "销号时间"})

# One query: the problem's own fields and the four joins; nothing is looked up per row.
FIELDS = (
    "school__name",
    "description",
    "location",
    "standard__code",
    "standard__text",
    "source",
    "found_at",
    "responsible__name",
    "responsible__username",
    "severity",
    "deadline",
    "target_date",
    "measures",
    "status",
    "assigned_at",
    "submitted_at",
    "rechecked_at",
    "recheck_note",
    "rechecked_by__name",
    "rechecked_by__username",
    "closed_at",
    "void_reason",
    "reopen_count",
)

_SOURCE_LABELS = dict(Source.choices)
_STATUS_LABELS = dict(Status.choices)
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def _shanghai(value: dt.datetime | None) -> dt.datetime | None:
    """An aware datetime as a naive Shanghai one (Excel has no time zones), to the minute."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value.astimezone(SHANGHAI).replace(tzinfo=None, second=0, microsecond=0)


def _person(name: str | None, username: str | None) -> str:
    return name or username or ""


def _text(value: str | None) -> str:
    """Text Excel accepts: control characters (illegal in the XML) are dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", value or "")


def _overdue_days(deadline: dt.datetime | None, now: dt.datetime) -> int:
    """Whole Shanghai calendar days past the deadline (at least 1 once it has passed), else 0."""
    if deadline is None or now <= deadline:
        return 0
    days = (now.astimezone(SHANGHAI).date() - deadline.astimezone(SHANGHAI).date()).days
    return max(days, 1)


def progress_text(row: dict, *, now: dt.datetime) -> str:
    """整改情况: a short sentence from the status, the submission and the re-check."""
    status = row["status"]
    overdue = _overdue_days(row["deadline"], now)
    late = f"（逾期{overdue}天）" if overdue else ""
    note = (row["recheck_note"] or "").strip()
    if status == Status.CLOSED:
        return "已整改，复核通过" + (f"：{note}" if note else "")
    if status == Status.VOID:
        reason = (row["void_reason"] or "").strip()
        return "已作废" + (f"：{reason}" if reason else "")
    if status == Status.PENDING_REVIEW:
        submitted = _shanghai(row["submitted_at"])
        when = f"（{submitted:%Y-%m-%d %H:%M}提交）" if submitted else ""
        return f"已整改，待复核{when}"
    if status == Status.NEW:
        return "待交办"
    if status == Status.ASSIGNED:
        return f"已交办，待签收{late}"
    # In progress: after a failed re-check (re-checked since it was last assigned), reopened, or first time.
    rechecked, assigned = row["rechecked_at"], row["assigned_at"]
    if rechecked is not None and (assigned is None or rechecked > assigned):
        return f"复核未通过，重新整改{late}" + (f"：{note}" if note else "")
    if row["reopen_count"]:
        return f"问题复发，重新整改{late}"
    return f"整改中{late}"


def row_values(index: int, row: dict, *, now: dt.datetime) -> list:
    """The 13 cells of one problem, in HEADER order."""
    description = _text(row["description"])
    if row["location"]:
        description += f"（位置：{_text(row['location'])}）"
    standard = ""
    if row["standard__code"]:
        text = _text(row["standard__text"])
        if len(text) > STANDARD_TEXT_LIMIT:
            text = text[: STANDARD_TEXT_LIMIT - 1] + "…"
        standard = f"{row['standard__code']} {text}".strip()
    deadline = _shanghai(row["deadline"])
    if deadline is None and row["severity"] == Severity.LONG and row["target_date"]:
        deadline = dt.datetime.combine(row["target_date"], dt.time(23, 59))
    closed = _shanghai(row["closed_at"]) if row["status"] == Status.CLOSED else None
    return [
        index,
        _text(row["school__name"]),
        description,
        standard,
        _SOURCE_LABELS.get(row["source"], row["source"]),
        _shanghai(row["found_at"]),
        _text(_person(row["responsible__name"], row["responsible__username"])),
        deadline,
        _text(row["measures"]),
        _text(progress_text(row, now=now)),
        _text(_person(row["rechecked_by__name"], row["rechecked_by__username"])),
        closed,
        _STATUS_LABELS.get(row["status"], row["status"]),
    ]


class _Styles:
    """The style of every kind of cell, made once (not looked up again for each of a million cells)."""

    def __init__(self, ws):
        thin = Side(style="thin", color="999999")
        border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.title = self._proto(ws, font=Font(bold=True, size=14), alignment=Alignment(vertical="center"))
        self.stamp = self._proto(
            ws, font=Font(size=10, color="555555"), alignment=Alignment(horizontal="right", vertical="center")
        )
        self.header = self._proto(
            ws,
            font=Font(bold=True),
            fill=PatternFill("solid", fgColor="DDEBF7"),
            border=border,
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        )
        self.plain = self._proto(ws, border=border, alignment=Alignment(vertical="top"))
        self.wrap = self._proto(ws, border=border, alignment=Alignment(vertical="top", wrap_text=True))
        self.when = self._proto(
            ws, border=border, alignment=Alignment(vertical="top"), number_format=DATETIME_FORMAT
        )
        self.columns = [
            self.when if name in DATETIME_COLUMNS else self.wrap if wrap else self.plain
            for name, _, wrap in COLUMNS
        ]

    @staticmethod
    def _proto(ws, **styles):
        cell = WriteOnlyCell(ws)
        for key, value in styles.items():
            setattr(cell, key, value)
        return cell._style


def _cell(ws, value, style, column: int) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value)
    cell._style = style
    cell.column = column
    return _as_text(cell)


def _as_text(cell: WriteOnlyCell) -> WriteOnlyCell:
    if cell.data_type in ("f", "e"):
        # Text, never a formula or an error code: a description such as "=HYPERLINK(…)" must not come
        # alive in Excel.
        cell.data_type = "s"
    return cell


def _cells_as_given(values, row_idx):
    """Replaces WriteOnlyWorksheet._values_to_row: our rows are ready cells with their columns set, so
    they are written as they are (openpyxl would first try each cell as a value, fail, and copy it)."""
    for cell in values:
        cell.row = row_idx
        yield cell


def write_ledger(queryset: QuerySet[Problem], fileobj, *, now: dt.datetime | None = None) -> int:
    """Write the problems of `queryset` (in its order) as an .xlsx to `fileobj`; returns the row count."""
    now = now or timezone.now()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLE)
    ws._values_to_row = _cells_as_given
    styles = _Styles(ws)
    last = get_column_letter(len(COLUMNS))
    for i, (_, width, _) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "C3"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    stamp = f"导出时间：{_shanghai(now):%Y-%m-%d %H:%M}"
    split = len(COLUMNS) - 3
    ws.append([_cell(ws, TITLE, styles.title, 1), _cell(ws, stamp, styles.stamp, split + 1)])
    ws.merged_cells.add(CellRange(f"A1:{get_column_letter(split)}1"))
    ws.merged_cells.add(CellRange(f"{get_column_letter(split + 1)}1:{last}1"))
    ws.row_dimensions[1].height = 26
    ws.append([_cell(ws, name, styles.header, i) for i, name in enumerate(HEADER, start=1)])

    # One cell per column, reused for every row: each is serialised before the next row is filled.
    cells = [_cell(ws, None, style, i) for i, style in enumerate(styles.columns, start=1)]
    count = 0
    rows = queryset.values(*FIELDS).iterator(chunk_size=CHUNK_SIZE)
    for count, row in enumerate(rows, start=1):
        for cell, value in zip(cells, row_values(count, row, now=now), strict=True):
            cell.value = value
            _as_text(cell)
        ws.append(cells)
    ws.auto_filter.ref = f"A2:{last}{count + 2}"
    wb.save(fileobj)
    return count


def download_name(filename: str, *, now: dt.datetime | None = None) -> str:
    """问题台帐-20261127.xlsx: the given name made safe, with the Shanghai date."""
    stem = _UNSAFE_FILENAME.sub("_", filename or "").strip(" .") or "问题台帐"
    if stem.lower().endswith(".xlsx"):
        stem = stem[:-5]
    day = (now or timezone.now()).astimezone(SHANGHAI)
    return f"{stem[:80]}-{day:%Y%m%d}.xlsx"


def _audited(filters: dict) -> dict:
    """The filters as JSON for the audit chain: every key the list takes, dates and ids as text or numbers."""
    out = {}
    for key, value in sorted(filters.items()):
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        elif hasattr(value, "pk"):
            value = value.pk
        out[key] = value
    return out


def export_response(
    queryset: QuerySet[Problem],
    *,
    filters: dict | None = None,
    filename: str = "问题台帐",
    actor=None,
    request=None,
) -> FileResponse:
    """The workbook as a download. Written to a spooled temporary file (memory stays flat for large
    ledgers); with an `actor` or `request`, the export is recorded in the audit chain with the row count
    and `filters`, the keyword arguments of `selectors.problem_list` that chose the rows (the list's own
    dict), so the audit tells what was exported."""
    now = timezone.now()
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024, suffix=".xlsx")  # noqa: SIM115
    try:
        count = write_ledger(queryset, spool, now=now)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    if actor is not None or (request is not None and request.user.is_authenticated):
        audit.record(
            "ledger.export",
            actor=actor,
            request=request,
            object_type="ledger.problem",
            data={"rows": count, "filters": _audited(filters or {})},
        )
    name = download_name(filename, now=now)
    response = FileResponse(spool, content_type=XLSX_CONTENT_TYPE)
    fallback = f"ledger-{now.astimezone(SHANGHAI):%Y%m%d}.xlsx"
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response
