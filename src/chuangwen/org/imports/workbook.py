"""Reading hostile spreadsheets and writing our own: the parts shared by the school and class imports.

An upload is untrusted bytes. Before openpyxl sees it we check its size, that it is a zip at all (an old
.xls or a renamed picture gets a plain Chinese message, not a traceback) and that its members do not
inflate beyond a bound (zip bombs); openpyxl then reads it in read-only, values-only mode, and we stop
reading at a row cap and a column cap.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from django.conf import settings
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from chuangwen.core.staging_services import check_size

HELP_SHEET = "填写说明"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

NOT_XLSX = "文件不是有效的 Excel（.xlsx）文件，请用 Excel 或 WPS 打开后另存为 .xlsx 再上传"
OLD_XLS = (
    "文件是旧版 Excel（.xls）格式或已设置打开密码，请在 Excel 或 WPS 中另存为不加密的 .xlsx 文件后再上传"
)

MAX_COLUMNS = 50  # columns beyond this are never read
HEADER_SCAN_ROWS = 10  # the header may sit below a title row or two
BLANK_ROW_SLACK = 1000  # blank rows tolerated past the row cap before the sheet counts as too long
MAX_ZIP_MEMBERS = 2000
MAX_ERRORS = 500  # errors kept for display; the total is still counted

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SPACES = re.compile(r"\s+")
_INTEGER = re.compile(r"[+-]?\d+(?:\.0+)?")
_DECIMAL = re.compile(r"[+-]?\d*\.\d+")


@dataclass(frozen=True)
class Issue:
    """One problem, placed as precisely as we can: sheet, row, column."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""

    def __str__(self) -> str:
        where = ""
        if self.sheet:
            where += f"工作表“{self.sheet}”"
        if self.row:
            where += f"第 {self.row} 行"
        if self.column:
            where += f"“{self.column}”列"
        return f"{where}：{self.message}" if where else self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "text": str(self),
        }


class Rejected(Exception):
    """The file cannot be read as a table at all; carries the issue that says why."""

    def __init__(self, issue: Issue):
        super().__init__(str(issue))
        self.issue = issue


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    required: bool = False  # the column must be present and every cell in it filled
    synonyms: tuple[str, ...] = ()
    help: str = ""
    allowed: str = ""  # allowed values or an example, for the help sheet
    width: int = 14
    text: bool = False  # formatted as text in our workbooks (codes with leading zeros)
    choices: tuple[str, ...] = ()  # a dropdown in our workbooks
    whole_number: tuple[int, int] | None = None  # a whole-number validation in our workbooks


@dataclass(frozen=True)
class SheetSpec:
    name: str
    columns: tuple[Column, ...]
    notes: tuple[str, ...] = ()

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


@dataclass
class Sheet:
    """The data of one worksheet, with each row's cells keyed by column key."""

    title: str
    header_row: int
    headers: dict[str, str]  # column key -> the header text as written in the file
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def has(self, key: str) -> bool:
        return key in self.headers


# --- cells --------------------------------------------------------------------------------------------


def loose_text(value: Any) -> str:
    """Text for tolerant comparison: full-width folded, all spaces and a required-marker "*" dropped."""
    text = unicodedata.normalize("NFKC", str(value)) if value is not None else ""
    return _SPACES.sub("", text).strip("*:：")


def cell_text(value: Any) -> str:
    """A cell as trimmed text; numbers typed into text columns lose a spurious ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\u3000", " ").strip()


def shown(value: Any, limit: int = 40) -> str:
    """A cell value quoted in a message, cut short so a hostile cell cannot flood the page."""
    text = cell_text(value)
    return text if len(text) <= limit else text[:limit] + "…"


def cell_count(value: Any) -> tuple[int | None, str]:
    """A non-negative whole number, or None for an empty cell; the second item is an error message."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    if isinstance(value, bool):
        return None, f"“{shown(value)}”不是有效的数字，请填写非负整数"
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None, f"“{shown(value)}”不是整数，请填写非负整数"
        number = int(value)
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if _INTEGER.fullmatch(text):
            number = int(text.split(".")[0])
        elif _DECIMAL.fullmatch(text):
            return None, f"“{shown(value)}”不是整数，请填写非负整数"
        else:
            return None, f"“{shown(value)}”不是有效的数字，请填写非负整数"
    else:
        return None, f"“{shown(value)}”不是有效的数字，请填写非负整数"
    if number < 0:
        return None, f"“{shown(value)}”不能为负数"
    return number, ""


# --- reading ------------------------------------------------------------------------------------------


