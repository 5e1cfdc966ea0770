"""Schools: template, parse, apply and export, matched on 学校代码."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from chuangwen.core import access, audit
from chuangwen.core.models import AuditEvent

from ..models import ImportBatch, Unit
from .result import CREATE, UNCHANGED, UPDATE, ImportResult, PlannedRow
from .workbook import Column, Rejected, SheetSpec, build_workbook, cell_count, cell_text, read_sheet, shown

MAX_HEADCOUNT = 100_000
DIRECT = "（教体局直属）"

SCHOOL_TYPE_ALIASES = {
    "九年一贯制学校": Unit.SchoolType.NINE_YEAR,
    "初级中学": Unit.SchoolType.JUNIOR,
    "普通高中": Unit.SchoolType.SENIOR,
    "高级中学": Unit.SchoolType.SENIOR,
    "完中": Unit.SchoolType.COMPLETE,
    "中等职业学校": Unit.SchoolType.VOCATIONAL,
    "特殊教育": Unit.SchoolType.SPECIAL,
}
OWNERSHIP_ALIASES = {"公立": Unit.Ownership.PUBLIC, "私立": Unit.Ownership.PRIVATE}

SCHOOL_SPEC = SheetSpec(
    name="学校",
    columns=(
        Column(
            "code",
            "学校代码",
            required=True,
            synonyms=("代码", "学校标识码", "学校编码", "单位代码"),
            help="学校标识码或教体局内部编码，唯一。导入时按此匹配：已存在则更新该学校，不存在则新增。",
            allowed="如：3341000123（请设为文本格式，避免开头的 0 丢失）",
            width=16,
            text=True,
        ),
        Column(
            "name",
            "学校名称",
            required=True,
            synonyms=("名称", "学校全称", "单位名称"),
            help="学校全称，不超过 100 个字。",
            allowed="如：东区第一小学",
            width=28,
        ),
        Column(
            "school_type",
            "学校类型",
            required=True,
            synonyms=("学校类别", "类型", "办学类型"),
            help="从下拉列表中选择。",
            choices=tuple(Unit.SchoolType.labels),
            width=14,
        ),
        Column(
            "ownership",
            "办学性质",
            required=True,
            synonyms=("性质", "公办/民办", "公民办"),
            help="从下拉列表中选择。",
            choices=tuple(Unit.Ownership.labels),
            width=10,
        ),
        Column(
            "district",
            "所属区县",
            synonyms=("区县", "所在区县", "所属区域"),
            help="填写系统中已建立的区县名称；留空表示教体局直属学校。",
            width=14,
        ),
        Column("address", "地址", synonyms=("学校地址", "详细地址"), help="不超过 200 个字。", width=36),
        Column(
            "enrolment",
            "在校学生数",
            synonyms=("学生数", "学生人数", "在校生数", "在校学生人数"),
            help="非负整数，可留空。",
            allowed="如：1200",
            whole_number=(0, MAX_HEADCOUNT),
            width=12,
        ),
        Column(
            "staff_count",
            "教职工数",
            synonyms=("教职工人数", "教职员工数"),
            help="非负整数，可留空。",
            allowed="如：85",
            whole_number=(0, MAX_HEADCOUNT),
            width=10,
        ),
    ),
    notes=(
        "在“学校”工作表中每行填写一所学校，第一行是表头。列的顺序可以调整，但请不要修改列名。",
        "按“学校代码”匹配：代码已存在的学校会被更新，不存在的会新增；导入不会删除文件中没有的学校。",
        "已填写的列以文件为准：单元格留空会清空该项（如地址）；整列删除则保留系统中的原值。",
        "上传后先预览，确认无误再导入。只要有一处错误，整个文件都不会写入。",
        "红色表头为必填列，灰色表头为选填列。",
    ),
)

_FIELD_LABELS = {
    "name": "学校名称",
    "school_type": "学校类型",
    "ownership": "办学性质",
    "parent": "所属区县",
    "address": "地址",
    "enrolment": "在校学生数",
    "staff_count": "教职工数",
}
UPDATE_FIELDS = [
    "name",
    "school_type",
    "ownership",
    "parent",
    "path",
    "address",
    "enrolment",
    "staff_count",
    "updated_at",
]
_WHITESPACE = re.compile(r"\s")


def _choice(text: str, choices: type, aliases: dict) -> str | None:
    for value, label in choices.choices:
        if text == label:
            return value
    return aliases.get(text)


def _parent_label(unit: Unit | None) -> str:
    if unit is None:
        return ""
    return DIRECT if unit.kind == Unit.Kind.BUREAU else unit.name


class _Parents:
    """The units a user may place schools under: districts by name or code, and the bureau for blanks."""

    def __init__(self, user):
        units = [
            u
            for u in access.visible_units(user).filter(kind__in=[Unit.Kind.BUREAU, Unit.Kind.DISTRICT])
            if access.can_change_unit(user, u)
        ]
        self.by_key: dict[str, Unit | None] = {}  # None marks an ambiguous name
        for unit in units:
            for key in {unit.name.strip(), unit.code}:
                self.by_key[key] = None if key in self.by_key and self.by_key[key] != unit else unit
        self.bureaus = [u for u in units if u.kind == Unit.Kind.BUREAU]

    def default(self) -> tuple[Unit | None, str]:
        if len(self.bureaus) == 1:
            return self.bureaus[0], ""
        if not self.bureaus:
            return None, "请填写所属区县（您的管理范围内没有教体局，不能新增直属学校）"
        return None, "系统中有多个教体局，请填写所属区县"

    def find(self, text: str) -> tuple[Unit | None, str]:
        if text not in self.by_key:
            return None, f"区县“{shown(text)}”不存在或不在您的管理范围内，请填写系统中已建立的区县名称"
        unit = self.by_key[text]
        if unit is None:
            return None, f"有多个单位名为“{shown(text)}”，请改填区县代码"
        return unit, ""


def _existing_by_code(codes: Sequence[str]) -> dict[str, Unit]:
    found: dict[str, Unit] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        found.update({u.code: u for u in Unit.objects.filter(code__in=chunk).select_related("parent")})
    return found


def _clean_row(number: int, cells: dict[str, Any], sheet, parents: _Parents, result: ImportResult):
    """The row's values as model values, or None when any cell is wrong (each wrong cell is reported)."""
    col = {c.key: sheet.headers.get(c.key, c.label) for c in SCHOOL_SPEC.columns}
    errors_before = result.error_count
    values: dict[str, Any] = {}

    def err(key: str, message: str) -> None:
        result.error(message, row=number, column=col[key])

    code = cell_text(cells.get("code"))
    if not code:
        err("code", "学校代码不能为空")
    elif len(code) > 32 or _WHITESPACE.search(code):
        err("code", f"学校代码“{shown(code)}”无效：不能含空格，不超过 32 个字符")
    values["code"] = code

    name = cell_text(cells.get("name"))
    if not name:
        err("name", "学校名称不能为空")
    elif len(name) > 100:
        err("name", "学校名称不能超过 100 个字")
    values["name"] = name

    for key, choices, aliases, what in (
        ("school_type", Unit.SchoolType, SCHOOL_TYPE_ALIASES, "学校类型"),
        ("ownership", Unit.Ownership, OWNERSHIP_ALIASES, "办学性质"),
    ):
        text = cell_text(cells.get(key))
        value = _choice(text, choices, aliases) if text else None
        if not text:
            err(key, f"{what}不能为空（可选：{'、'.join(choices.labels)}）")
        elif value is None:
            err(key, f"“{shown(text)}”不是有效的{what}（可选：{'、'.join(choices.labels)}）")
        values[key] = value

    if sheet.has("district"):
        text = cell_text(cells.get("district"))
        parent, message = parents.find(text) if text and text != DIRECT else parents.default()
        if message:
            err("district", message)
        values["parent"] = parent

    if sheet.has("address"):
        address = cell_text(cells.get("address"))
        if len(address) > 200:
            err("address", "地址不能超过 200 个字")
        values["address"] = address

    for key in ("enrolment", "staff_count"):
        if sheet.has(key):
            number_value, message = cell_count(cells.get(key))
            if not message and number_value is not None and number_value > MAX_HEADCOUNT:
                message = f"“{number_value}”过大，请核对（不超过 {MAX_HEADCOUNT}）"
            if message:
                err(key, message)
            values[key] = number_value
    return values if result.error_count == errors_before else None


