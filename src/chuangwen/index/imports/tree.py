"""The parsed form of an edition, shared by the Excel and YAML readers, and the words both accept.

A reader turns a file into an `EditionData` tree plus `Issue`s (sheet/row/column or a YAML path); nothing is
written until `edition_import` (in `apply.py`) is handed a tree without a single issue.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from chuangwen.org.imports.workbook import MAX_ERRORS, Issue, loose_text, shown
from chuangwen.org.models import Unit

from ..models import GROUP_LEVEL_LABELS, Method, ScoringKind

MAX_POINTS = Decimal("9999.99")  # Standard.points: max_digits=6, decimal_places=2
MAX_CODE = 30
MAX_TITLE = 300
MAX_RESPONSIBLE = 200
ALL_TYPES_WORD = "全部"
GRADE_LABELS = ("达标", "基本达标", "不达标")
LIST_SPLIT = re.compile(r"[、，,;；/\n\r]+")

DEFAULT_MAX_ROWS = 5000  # rows of a workbook, or groups + standards of a YAML file


def max_rows() -> int:
    return getattr(settings, "INDEX_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


SCHOOL_TYPE_ORDER = list(Unit.SchoolType.values)
_METHOD_WORDS = {
    "实地考察": Method.SITE,
    "实地检查": Method.SITE,
    "实地查看": Method.SITE,
    "实地测评": Method.SITE,
    "现场检查": Method.SITE,
    "材料审核": Method.DOCUMENT,
    "网上申报": Method.DOCUMENT,
    "材料审核/网上申报": Method.DOCUMENT,
    "资料审核": Method.DOCUMENT,
    "查阅资料": Method.DOCUMENT,
    "问卷调查": Method.SURVEY,
    "问卷": Method.SURVEY,
    "整体观察": Method.OBSERVATION,
}
_SCHOOL_TYPE_WORDS: dict[str, list[str]] = {label: [code] for code, label in Unit.SchoolType.choices}
_SCHOOL_TYPE_WORDS.update(
    {
        "全部": SCHOOL_TYPE_ORDER,
        "所有学校": SCHOOL_TYPE_ORDER,
        "全部学校": SCHOOL_TYPE_ORDER,
        "各类学校": SCHOOL_TYPE_ORDER,
        "中小学": ["primary", "junior", "nine_year", "senior", "complete"],
        "中学": ["junior", "nine_year", "senior", "complete"],
        "初级中学": ["junior"],
        "普通高中": ["senior"],
        "高级中学": ["senior"],
        "九年一贯制学校": ["nine_year"],
        "完中": ["complete"],
        "职业学校": ["vocational"],
        "中职": ["vocational"],
        "职高": ["vocational"],
        "中等职业学校": ["vocational"],
        "特殊教育": ["special"],
        "特教": ["special"],
        "特殊教育学校": ["special"],
        "学前": ["kindergarten"],
    }
)
METHOD_WORDS = {loose_text(k): str(v) for k, v in _METHOD_WORDS.items()}
SCHOOL_TYPE_WORDS = {loose_text(k): v for k, v in _SCHOOL_TYPE_WORDS.items()}
METHOD_LABELS = dict(Method.choices)
METHODS_ALLOWED = "实地考察、材料审核、网上申报、问卷调查、整体观察"
SCHOOL_TYPE_LABELS = dict(Unit.SchoolType.choices)


@dataclass(slots=True)
class StandardData:
    code: str
    text: str
    points: Decimal
    methods: list[str] = field(default_factory=list)  # Method codes
    school_types: list[str] = field(default_factory=list)  # Unit.SchoolType codes
    materials: list[str] = field(default_factory=list)
    responsible: str = ""
    check_protocol: str = ""
    scoring_kind: str = ScoringKind.GRADE
    scoring_params: dict[str, Any] = field(default_factory=dict)
    negative_list: bool = False
    where: Issue | None = None  # where it came from, for later errors (duplicate codes)


@dataclass(slots=True)
class GroupData:
    code: str
    title: str
    depth: int
    groups: list[GroupData] = field(default_factory=list)
    standards: list[StandardData] = field(default_factory=list)
    declared_total: Decimal | None = None  # a sub-total the source gives, checked against the sum
    total_where: Issue | None = None

    def total(self) -> Decimal:
        return sum((s.points for s in self.standards), Decimal(0)) + sum(
            (g.total() for g in self.groups), Decimal(0)
        )


@dataclass
class EditionData:
    name: str = ""
    code: str = ""
    description: str = ""
    is_reference: bool = False
    groups: list[GroupData] = field(default_factory=list)

    def walk_groups(self):
        stack = list(reversed(self.groups))
        while stack:
            group = stack.pop()
            yield group
            stack.extend(reversed(group.groups))

    def standards(self) -> list[StandardData]:
        return [s for g in self.walk_groups() for s in g.standards]

    def total(self) -> Decimal:
        return sum((g.total() for g in self.groups), Decimal(0))


@dataclass
class ParseResult:
    """What a reader produced: the tree (when readable) and every problem found."""

    fmt: str
    data: EditionData | None = None
    errors: list[Issue] = field(default_factory=list)
    error_count: int = 0
    edition: Any = None  # the Edition written, after a successful import

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and self.data is not None

    def add(self, issue: Issue) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(issue)

    def counts(self) -> dict[str, Any]:
        data = self.data or EditionData()
        depths = {1: 0, 2: 0, 3: 0}
        for group in data.walk_groups():
            depths[group.depth] = depths.get(group.depth, 0) + 1
        return {
            "projects": depths[1],
            "contents": depths[2],
            "items": depths[3],
            "standards": len(data.standards()),
            "total_points": format_decimal(data.total()),
        }

    def summary(self, preview_rows: int = 30) -> dict[str, Any]:
        """JSON-safe preview: counts, the project totals and the first standards."""
        data = self.data or EditionData()
        rows = []
        for group in data.walk_groups():
            for s in group.standards:
                if len(rows) >= preview_rows:
                    break
                rows.append(
                    {
                        "code": s.code,
                        "group": group.title,
                        "text": shown(s.text, 60),
                        "points": format_decimal(s.points),
                        "methods": "、".join(METHOD_LABELS[m] for m in s.methods),
                        "school_types": school_types_text(s.school_types),
                        "responsible": s.responsible,
                    }
                )
        projects = [
            {"code": g.code, "title": g.title, "total": format_decimal(g.total()), "standards": _count(g)}
            for g in data.groups
        ]
        return {
            **self.counts(),
            "projects_list": projects[:50],
            "rows": rows,
            "error_count": self.error_count,
            "edition_name": data.name,
            "edition_code": data.code,
        }

    def errors_json(self) -> list[dict[str, Any]]:
        return [issue.as_dict() for issue in self.errors]


def _count(group: GroupData) -> int:
    return len(group.standards) + sum(_count(g) for g in group.groups)


# --- values -------------------------------------------------------------------------------------------


def format_decimal(value: Decimal) -> str:
    """'2', '0.5', '12.25': no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