def open_workbook(data: bytes):
    """Check the bytes and open them read-only; raise Rejected with a Chinese reason otherwise."""
    if not data:
        raise Rejected(Issue("文件是空的（0 字节）"))
    too_big = check_size(len(data))
    if too_big:
        raise Rejected(Issue(too_big))
    if data.startswith(_OLE_MAGIC):
        raise Rejected(Issue(OLD_XLS))
    if not data.startswith(_ZIP_MAGIC):
        raise Rejected(Issue(NOT_XLSX))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise Rejected(Issue(NOT_XLSX)) from exc
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise Rejected(Issue(NOT_XLSX))
    # zipfile never inflates a member past its declared size, so bounding the declared sizes bounds memory.
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > 20 * settings.IMPORT_MAX_BYTES:
        raise Rejected(Issue("文件解压后过大，不是正常的导入表格，请检查后重新上传"))
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # any failure inside openpyxl means the same thing to the user
        raise Rejected(Issue(NOT_XLSX)) from exc


def pick_sheet(workbook, spec: SheetSpec):
    """The sheet named in the spec, else the first visible sheet that is not the help sheet."""
    sheets = list(workbook.worksheets)
    for ws in sheets:
        if ws.title.strip() == spec.name:
            return ws
    for ws in sheets:
        if ws.title.strip() != HELP_SHEET and ws.sheet_state == "visible":
            return ws
    raise Rejected(Issue(f"文件中没有可导入的工作表（应有名为“{spec.name}”的工作表）"))


def _match_headers(values: Sequence[Any], spec: SheetSpec) -> dict[str, list[tuple[int, str]]]:
    names: dict[str, str] = {}
    for column in spec.columns:
        for name in (column.label, *column.synonyms):
            names[loose_text(name)] = column.key
    found: dict[str, list[tuple[int, str]]] = {}
    for index, value in enumerate(values):
        key = names.get(loose_text(value))
        if key:
            found.setdefault(key, []).append((index, shown(_SPACES.sub(" ", cell_text(value)), 20)))
    return found