def _display(values: dict[str, Any], parent: Unit | None) -> list[Any]:
    return [
        values["code"],
        values["name"],
        Unit.SchoolType(values["school_type"]).label,
        Unit.Ownership(values["ownership"]).label,
        _parent_label(parent),
        values.get("address", ""),
        values.get("enrolment"),
        values.get("staff_count"),
    ]


def _shown_value(field: str, value: Any) -> str:
    if field == "parent":
        return _parent_label(value) or "空"
    if field == "school_type":
        return Unit.SchoolType(value).label if value else "空"
    if field == "ownership":
        return Unit.Ownership(value).label if value else "空"
    return "空" if value in (None, "") else str(value)


def _comparable(value: Any) -> Any:
    return value.pk if isinstance(value, Unit) else value


def _plan(
    number: int, values: dict[str, Any], existing: Unit | None, parents: _Parents, result: ImportResult
) -> None:
    if existing is None:
        parent = values.get("parent")
        if "parent" not in values:
            parent, message = parents.default()
            if message:
                result.error(message, row=number, column=SCHOOL_SPEC.column("district").label)
                return
        unit = Unit(
            kind=Unit.Kind.SCHOOL,
            code=values["code"],
            name=values["name"],
            school_type=values["school_type"],
            ownership=values["ownership"],
            parent=parent,
            address=values.get("address", ""),
            enrolment=values.get("enrolment"),
            staff_count=values.get("staff_count"),
        )
        result.rows.append(PlannedRow(number, CREATE, _display(values, parent), obj=unit))
        return
    changes = []
    for field, new in values.items():
        if field == "code":
            continue
        old = existing.parent if field == "parent" else getattr(existing, field)
        if _comparable(old) != _comparable(new):
            changes.append(f"{_FIELD_LABELS[field]}：{_shown_value(field, old)} → {_shown_value(field, new)}")
            setattr(existing, field, new)
    if "parent" in values:
        existing.path = existing.expected_path()  # the parent's subtree: schools have no children
    action = UPDATE if changes else UNCHANGED
    result.rows.append(PlannedRow(number, action, _display(values, existing.parent), changes, obj=existing))