def parse_points(value: Any) -> tuple[Decimal | None, str]:
    """A non-negative decimal with at most 2 places; the second item is an error message."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "分值不能为空"
    if isinstance(value, bool):
        return None, f"“{shown(value)}”不是有效的分值"
    if isinstance(value, int | float):
        text = repr(value) if isinstance(value, float) else str(value)
    elif isinstance(value, Decimal):
        text = str(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().removesuffix("分").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, f"“{shown(value)}”不是有效的分值"
    if not number.is_finite():
        return None, f"“{shown(value)}”不是有效的分值"
    if number < 0:
        return None, f"分值“{shown(value)}”不能为负数"
    if number > MAX_POINTS:
        return None, f"分值“{shown(value)}”超过了上限 {MAX_POINTS}"
    if number != number.quantize(Decimal("0.01")):
        return None, f"分值“{shown(value)}”最多保留两位小数"
    return number.normalize() if number else Decimal(0), ""


def split_list(value: Any) -> list[str]:
    text = unicodedata.normalize("NFKC", str(value)) if value is not None else ""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    items = []
    for part in LIST_SPLIT.split(text):
        part = part.strip()
        if part and part not in items:
            items.append(part)
    return items


def parse_methods(value: Any, *, split: bool = True) -> tuple[list[str], list[str]]:
    """Method codes in the order given (duplicates dropped), and the words that name no method."""
    whole = METHOD_WORDS.get(loose_text(value))
    if whole:
        return [whole], []
    words = split_list(value) if split else [str(value).strip()]
    codes, unknown = [], []
    for word in words:
        code = METHOD_WORDS.get(loose_text(word))
        if code is None:
            unknown.append(word)
        elif code not in codes:
            codes.append(code)
    return codes, unknown


def parse_school_types(words: list[str]) -> tuple[list[str], list[str]]:
    """School-type codes in the canonical order, and the words that name no type."""
    found, unknown = set(), []
    for word in words:
        codes = SCHOOL_TYPE_WORDS.get(loose_text(word))
        if codes is None:
            unknown.append(word)
        else:
            found.update(codes)
    return [c for c in SCHOOL_TYPE_ORDER if c in found], unknown


def school_types_words(codes: list[str]) -> list[str]:
    if set(codes) >= set(SCHOOL_TYPE_ORDER):
        return [ALL_TYPES_WORD]
    return [SCHOOL_TYPE_LABELS.get(c, c) for c in codes]


def school_types_text(codes: list[str]) -> str:
    return "、".join(school_types_words(codes))


def methods_words(codes: list[str]) -> list[str]:
    return [METHOD_LABELS.get(c, c) for c in codes]


def fraction_number(value: Decimal) -> int | float:
    """How a fraction or a deduction is stored in scoring_params (JSON numbers)."""
    return int(value) if value == value.to_integral_value() else float(value)


def parse_fraction(value: Any, *, upper: Decimal | None = None) -> tuple[Decimal | None, str]:
    number, message = parse_points(value)
    if message:
        return None, message.replace("分值", "数值")
    if upper is not None and number > upper:
        return None, f"“{shown(value)}”应在 0 到 {format_decimal(upper)} 之间"
    return number, ""


def level_label(depth: int) -> str:
    return GROUP_LEVEL_LABELS.get(depth, "分组")


def check_tree(data: EditionData, result: ParseResult) -> None:
    """Checks common to both formats: depth, codes unique, declared sub-totals equal to their sums."""
    seen: dict[str, StandardData] = {}
    for s in data.standards():
        other = seen.get(s.code)
        if other is not None:
            first = other.where
            at = f"（与{_where_text(first)}重复）" if first is not None else ""
            result.add(_at(s.where, f"编号“{shown(s.code)}”重复{at}，同一版本内测评标准编号不能相同"))
        else:
            seen[s.code] = s
        if len(s.code) > MAX_CODE:
            result.add(_at(s.where, f"编号“{shown(s.code)}”超过 {MAX_CODE} 个字符"))
    for group in data.walk_groups():
        if group.declared_total is not None:
            total = group.total()
            if total != group.declared_total:
                message = (
                    f"{level_label(group.depth)}“{shown(group.title)}”的小计为 "
                    f"{format_decimal(group.declared_total)} 分，但其下测评标准分值合计为 "
                    f"{format_decimal(total)} 分"
                )
                result.add(_at(group.total_where, message))


def _where_text(issue: Issue) -> str:
    text = str(Issue("x", sheet=issue.sheet, row=issue.row, column=issue.column))
    return text.removesuffix("：x") if text != "x" else issue.message


def _at(where: Issue | None, message: str) -> Issue:
    if where is None:
        return Issue(message)
    if not where.sheet and not where.row:
        # YAML: the location is a path written before the message.
        return Issue(f"{where.message}：{message}" if where.message else message)
    return Issue(message, sheet=where.sheet, row=where.row, column=where.column)
