"""Excel import and export of editions, in the layout local task tables use.

Columns 测评项目 | 测评内容 | [测评子项] | 测评标准 | 分值 | 测评方法 | 材料要求 | 责任单位 | 适用学校类型,
optionally 编号, 检查方法, 评分方式 and 负面清单. Upper levels may be merged cells, repeated values or
blank cells that mean "same as above". The file is read as hostile input: the org helpers check its size
and zip structure and open it read-only; merged ranges (which read-only mode does not expose) are scanned
from the sheet's XML in chunks, so memory stays near the streaming reader's own.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter, range_boundaries

from chuangwen.org.imports.workbook import (
    BLANK_ROW_SLACK,
    MAX_COLUMNS,
    Column,
    Issue,
    Rejected,
    SheetSpec,
    build_workbook,
    cell_text,
    is_blank_row,
    locate_header,
    loose_text,
    open_workbook,
    pick_sheet,
    shown,
)

from ..models import ScoringKind
from .tree import (
    GRADE_LABELS,
    METHODS_ALLOWED,
    EditionData,
    GroupData,
    ParseResult,
    StandardData,
    check_tree,
    format_decimal,
    fraction_number,
    level_label,
    max_rows,
    methods_words,
    parse_fraction,
    parse_methods,
    parse_points,
    parse_school_types,
    school_types_text,
    split_list,
)

SHEET = "测评体系"
LEVEL_KEYS = ("project", "content", "item")

INDEX_SPEC = SheetSpec(
    name=SHEET,
    columns=(
        Column(
            "project",
            "测评项目",
            required=True,
            synonyms=("一级指标", "项目", "测评项目（一级指标）"),
            help="第一级。可合并单元格，或每行重复填写，或只在第一行填写（下面留空表示同上）。"
            "可在名称前写编号，如“1 校园环境”；可在名称后写小计，如“校园环境（20分）”",
            allowed="1 校园环境",
            width=18,
        ),
        Column(
            "content",
            "测评内容",
            synonyms=("二级指标", "内容", "测评内容（二级指标）"),
            help="第二级，填法同测评项目；留空表示测评标准直接属于测评项目",
            allowed="1.1 公益广告",
            width=18,
        ),
        Column(
            "item",
            "测评子项",
            synonyms=("三级指标", "子项"),
            help="第三级（源表有这一级时才填），填法同上",
            width=14,
        ),
        Column(
            "code",
            "编号",
            synonyms=("标准编号", "指标编号"),
            help="测评标准的编号，同一版本内不能重复；不填则按位置生成，如 1.2.3",
            allowed="1.1.1",
            width=10,
            text=True,
        ),
        Column(
            "text",
            "测评标准",
            required=True,
            synonyms=("标准", "指标要求", "具体标准", "评价标准", "测评标准（指标要求）"),
            help="测评标准的内容。留空而填写分值的行视为上一级的小计行，会与下面各标准分值之和核对",
            width=48,
        ),
        Column(
            "points",
            "分值",
            required=True,
            synonyms=("分数", "标准分", "分值（分）", "满分"),
            help="非负数，最多两位小数；每条标准单独填写，不要跨行合并",
            allowed="2、0.5",
            width=8,
        ),
        Column(
            "methods",
            "测评方法",
            required=True,
            synonyms=("测评方式", "考核方式", "检查方式", "方法"),
            help="可填多个，用顿号、逗号、斜杠或换行分隔",
            allowed="实地考察、材料审核（网上申报）、问卷调查、整体观察",
            width=16,
        ),
        Column(
            "materials",
            "材料要求",
            synonyms=("所需材料", "佐证材料", "台账资料", "资料要求", "材料清单"),
            help="可填多个，用顿号分隔",
            allowed="方案、总结、活动图片、评选记录、媒体报道、实景图片、台账、制度文件、统计表",
            width=24,
        ),
        Column(
            "responsible",
            "责任单位",
            synonyms=("责任部门", "牵头科室", "牵头单位", "责任科室", "牵头部门"),
            help="教体局科室名称；与系统中的科室同名时自动关联为牵头科室，原文都会保留",
            width=16,
        ),
        Column(
            "school_types",
            "适用学校类型",
            synonyms=("适用学校", "适用范围", "学校类型", "适用对象"),
            help="可填多个；“全部”表示所有学校，“中小学”表示小学、初中、九年一贯制、高中、完全中学；"
            "不填视为全部",
            allowed="全部、中小学、幼儿园、小学、初中、九年一贯制、高中、完全中学、职业学校、特殊教育学校",
            width=18,
        ),
        Column(
            "check_protocol",
            "检查方法",
            synonyms=("检查要点", "测评要点", "操作方法", "检查办法"),
            help="督查员如何检查",
            allowed="随机抽取5名学生背诵社会主义核心价值观，3人以上正确为达标",
            width=36,
        ),
        Column(
            "scoring",
            "评分方式",
            synonyms=("计分方式", "评分办法", "评分规则"),
            help="不填为“达标/基本达标/不达标”（得分比例 1/0.6/0）；也可写比例，或按次扣分，或合格/不合格",
            allowed="达标1/基本达标0.6/不达标0；按次扣分：每次0.5分，最多2分；合格/不合格",
            width=24,
        ),
        Column(
            "negative_list",
            "负面清单",
            synonyms=("一票否决",),
            help="负面清单项目（出现即一票否决）填“是”",
            width=8,
            choices=("是", "否"),
        ),
    ),
    notes=(
        "每行一条测评标准；测评项目、测评内容可以合并单元格，也可以只在第一行填写、下面留空表示同上。",
        "表头可以在标题行下面，列的顺序不限；红色表头为必填列。",
        "只要有一处错误，整个文件都不会导入；问题会按工作表、行、列列出。",
        "导入总是新建一个草稿版本，发布前可以在系统中继续修改。",
    ),
)

_GROUP_CODE = re.compile(r"^(\d+(?:\.\d+)*)[\s、．.]+(\S.*)$")
_GROUP_TOTAL = re.compile(r"^(.*?)\s*[（(]\s*(\d+(?:\.\d+)?)\s*分\s*[）)]$")
_SUBTOTAL_WORDS = {"小计", "合计", "总计", "总分"}
_YES = {"是", "√", "✓", "y", "yes", "true", "1", "负面清单", "一票否决"}
_NO = {"", "否", "×", "n", "no", "false", "0"}
_GRADE_PAIR = re.compile(r"(基本达标|不达标|达标)\s*[:：=]?\s*(\d+(?:\.\d+)?)")
_PER = re.compile(r"每(?:次|处|项|人次|个)?(?:扣)?\s*(\d+(?:\.\d+)?)")
_CAP = re.compile(r"(?:最多|上限|封顶|最高)(?:扣)?\s*(\d+(?:\.\d+)?)")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]{1,3}\d+:[A-Z]{1,3}\d+)\"")
_CHUNK = 64 * 1024  # small reads: the sheet XML is never held whole


# --- merged ranges ------------------------------------------------------------------------------------


def merged_ranges(data: bytes, worksheet_path: str) -> list[tuple[int, int, int, int]]:
    """(min_col, min_row, max_col, max_row) of each merged range, scanned from the sheet XML in chunks."""
    limit = 4 * max_rows() + 100  # a real table merges a few cells per row at most
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(worksheet_path.lstrip("/")) as xml:
        tail = b""
        while True:
            chunk = xml.read(_CHUNK)
            buffer = tail + chunk
            keep = 0 if not chunk else 200  # a tag cut at the chunk's end is read with the next chunk
            cut = len(buffer) - keep
            end = 0
            for match in _MERGE.finditer(buffer):
                if match.end() > cut and chunk:
                    break
                found.append(range_boundaries(match.group(1).decode()))
                end = match.end()
                if len(found) > limit:
                    raise Rejected(
                        Issue(f"合并单元格超过 {limit} 处，不是正常的测评体系表格，请检查后重新上传")
                    )
            if not chunk:
                return found
            tail = buffer[max(end, cut) :]


class _MergeFill:
    """Values for cells covered by a vertical merge: the value of the range's top cell.

    Rows arrive in order, so each column keeps its ranges sorted and a pointer to the current one: memory is
    per range, not per covered cell.
    """

    def __init__(self, ranges, columns: set[int]):
        by_column: dict[int, list[tuple[int, int]]] = {}
        for min_col, min_row, _max_col, max_row in ranges:
            # Only the first column of a range is filled: a title merged across columns is one cell.
            if max_row > min_row and min_col in columns:
                by_column.setdefault(min_col, []).append((min_row, max_row))
        self.ranges = {col: sorted(spans) for col, spans in by_column.items()}
        self.current = dict.fromkeys(self.ranges, 0)
        self.anchor: dict[int, Any] = {}

    def value(self, row: int, col: int, value: Any) -> Any:
        spans = self.ranges.get(col)
        if spans is None:
            return value
        i = self.current[col]
        while i < len(spans) and spans[i][1] < row:
            i += 1
        self.current[col] = i
        if i == len(spans) or spans[i][0] > row:
            return value
        if spans[i][0] == row:
            self.anchor[col] = value
            return value
        return self.anchor.get(col) if _blank(value) else value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- cells --------------------------------------------------------------------------------------------


def _split_group(text: str) -> tuple[str, str, Decimal | None]:
    """A group cell: optional leading code, title, optional trailing "（20分）" sub-total."""
    total = None
    match = _GROUP_TOTAL.match(text)
    if match:
        text, total = match.group(1).strip(), Decimal(match.group(2)).normalize()
    match = _GROUP_CODE.match(text)
    if match:
        return match.group(1), match.group(2).strip(), total
    return "", text, total


def parse_scoring(value: Any) -> tuple[str, dict, str]:
    """(kind, params, error) from a 评分方式 cell."""
    text = loose_text(value)
    if not text:
        return ScoringKind.GRADE, {}, ""
    if "扣" in text:
        per = _PER.search(text)
        if not per:
            return "", {}, f"评分方式“{shown(value)}”没有写每次扣几分，如：按次扣分：每次0.5分，最多2分"
        params: dict = {"per": fraction_number(Decimal(per.group(1)))}
        cap = _CAP.search(text)
        if cap:
            params["cap"] = fraction_number(Decimal(cap.group(1)))
        return ScoringKind.DEDUCTION, params, ""
    if text in {"合格/不合格", "合格", "pass_fail", "是否合格"}:
        return ScoringKind.PASS_FAIL, {}, ""
    if "达标" in text:
        pairs = dict(_GRADE_PAIR.findall(text))
        if not pairs:
            return ScoringKind.GRADE, {}, ""
        if set(pairs) != set(GRADE_LABELS):
            return "", {}, f"评分方式“{shown(value)}”应同时写出达标、基本达标、不达标的得分比例"
        grades = {}
        for label in GRADE_LABELS:
            number, message = parse_fraction(pairs[label], upper=Decimal(1))
            if message:
                return "", {}, f"{label}：{message}"
            grades[label] = fraction_number(number)
        return ScoringKind.GRADE, grades, ""
    return (
        "",
        {},
        f"无法识别的评分方式“{shown(value)}”，可填：达标1/基本达标0.6/不达标0、"
        "按次扣分：每次0.5分，最多2分、合格/不合格",
    )


def scoring_text(kind: str, params: dict) -> str:
    if kind == ScoringKind.DEDUCTION:
        text = f"按次扣分：每次{format_decimal(Decimal(str(params.get('per', 0))))}分"
        if "cap" in params:
            text += f"，最多{format_decimal(Decimal(str(params['cap'])))}分"
        return text
    if kind == ScoringKind.PASS_FAIL:
        return "合格/不合格"
    if params:
        return "/".join(
            f"{label}{format_decimal(Decimal(str(params.get(label, 0))))}" for label in GRADE_LABELS
        )
    return "达标/基本达标/不达标"


def _parse_flag(value: Any) -> bool | None:
    text = loose_text(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None


# --- reading ------------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, result: ParseResult, title: str, labels: dict[str, str]):
        self.shared: dict[tuple, list[str]] = {}  # equal lists are one object: rows repeat them
        self.result = result
        self.title = title
        self.labels = labels  # column key -> header text as written
        self.data = EditionData()
        self.path: list[GroupData] = []  # the current group at each depth
        self.previous: list[str] = ["", "", ""]  # the level cells of the last standard or header row
        self.grand_total: tuple[Decimal, Issue] | None = None
        self.points_merged: set[int] = set()  # rows under a merged 分值 cell, already reported

    def share(self, items: list[str]) -> list[str]:
        return self.shared.setdefault(tuple(items), items)

    def where(self, row: int, key: str = "") -> Issue:
        return Issue("", sheet=self.title, row=row, column=self.labels.get(key, ""))

    def error(self, row: int, key: str, message: str) -> None:
        self.result.add(Issue(message, sheet=self.title, row=row, column=self.labels.get(key, "")))

    def _new_group(self, depth: int, text: str, row: int) -> GroupData:
        code, title, total = _split_group(text)
        siblings = self.path[depth - 2].groups if depth > 1 else self.data.groups
        if not code:
            prefix = f"{self.path[depth - 2].code}." if depth > 1 else ""
            code = f"{prefix}{len(siblings) + 1}"
        if len(title) > 300:
            self.error(row, LEVEL_KEYS[depth - 1], f"{level_label(depth)}名称超过 300 个字符")
        group = GroupData(code=code, title=title, depth=depth)
        if total is not None:
            group.declared_total = total
            group.total_where = self.where(row, LEVEL_KEYS[depth - 1])
        siblings.append(group)
        return group

    def _subtotal(self, row: int, cells: dict[str, Any]) -> bool:
        """A 小计/合计 row: record the total it declares; True when the row was one."""
        for key in (*LEVEL_KEYS, "text"):
            word = loose_text(cells.get(key))
            if not any(word.startswith(w) for w in _SUBTOTAL_WORDS):
                continue
            points, message = parse_points(cells.get("points"))
            if message:
                if not _blank(cells.get("points")):
                    self.error(row, "points", message)
                return True
            where = self.where(row, "points")
            if word.startswith(("合计", "总计", "总分")) and key in ("project", "text"):
                self.grand_total = (points, where)
                return True
            depth = LEVEL_KEYS.index(key) if key in LEVEL_KEYS else len(self.path)
            target = self.path[max(depth, 1) - 1] if self.path else None
            if target is None:
                self.error(row, key, "小计行上面没有测评项目")
            else:
                target.declared_total, target.total_where = points, where
            return True
        return False

    def row(self, row: int, cells: dict[str, Any]) -> None:
        if self._subtotal(row, cells):
            return
        # Level cells: a filled cell names the group; a blank one means "same as above", unless a higher
        # level changed on this row, in which case this level is absent.
        levels, changed = [], []
        for depth, key in enumerate(LEVEL_KEYS, start=1):
            text = cell_text(cells.get(key)) if key in self.labels else ""
            text = unicodedata.normalize("NFC", text)
            higher_changed = bool(changed) and changed[-1]
            if text:
                levels.append(text)
                changed.append(higher_changed or text != self.previous[depth - 1])
            elif higher_changed:
                levels.append("")
                changed.append(True)
            else:
                levels.append(self.previous[depth - 1])
                changed.append(False)
        if not levels[0]:
            self.error(row, "project", "测评项目为空（第一条测评标准所在行必须填写测评项目）")
            return
        if not levels[1] and levels[2]:
            self.error(row, "item", "填写了测评子项，但没有填写测评内容")
            return
        self.previous = levels
        deepest = 0
        for depth, (text, is_new) in enumerate(zip(levels, changed, strict=True), start=1):
            if not text:
                del self.path[depth - 1 :]
                break
            if is_new or len(self.path) < depth:
                del self.path[depth - 1 :]
                self.path.append(self._new_group(depth, text, row))
            deepest = depth
        group = self.path[deepest - 1]

        text = cell_text(cells.get("text"))
        if not text:
            if not _blank(cells.get("methods")) or not _blank(cells.get("code")):
                self.error(row, "text", "测评标准为空")
            elif not _blank(cells.get("points")):
                points, message = parse_points(cells.get("points"))
                if message:
                    self.error(row, "points", message)
                else:
                    group.declared_total, group.total_where = points, self.where(row, "points")
            return
        self.standard(row, cells, group, text)

    def standard(self, row: int, cells: dict[str, Any], group: GroupData, text: str) -> None:
        errors_before = self.result.error_count
        points, message = parse_points(cells.get("points"))
        if message and row not in self.points_merged:
            self.error(row, "points", message)
        methods, unknown = parse_methods(cells.get("methods"))
        if unknown:
            self.error(row, "methods", f"未知的测评方法“{'、'.join(unknown)}”，可填：{METHODS_ALLOWED}")
        elif not methods:
            self.error(row, "methods", "测评方法不能为空")
        words = split_list(cells.get("school_types")) or ["全部"]
        school_types, unknown = parse_school_types(words)
        if unknown:
            self.error(
                row,
                "school_types",
                f"未知的学校类型“{'、'.join(unknown)}”，可填：全部、中小学、幼儿园、小学、初中、九年一贯制、"
                "高中、完全中学、职业学校、特殊教育学校",
            )
        responsible = cell_text(cells.get("responsible"))
        if len(responsible) > 200:
            self.error(row, "responsible", "责任单位超过 200 个字符")
        kind, params, message = parse_scoring(cells.get("scoring"))
        if message:
            self.error(row, "scoring", message)
        negative = _parse_flag(cells.get("negative_list"))
        if negative is None:
            self.error(row, "negative_list", f"“{shown(cells.get('negative_list'))}”应填“是”或留空")
        code = cell_text(cells.get("code"))
        if not code:
            code = f"{group.code}.{len(group.standards) + 1}"
        if self.result.error_count != errors_before or points is None:
            return
        group.standards.append(
            StandardData(
                code=code,
                text=text,
                points=points,
                methods=self.share(methods),
                school_types=self.share(school_types),
                materials=self.share(split_list(cells.get("materials"))),
                responsible=responsible,
                check_protocol=cell_text(cells.get("check_protocol")),
                scoring_kind=kind,
                scoring_params=params,
                negative_list=bool(negative),
                where=self.where(row, "code" if "code" in self.labels else "text"),
            )
        )


def parse_excel(data: bytes) -> ParseResult:
    """Read an uploaded workbook into an edition tree; every problem is an Issue. Nothing is written."""
    result = ParseResult("xlsx")
    try:
        workbook = open_workbook(data)
    except Rejected as exc:
        result.add(exc.issue)
        return result
    try:
        _read(data, workbook, result)
    except Rejected as exc:
        result.add(exc.issue)
    finally:
        workbook.close()
    if result.error_count:
        result.data = None
    return result


def _read(data: bytes, workbook, result: ParseResult) -> None:
    ws = pick_sheet(workbook, INDEX_SPEC)
    title = ws.title
    limit = max_rows()
    rows = ws.iter_rows(values_only=True, max_col=MAX_COLUMNS)
    header_row, mapping = locate_header(rows, INDEX_SPEC, title)
    positions = {key: places[0][0] for key, places in mapping.items()}
    labels = {key: places[0][1] for key, places in mapping.items()}
    last_allowed = header_row + limit + BLANK_ROW_SLACK
    try:
        ranges = merged_ranges(data, ws._worksheet_path)
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        raise Rejected(
            Issue("无法读取工作表的合并单元格信息，请用 Excel 或 WPS 另存后再上传", sheet=title)
        ) from exc
    columns = {i + 1 for i in positions.values()}
    points_col = positions["points"] + 1
    reader = _Reader(result, title, labels)
    for min_col, min_row, max_col, max_row in ranges:
        if min_col <= points_col <= max_col and max_row > min_row and max_row > header_row:
            # One error for the range, not one more per covered (blank) cell.
            reader.points_merged.update(range(min_row + 1, min(max_row, last_allowed) + 1))
            result.add(
                Issue(
                    f"“分值”单元格跨第 {min_row}–{max_row} 行合并，请为每条测评标准分别填写分值"
                    "（测评项目的小计可单独占一行）",
                    sheet=title,
                    row=min_row,
                    column=labels["points"],
                )
            )
    fill = _MergeFill(ranges, columns)
    count = 0
    for number, values in enumerate(rows, start=header_row + 1):
        if number > last_allowed or count > limit:
            raise Rejected(Issue(f"数据超过 {limit} 行的上限，请拆分后分批导入", sheet=title))
        cells = {}
        for key, i in positions.items():
            value = values[i] if i < len(values) else None
            cells[key] = fill.value(number, i + 1, value)
        if is_blank_row(list(cells.values())):
            continue
        count += 1
        if count > limit:
            raise Rejected(Issue(f"数据超过 {limit} 行的上限，请拆分后分批导入", sheet=title))
        reader.row(number, cells)
    data_tree = reader.data
    if not data_tree.standards() and not result.error_count:
        result.add(Issue("工作表没有测评标准：表头下面是空的", sheet=title))
        return
    check_tree(data_tree, result)
    if reader.grand_total is not None:
        declared, where = reader.grand_total
        total = data_tree.total()
        if declared != total:
            result.add(
                Issue(
                    f"合计为 {format_decimal(declared)} 分，"
                    f"但各测评标准分值之和为 {format_decimal(total)} 分",
                    sheet=where.sheet,
                    row=where.row,
                    column=where.column,
                )
            )
    result.data = data_tree


# --- writing ------------------------------------------------------------------------------------------


def _group_cell(group: GroupData) -> str:
    return f"{group.code} {group.title}" if group.code else group.title


def workbook_bytes(data: EditionData) -> bytes:
    """The edition in the import layout, upper levels as merged cells; it re-imports to the same tree."""
    keys = [c.key for c in INDEX_SPEC.columns]
    col = {key: keys.index(key) + 1 for key in keys}
    rows: list[list[Any]] = []
    spans: list[tuple[GroupData, int, int]] = []  # group, its first and last row (0-based)

    def standard_row(s: StandardData | None) -> list[Any]:
        row: list[Any] = [""] * len(keys)
        if s is None:  # an empty group still gets a row, so that it re-imports
            return row
        values = {
            "code": s.code,
            "text": s.text,
            "points": int(s.points) if s.points == s.points.to_integral_value() else float(s.points),
            "methods": "、".join(methods_words(s.methods)),
            "materials": "、".join(s.materials),
            "responsible": s.responsible,
            "school_types": school_types_text(s.school_types),
            "check_protocol": s.check_protocol,
            "scoring": scoring_text(s.scoring_kind, s.scoring_params),
            "negative_list": "是" if s.negative_list else "",
        }
        for key, value in values.items():
            row[col[key] - 1] = value
        return row

    def emit(group: GroupData) -> None:
        first = len(rows)
        if not group.standards and not group.groups:
            rows.append(standard_row(None))
        rows.extend(standard_row(s) for s in group.standards)
        for child in group.groups:
            emit(child)
        spans.append((group, first, len(rows) - 1))

    for group in data.groups:
        emit(group)
    merges = []
    for group, first, last in spans:
        column = col[LEVEL_KEYS[group.depth - 1]]
        rows[first][column - 1] = _group_cell(group)
        if last > first:
            letter = get_column_letter(column)
            merges.append(f"{letter}{first + 2}:{letter}{last + 2}")
    help_rows = [
        [],
        ["测评方法可填写的值", "", "实地考察、材料审核、网上申报（与材料审核相同）、问卷调查、整体观察"],
        [
            "适用学校类型可填写的值",
            "",
            "全部、中小学、幼儿园、小学、初中、九年一贯制、高中、完全中学、职业学校、特殊教育学校",
        ],
    ]
    return build_workbook(INDEX_SPEC, rows, merges=merges, help_rows=help_rows)


TEMPLATE_YAML = Path(__file__).with_name("template.yaml")


def template_bytes() -> bytes:
    """The import template: a small example edition in the import layout, and the help sheet."""
    from .yaml_io import parse_yaml

    result = parse_yaml(TEMPLATE_YAML.read_bytes())
    if result.data is None:  # our own file: a failure here is a bug, not bad input
        raise RuntimeError(f"template.yaml: {[str(i) for i in result.errors]}")
    return workbook_bytes(result.data)