def parse_schools(data: bytes, *, user) -> ImportResult:
    """Read and check a school file against the database; nothing is written."""
    access.require(access.can_manage_units(user))
    result = ImportResult(kind=ImportBatch.Kind.SCHOOLS, columns=[c.label for c in SCHOOL_SPEC.columns])
    try:
        sheet = read_sheet(data, SCHOOL_SPEC)
    except Rejected as exc:
        result.add(exc.issue)
        return result
    result.sheet = sheet.title
    parents = _Parents(user)
    code_column = sheet.headers["code"]

    cleaned: list[tuple[int, dict[str, Any]]] = []
    first_row: dict[str, int] = {}
    for number, cells in sheet.rows:
        values = _clean_row(number, cells, sheet, parents, result)
        code = cell_text(cells.get("code"))
        if code and code in first_row:
            result.error(
                f"学校代码“{shown(code)}”与第 {first_row[code]} 行重复", row=number, column=code_column
            )
            continue
        if code:
            first_row[code] = number
        if values is not None:
            cleaned.append((number, values))

    existing = _existing_by_code([v["code"] for _, v in cleaned])
    for number, values in cleaned:
        unit = existing.get(values["code"])
        if unit is not None and unit.kind != Unit.Kind.SCHOOL:
            result.error(
                f"代码“{shown(values['code'])}”已被{unit.get_kind_display()}“{unit.name}”使用，"
                "不能用作学校代码",
                row=number,
                column=code_column,
            )
        elif unit is not None and not access.can_change_unit(user, unit):
            result.error(
                f"学校代码“{shown(values['code'])}”已被您管理范围以外的学校使用",
                row=number,
                column=code_column,
            )
        else:
            _plan(number, values, unit, parents, result)
    return result