def _blank(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def locate_header(rows, spec: SheetSpec, title: str) -> tuple[int, dict[str, list[tuple[int, str]]]]:
    """Consume `rows` (an iterator of value tuples from row 1) up to the header row and check it.

    Returns the header's row number and, per column key, its (index, header text) places; raises Rejected
    for an empty sheet, a missing header, a missing required column or a column given twice.
    """
    first_nonblank = None
    for number, values in enumerate(rows, start=1):
        if _blank(values):
            if number > HEADER_SCAN_ROWS + BLANK_ROW_SLACK:
                break
            continue
        found = _match_headers(values, spec)
        if first_nonblank is None:
            first_nonblank = (number, found)
        if len(found) >= 2:
            _check_header(spec, title, number, found)
            return number, found
        if number >= HEADER_SCAN_ROWS:
            break
    if first_nonblank is None:
        raise Rejected(Issue("工作表是空的：没有表头，也没有数据", sheet=title))
    # No row names two of our columns: report against the first filled row, taken as the header.
    number, found = first_nonblank
    _check_header(spec, title, number, found)
    raise Rejected(Issue("没有找到表头行，请使用导入模板的表头", sheet=title, row=number))


def is_blank_row(values: Sequence[Any]) -> bool:
    return _blank(values)


def read_sheet(data: bytes, spec: SheetSpec) -> Sheet:
    """Read the spec's sheet into rows keyed by column; raise Rejected for a file or sheet-level problem.

    Header problems (a missing required column, a column given twice) are also raised as Rejected: no row
    can be understood without the header.
    """
    workbook = open_workbook(data)
    try:
        ws = pick_sheet(workbook, spec)
        title = ws.title
        max_rows = settings.IMPORT_MAX_ROWS
        too_many = Issue(f"数据超过 {max_rows} 行的上限，请拆分后分批导入", sheet=title)
        rows = ws.iter_rows(values_only=True, max_col=MAX_COLUMNS)

        header_row, mapping = locate_header(rows, spec, title)

        sheet = Sheet(
            title=title, header_row=header_row, headers={key: places[0][1] for key, places in mapping.items()}
        )
        positions = {key: places[0][0] for key, places in mapping.items()}
        last_allowed = header_row + max_rows + BLANK_ROW_SLACK
        for number, values in enumerate(rows, start=header_row + 1):
            if number > last_allowed:
                raise Rejected(too_many)
            if _blank(values):
                continue
            if len(sheet.rows) >= max_rows:
                raise Rejected(too_many)
            sheet.rows.append(
                (number, {key: values[i] if i < len(values) else None for key, i in positions.items()})
            )
        if not sheet.rows:
            raise Rejected(Issue("工作表没有数据行：表头下面是空的", sheet=title))
        return sheet
    finally:
        workbook.close()


def _check_header(spec: SheetSpec, title: str, header_row: int, mapping: dict) -> None:
    for key, places in mapping.items():
        if len(places) > 1:
            letters = "、".join(f"{get_column_letter(i + 1)} 列" for i, _ in places)
            raise Rejected(
                Issue(
                    f"表头中“{spec.column(key).label}”出现了多次（{letters}），请只保留一列",
                    sheet=title,
                    row=header_row,
                )
            )
    missing = [c for c in spec.columns if c.required and c.key not in mapping]
    if missing:
        described = "；".join(
            f"“{c.label}”" + (f"（也可写作：{'、'.join(c.synonyms)}）" if c.synonyms else "") for c in missing
        )
        raise Rejected(
            Issue(f"表头缺少必填列：{described}。请使用导入模板的表头", sheet=title, row=header_row)
        )


# --- writing ------------------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="B4232A")
_OPTIONAL_FILL = PatternFill("solid", fgColor="6C757D")


def _dropdown_formula(choices: Iterable[str]) -> str | None:
    formula = '"' + ",".join(choices) + '"'
    # Excel refuses inline lists longer than 255 characters; such lists are only described in the help sheet.
    if len(formula) > 255 or any("," in c or '"' in c for c in choices):
        return None
    return formula


def build_workbook(
    spec: SheetSpec,
    rows: Iterable[Sequence[Any]],
    *,
    extra_headers: Sequence[str] = (),
    choices: dict[str, Sequence[str]] | None = None,
    help_rows: Sequence[Sequence[Any]] = (),
    merges: Sequence[str] = (),
) -> bytes:
    """Our own workbook: the data sheet (header, then `rows`) and the help sheet.

    Templates and exports are built here alike, so an export re-imports unchanged.
    """
    choices = {c.key: c.choices for c in spec.columns if c.choices} | (choices or {})
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = spec.name
    headers = [c.label for c in spec.columns] + list(extra_headers)
    ws.append(headers)
    for index in range(1, len(headers) + 1):
        cell = ws.cell(row=1, column=index)
        column = spec.columns[index - 1] if index <= len(spec.columns) else None
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL if column is not None and column.required else _OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = column.width if column is not None else 12
        if column is not None and column.text:
            ws.column_dimensions[letter].number_format = "@"
    ws.freeze_panes = "A2"

    text_columns = [i for i, c in enumerate(spec.columns) if c.text]
    for count, values in enumerate(rows, start=2):
        ws.append(list(values))
        for index, value in enumerate(values, start=1):
            if isinstance(value, str) and value.startswith("="):
                # Text, never a formula: a name such as "=HYPERLINK(…)" must not come alive in Excel.
                ws.cell(row=count, column=index).data_type = "s"
        for i in text_columns:
            ws.cell(row=count, column=i + 1).number_format = "@"

    for cell_range in merges:  # e.g. "A2:A9": upper levels of a tree, as task tables show them
        ws.merge_cells(cell_range)
        ws[cell_range.split(":")[0]].alignment = Alignment(vertical="center", wrap_text=True)

    last = settings.IMPORT_MAX_ROWS + 1
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        formula = _dropdown_formula(choices[column.key]) if choices.get(column.key) else None
        if formula:
            dv = DataValidation(
                type="list",
                formula1=formula,
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle="请从下拉列表选择",
                error=f"“{column.label}”只能填写下拉列表中的值",
            )
        elif column.whole_number:
            low, high = column.whole_number
            dv = DataValidation(
                type="whole",
                operator="between",
                formula1=str(low),
                formula2=str(high),
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle="请填写整数",
                error=f"“{column.label}”应为 {low}–{high} 之间的整数",
            )
        else:
            continue
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{last}")

    _write_help(workbook.create_sheet(HELP_SHEET), spec, help_rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_help(ws, spec: SheetSpec, extra_rows: Sequence[Sequence[Any]]) -> None:
    ws.append([f"“{spec.name}”导入填写说明"])
    ws["A1"].font = Font(bold=True, size=14)
    for number, note in enumerate(spec.notes, start=1):
        ws.append([f"{number}. {note}"])
    ws.append([])
    ws.append(["列名", "是否必填", "说明", "可选值 / 示例"])
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for column in spec.columns:
        ws.append(
            [
                column.label,
                "必填" if column.required else "选填",
                column.help,
                column.allowed or "、".join(column.choices),
            ]
        )
    for values in extra_rows:
        ws.append(list(values))
    for letter, width in zip("ABCD", (16, 10, 60, 60), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
