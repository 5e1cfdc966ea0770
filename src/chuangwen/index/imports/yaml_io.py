"""The YAML format of docs/decisions/0006-index-editions.md: reading (safe_load, size cap, errors with the
path of the bad item) and writing (deterministic, so export → import → export is byte-identical)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml
from django.conf import settings

from chuangwen.org.imports.workbook import Issue, check_size, shown

from ..models import MAX_GROUP_DEPTH, ScoringKind
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
    max_rows,
    methods_words,
    parse_fraction,
    parse_methods,
    parse_points,
    parse_school_types,
    school_types_words,
)

YAML_CONTENT_TYPE = "application/yaml; charset=utf-8"
# PyYAML's safe loader builds a node graph ~45× the text (about 1.2 s and 22 MB per 1,000 standards), so
# YAML gets a tighter cap than spreadsheets: 2 MB is ~4,000 standards.
DEFAULT_YAML_MAX_BYTES = 2 * 1024 * 1024
_EDITION_KEYS = ("name", "code", "description", "is_reference")
_GROUP_KEYS = ("code", "title", "groups", "standards")
_STANDARD_KEYS = (
    "code",
    "text",
    "points",
    "methods",
    "school_types",
    "materials",
    "responsible",
    "check_protocol",
    "scoring",
    "negative_list",
)


# --- reading ------------------------------------------------------------------------------------------


class _TooMany(Exception):
    pass


class _Reader:
    def __init__(self, result: ParseResult):
        self.result = result
        self.count = 0
        self.limit = max_rows()

    def error(self, path: str, message: str) -> None:
        self.result.add(Issue(f"{path}：{message}" if path else message))

    def _tick(self) -> None:
        self.count += 1
        if self.count > self.limit:
            raise _TooMany

    def mapping(self, value: Any, path: str, keys: tuple[str, ...]) -> dict | None:
        if not isinstance(value, dict):
            self.error(path, "应为键值对（如 code: ...、title: ...）")
            return None
        for key in value:
            if key not in keys:
                self.error(path, f"未知的键“{shown(key, 20)}”，可用的键：{'、'.join(keys)}")
        return value

    def text(self, value: Any, path: str, *, required: bool = False, limit: int | None = None) -> str:
        if value is None:
            value = ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(path, "应为文字")
            return ""
        text = str(value).strip() if not isinstance(value, str) else value.strip()
        if required and not text:
            self.error(path, "不能为空")
        if limit is not None and len(text) > limit:
            self.error(path, f"超过 {limit} 个字符")
        return text

    def words(self, value: Any, path: str) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.error(path, "应为列表，如 [实地考察, 问卷调查]")
            return []
        items = []
        for i, item in enumerate(value):
            text = self.text(item, f"{path}[{i}]")
            if text and text not in items:
                items.append(text)
        return items

    def flag(self, value: Any, path: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.error(path, f"“{shown(value)}”应为 true 或 false")
            return False
        return value

    def edition(self, doc: Any) -> EditionData | None:
        root = self.mapping(doc, "", ("edition", "groups"))
        if root is None:
            return None
        data = EditionData()
        head = root.get("edition")
        if head is not None and self.mapping(head, "edition", _EDITION_KEYS) is not None:
            data.name = self.text(head.get("name"), "edition.name", limit=200)
            data.code = self.text(head.get("code"), "edition.code", limit=60)
            data.description = self.text(head.get("description"), "edition.description")
            data.is_reference = self.flag(head.get("is_reference"), "edition.is_reference")
        groups = root.get("groups")
        if not isinstance(groups, list) or not groups:
            self.error("groups", "应为测评项目的列表，且至少有一项")
            return data
        data.groups = self.groups(groups, "groups", 1, "")
        return data

    def groups(self, items: Any, path: str, depth: int, parent_code: str) -> list[GroupData]:
        if not isinstance(items, list):
            self.error(path, "应为列表")
            return []
        if depth > MAX_GROUP_DEPTH:
            self.error(path, f"分组最多 {MAX_GROUP_DEPTH} 级")
            return []
        found = []
        for i, item in enumerate(items):
            here = f"{path}[{i}]"
            self._tick()
            value = self.mapping(item, here, _GROUP_KEYS)
            if value is None:
                continue
            code = self.text(value.get("code"), f"{here}.code", limit=30)
            code = code or f"{parent_code}.{i + 1}".lstrip(".")
            group = GroupData(
                code=code,
                title=self.text(value.get("title"), f"{here}.title", required=True, limit=300),
                depth=depth,
            )
            if value.get("groups") is not None:
                group.groups = self.groups(value["groups"], f"{here}.groups", depth + 1, code)
            standards = value.get("standards")
            if standards is not None:
                if not isinstance(standards, list):
                    self.error(f"{here}.standards", "应为列表")
                else:
                    for j, s in enumerate(standards):
                        parsed = self.standard(s, f"{here}.standards[{j}]", group, j)
                        if parsed is not None:
                            group.standards.append(parsed)
            found.append(group)
        return found

    def standard(self, item: Any, path: str, group: GroupData, index: int) -> StandardData | None:
        self._tick()
        value = self.mapping(item, path, _STANDARD_KEYS)
        if value is None:
            return None
        before = self.result.error_count
        code = self.text(value.get("code"), f"{path}.code", limit=30) or f"{group.code}.{index + 1}"
        text = self.text(value.get("text"), f"{path}.text", required=True)
        points, message = parse_points(value.get("points"))
        if message:
            self.error(f"{path}.points", message)
        methods: list[str] = []
        for i, word in enumerate(self.words(value.get("methods"), f"{path}.methods")):
            codes, unknown = parse_methods(word, split=False)
            if unknown:
                self.error(
                    f"{path}.methods[{i}]",
                    f"未知的测评方法“{shown(word)}”，可填：{METHODS_ALLOWED}",
                )
            methods.extend(c for c in codes if c not in methods)
        if not methods and self.result.error_count == before:
            self.error(f"{path}.methods", "至少填写一种测评方法")
        words = self.words(value.get("school_types"), f"{path}.school_types")
        school_types, unknown = parse_school_types(words)
        if unknown:
            self.error(f"{path}.school_types", f"未知的学校类型“{'、'.join(unknown)}”")
        kind, params = self.scoring(value.get("scoring"), f"{path}.scoring")
        standard = StandardData(
            code=code,
            text=text,
            points=points if points is not None else Decimal(0),
            methods=methods,
            school_types=school_types,
            materials=self.words(value.get("materials"), f"{path}.materials"),
            responsible=self.text(value.get("responsible"), f"{path}.responsible", limit=200),
            check_protocol=self.text(value.get("check_protocol"), f"{path}.check_protocol"),
            scoring_kind=kind,
            scoring_params=params,
            negative_list=self.flag(value.get("negative_list"), f"{path}.negative_list"),
            where=Issue(path),
        )
        return standard if self.result.error_count == before else None

    def scoring(self, value: Any, path: str) -> tuple[str, dict]:
        if value is None:
            return ScoringKind.GRADE, {}
        if not isinstance(value, dict):
            self.error(path, "应为键值对，如 {kind: grade} 或 {kind: deduction, per: '0.5', cap: '2'}")
            return ScoringKind.GRADE, {}
        kind = value.get("kind", ScoringKind.GRADE)
        if kind not in ScoringKind.values:
            self.error(
                f"{path}.kind", f"“{shown(kind)}”不是有效的评分方式，可填：grade、deduction、pass_fail"
            )
            return ScoringKind.GRADE, {}
        allowed = {
            ScoringKind.GRADE: ("kind", *GRADE_LABELS),
            ScoringKind.DEDUCTION: ("kind", "per", "cap"),
            ScoringKind.PASS_FAIL: ("kind",),
        }[kind]
        if self.mapping(value, path, allowed) is None:
            return kind, {}
        params: dict = {}
        if kind == ScoringKind.GRADE:
            given = [label for label in GRADE_LABELS if label in value]
            if given and len(given) != len(GRADE_LABELS):
                self.error(path, "应同时写出达标、基本达标、不达标的得分比例，或都不写（使用默认 1/0.6/0）")
            for label in given:
                number, message = parse_fraction(value[label], upper=Decimal(1))
                if message:
                    self.error(f"{path}.{label}", message)
                else:
                    params[label] = fraction_number(number)
        elif kind == ScoringKind.DEDUCTION:
            if "per" not in value:
                self.error(f"{path}.per", "按次扣分须写明每次扣几分")
            for key in ("per", "cap"):
                if key in value:
                    number, message = parse_fraction(value[key])
                    if message:
                        self.error(f"{path}.{key}", message)
                    else:
                        params[key] = fraction_number(number)
        return kind, params


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def parse_yaml(data: bytes) -> ParseResult:
    """Read a YAML file into an edition tree (never `yaml.load`); every problem is an Issue with its path."""
    result = ParseResult("yaml")
    if not data:
        result.add(Issue("文件是空的（0 字节）"))
        return result
    too_big = check_size(len(data))
    limit = getattr(settings, "INDEX_YAML_MAX_BYTES", DEFAULT_YAML_MAX_BYTES)
    if not too_big and len(data) > limit:
        too_big = f"YAML 文件大小为 {_size(len(data))}，超过了 {_size(limit)} 的上限，请拆分后分批导入"
    if too_big:
        result.add(Issue(too_big))
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.add(Issue("文件不是 UTF-8 编码的 YAML 文本，请用 UTF-8 保存后再上传"))
        return result
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark is not None else ""
        problem = getattr(exc, "problem", None) or ""
        result.add(Issue(f"YAML 格式错误{where}：{problem}".rstrip("：")))
        return result
    if doc is None:
        result.add(Issue("文件没有内容"))
        return result
    reader = _Reader(result)
    try:
        data_tree = reader.edition(doc)
    except _TooMany:
        result.add(Issue(f"测评标准和分组超过 {reader.limit} 项的上限，请拆分后分批导入"))
        return result
    except RecursionError:
        result.add(Issue("文件嵌套过深，不是有效的测评体系文件"))
        return result
    if data_tree is not None and not result.error_count:
        if not data_tree.standards():
            result.add(Issue("文件中没有测评标准"))
        check_tree(data_tree, result)
    if not result.error_count:
        result.data = data_tree
    return result


# --- writing ------------------------------------------------------------------------------------------


class _Flow(list):
    """A list written inline: methods: [实地考察, 问卷调查]."""


class _FlowMap(dict):
    """A mapping written inline: scoring: {kind: grade}."""


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(_Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_Dumper.add_representer(
    _FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True)
)
_Dumper.add_representer(
    dict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=False)
)


def _decimal_text(value: Any) -> str:
    return format_decimal(Decimal(str(value)))


def _scoring(kind: str, params: dict) -> _FlowMap:
    out = _FlowMap(kind=str(kind))
    if kind == ScoringKind.GRADE:
        for label in GRADE_LABELS:
            if label in params:
                out[label] = _decimal_text(params[label])
    elif kind == ScoringKind.DEDUCTION:
        for key in ("per", "cap"):
            if key in params:
                out[key] = _decimal_text(params[key])
    return out


def _standard(s: StandardData) -> dict:
    return {
        "code": s.code,
        "text": s.text,
        "points": format_decimal(s.points),
        "methods": _Flow(methods_words(s.methods)),
        "school_types": _Flow(school_types_words(s.school_types)),
        "materials": _Flow(s.materials),
        "responsible": s.responsible,
        "check_protocol": s.check_protocol,
        "scoring": _scoring(s.scoring_kind, s.scoring_params),
        "negative_list": bool(s.negative_list),
    }


def _group(group: GroupData) -> dict:
    out: dict[str, Any] = {"code": group.code, "title": group.title}
    if group.groups:
        out["groups"] = [_group(g) for g in group.groups]
    if group.standards:
        out["standards"] = [_standard(s) for s in group.standards]
    return out


def yaml_text(data: EditionData) -> str:
    """The edition as YAML, keys in the documented order, decimals normalised, one way only."""
    doc = {
        "edition": {
            "name": data.name,
            "code": data.code,
            "description": data.description,
            "is_reference": bool(data.is_reference),
        },
        "groups": [_group(g) for g in data.groups],
    }
    return yaml.dump(
        doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000, default_flow_style=False
    )