def apply_schools(data: bytes, *, actor, request=None, batch: ImportBatch | None = None) -> ImportResult:
    """Re-check the file and upsert every school in one transaction, or write nothing at all."""
    access.require(access.can_manage_units(actor))
    with transaction.atomic():
        result = parse_schools(data, user=actor)
        if result.ok:
            try:
                with transaction.atomic():
                    _write(result)
            except IntegrityError:
                result.error("保存时发现学校代码已被他人同时使用，未写入任何数据，请重新上传预览")
        audit.record(
            "org.import",
            actor=actor,
            request=request,
            object_type="org.unit",
            result=AuditEvent.Result.SUCCESS if result.ok else AuditEvent.Result.FAILURE,
            data=_audit_data(result, batch),
        )
    return result


def _write(result: ImportResult) -> None:
    now = timezone.now()
    created = [r.obj for r in result.planned(CREATE)]
    Unit.objects.bulk_create(created, batch_size=500)
    if any(u.pk is None for u in created):  # a backend that cannot return ids from a bulk insert
        ids = dict(Unit.objects.filter(code__in=[u.code for u in created]).values_list("code", "pk"))
        for unit in created:
            unit.pk = ids[unit.code]
    for unit in created:
        unit.path = unit.expected_path()
    Unit.objects.bulk_update(created, ["path"], batch_size=500)
    updated = [r.obj for r in result.planned(UPDATE)]
    for unit in updated:
        unit.updated_at = now
    Unit.objects.bulk_update(updated, UPDATE_FIELDS, batch_size=500)


def _audit_data(result: ImportResult, batch: ImportBatch | None) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": result.kind, **result.counts, "errors": result.error_count}
    if batch is not None:
        data.update(batch=batch.pk, file=batch.original_name)
    return data


# --- template and export ----------------------------------------------------------------------------------


def school_template(*, districts: Iterable[str] = ()) -> bytes:
    """The empty school workbook; `districts` become the 所属区县 dropdown and are listed in the help."""
    districts = list(districts)
    help_rows = [["所属区县可填写", "", "、".join(districts)]] if districts else []
    return build_workbook(
        SCHOOL_SPEC, [], choices={"district": districts} if districts else None, help_rows=help_rows
    )


def export_schools(
    queryset: QuerySet[Unit], *, actor=None, request=None, filters: dict | None = None
) -> bytes:
    """The schools of `queryset` (already scoped by the caller) in the import layout, and an audit event."""
    rows = []
    for unit in queryset.filter(kind=Unit.Kind.SCHOOL).select_related("parent").order_by("path"):
        rows.append(
            [
                unit.code,
                unit.name,
                unit.get_school_type_display(),
                unit.get_ownership_display(),
                unit.parent.name
                if unit.parent is not None and unit.parent.kind == Unit.Kind.DISTRICT
                else "",
                unit.address,
                unit.enrolment,
                unit.staff_count,
            ]
        )
    data = build_workbook(SCHOOL_SPEC, rows)
    audit.record(
        "org.export",
        actor=actor,
        request=request,
        object_type="org.unit",
        data={
            "kind": "schools",
            "rows": len(rows),
            "filters": {k: v for k, v in (filters or {}).items() if v},
        },
    )
    return data
