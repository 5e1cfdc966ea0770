"""Classes: template, parse, apply and export, matched on (学校代码, 年级, 班级名)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from chuangwen.core import access, audit
from chuangwen.core.models import AuditEvent

from ..models import HUGE_CLASS_MIN, LARGE_CLASS_MIN, Grade, ImportBatch, SchoolClass, Unit, parse_grade
from .result import CREATE, UNCHANGED, UPDATE, ImportResult, PlannedRow
from .workbook import (
    Column,
    Rejected,
    SheetSpec,
    build_workbook,
    cell_count,
    cell_text,
    loose_text,
    read_sheet,
    shown,
)

MIN_STUDENTS, MAX_STUDENTS = 1, 120
SIZE_COLUMN = "班额情况"  # exported for reading; the importer ignores it
COUNT_HELP = (
    f"{MIN_STUDENTS}–{MAX_STUDENTS} 之间的整数。{LARGE_CLASS_MIN}–{HUGE_CLASS_MIN - 1} 人为大班额，"
    f"{HUGE_CLASS_MIN} 人及以上为超大班额，由系统自动标记。"
)

CLASS_SPEC = SheetSpec(
    name="班级",
    columns=(
        Column(
            "school_code",
            "学校代码",
            required=True,
            synonyms=("代码", "学校标识码", "学校编码"),
            help="班级所在学校的代码，须是系统中已有、且您有权维护的学校。",
            allowed="如：3341000123",
            width=16,
            text=True,
        ),
        Column(
            "school_name",
            "学校名称",
            synonyms=("学校",),
            help="仅用于核对，可留空；如填写，须与学校代码对应的学校名称一致。",
            width=28,
        ),
        Column(
            "grade",
            "年级",
            required=True,
            synonyms=("年级名称",),
            help="从下拉列表中选择；也可填写初一、初二、初三。",
            choices=tuple(Grade.labels),
            width=10,
        ),
        Column(
            "name",
            "班级名",
            required=True,
            synonyms=("班级", "班级名称", "班名"),
            help="同一学校同一年级内唯一，不超过 30 个字。",
            allowed="如：1班、3班、火箭班",
            width=12,
        ),
        Column(
            "head_teacher_name", "班主任", synonyms=("班主任姓名",), help="班主任姓名，可留空。", width=12
        ),
        Column(
            "student_count",
            "学生数",
            required=True,
            synonyms=("学生人数", "班级人数", "人数", "班级学生数"),
            help=COUNT_HELP,
            allowed="如：45",
            whole_number=(MIN_STUDENTS, MAX_STUDENTS),
            width=10,
        ),
    ),
    notes=(
        "在“班级”工作表中每行填写一个班级，第一行是表头。列的顺序可以调整，但请不要修改列名。",
        "按“学校代码 + 年级 + 班级名”匹配：已有的班级会被更新，没有的会新增；导入不会删除文件中没有的班级。",
        "学校用户只能导入本校的班级。",
        "上传后先预览，确认无误再导入。只要有一处错误，整个文件都不会写入。",
        "导出文件中的“班额情况”列由系统计算，导入时会被忽略。",
    ),
)
UPDATE_FIELDS = ["head_teacher_name", "student_count", "updated_at"]


def _schools_by_code(codes: Sequence[str], user) -> dict[str, Unit]:
    allowed = access.class_import_schools(user)
    found: dict[str, Unit] = {}
    for start in range(0, len(codes), 500):
        found.update({u.code: u for u in allowed.filter(code__in=codes[start : start + 500])})
    return found


def _existing_classes(school_ids: Sequence[int]) -> dict[tuple[int, int, str], SchoolClass]:
    found: dict[tuple[int, int, str], SchoolClass] = {}
    for start in range(0, len(school_ids), 500):
        for klass in SchoolClass.objects.filter(school_id__in=school_ids[start : start + 500]):
            found[(klass.school_id, klass.grade, klass.name)] = klass
    return found


def _clean_row(number: int, cells: dict[str, Any], sheet, result: ImportResult) -> dict[str, Any] | None:
    col = {c.key: sheet.headers.get(c.key, c.label) for c in CLASS_SPEC.columns}
    errors_before = result.error_count
    values: dict[str, Any] = {}

    def err(key: str, message: str) -> None:
        result.error(message, row=number, column=col[key])

    values["school_code"] = cell_text(cells.get("school_code"))
    if not values["school_code"]:
        err("school_code", "学校代码不能为空")
    if sheet.has("school_name"):
        values["school_name"] = cell_text(cells.get("school_name"))

    grade_text = cell_text(cells.get("grade"))
    grade = parse_grade(grade_text)
    if not grade_text:
        err("grade", f"年级不能为空（可选：{'、'.join(Grade.labels)}）")
    elif grade is None:
        err(
            "grade",
            f"“{shown(grade_text)}”不是有效的年级（可选：{'、'.join(Grade.labels)}，或初一、初二、初三）",
        )
    values["grade"] = grade

    name = cell_text(cells.get("name"))
    if not name:
        err("name", "班级名不能为空")
    elif len(name) > 30:
        err("name", "班级名不能超过 30 个字")
    values["name"] = name

    if sheet.has("head_teacher_name"):
        teacher = cell_text(cells.get("head_teacher_name"))
        if len(teacher) > 50:
            err("head_teacher_name", "班主任姓名不能超过 50 个字")
        values["head_teacher_name"] = teacher

    count, message = cell_count(cells.get("student_count"))
    if not message and count is None:
        message = "学生数不能为空"
    elif not message and not MIN_STUDENTS <= count <= MAX_STUDENTS:
        message = f"学生数“{count}”不合理，应在 {MIN_STUDENTS}–{MAX_STUDENTS} 之间"
    if message:
        err("student_count", message)
    values["student_count"] = count
    return values if result.error_count == errors_before else None


def _display(values: dict[str, Any], school: Unit) -> list[Any]:
    return [
        school.code,
        school.name,
        Grade(values["grade"]).label,
        values["name"],
        values.get("head_teacher_name", ""),
        values["student_count"],
    ]


def parse_classes(data: bytes, *, user) -> ImportResult:
    """Read and check a class file against the database and the user's schools; nothing is written."""
    access.require(access.can_import_classes(user))
    result = ImportResult(kind=ImportBatch.Kind.CLASSES, columns=[c.label for c in CLASS_SPEC.columns])
    try:
        sheet = read_sheet(data, CLASS_SPEC)
    except Rejected as exc:
        result.add(exc.issue)
        return result
    result.sheet = sheet.title
    headers = {c.key: sheet.headers.get(c.key, c.label) for c in CLASS_SPEC.columns}

    cleaned: list[tuple[int, dict[str, Any]]] = []
    first_row: dict[tuple[str, int, str], int] = {}
    for number, cells in sheet.rows:
        values = _clean_row(number, cells, sheet, result)
        if values is None:
            continue
        key = (values["school_code"], values["grade"], values["name"])
        if key in first_row:
            result.error(
                f"与第 {first_row[key]} 行重复（同一学校、同一年级、同一班级名）",
                row=number,
                column=headers["name"],
            )
            continue
        first_row[key] = number
        cleaned.append((number, values))

    schools = _schools_by_code(sorted({v["school_code"] for _, v in cleaned}), user)
    existing = _existing_classes(sorted({s.pk for s in schools.values()}))
    now = timezone.now()
    for number, values in cleaned:
        school = schools.get(values["school_code"])
        if school is None:
            result.error(
                f"学校代码“{shown(values['school_code'])}”不存在，或您无权导入该学校的班级",
                row=number,
                column=headers["school_code"],
            )
            continue
        given_name = values.get("school_name", "")
        if given_name and loose_text(given_name) != loose_text(school.name):
            result.error(
                f"学校名称“{shown(given_name)}”与学校代码“{school.code}”对应的学校“{school.name}”不一致",
                row=number,
                column=headers["school_name"],
            )
            continue
        _plan(number, values, school, existing, result, now)
    return result


def _plan(
    number: int, values: dict[str, Any], school: Unit, existing: dict, result: ImportResult, now
) -> None:
    klass = existing.get((school.pk, values["grade"], values["name"]))
    if klass is None:
        klass = SchoolClass(
            school=school,
            grade=values["grade"],
            name=values["name"],
            head_teacher_name=values.get("head_teacher_name", ""),
            student_count=values["student_count"],
        )
        result.rows.append(PlannedRow(number, CREATE, _display(values, school), obj=klass))
        return
    changes = []
    for field, label in (("head_teacher_name", "班主任"), ("student_count", "学生数")):
        if field in values and getattr(klass, field) != values[field]:
            changes.append(f"{label}：{getattr(klass, field) or '空'} → {values[field] or '空'}")
            setattr(klass, field, values[field])
    if changes:
        klass.updated_at = now  # bulk_update does not run auto_now
    result.rows.append(
        PlannedRow(number, UPDATE if changes else UNCHANGED, _display(values, school), changes, obj=klass)
    )


def apply_classes(data: bytes, *, actor, request=None, batch: ImportBatch | None = None) -> ImportResult:
    """Re-check the file and upsert every class in one transaction, or write nothing at all."""
    access.require(access.can_import_classes(actor))
    with transaction.atomic():
        result = parse_classes(data, user=actor)
        if result.ok:
            try:
                with transaction.atomic():
                    SchoolClass.objects.bulk_create([r.obj for r in result.planned(CREATE)], batch_size=500)
                    _update_classes([r.obj for r in result.planned(UPDATE)])
            except IntegrityError:
                result.error("保存时发现有班级已被他人同时添加，未写入任何数据，请重新上传预览")
        data_: dict[str, Any] = {
            "kind": result.kind,
            **result.counts,
            "errors": result.error_count,
            "schools": len({r.obj.school_id for r in result.rows}),
        }
        if batch is not None:
            data_.update(batch=batch.pk, file=batch.original_name)
        audit.record(
            "org.import",
            actor=actor,
            request=request,
            object_type="org.schoolclass",
            result=AuditEvent.Result.SUCCESS if result.ok else AuditEvent.Result.FAILURE,
            data=data_,
        )
    return result


def _update_from_values_supported() -> bool:
    if connection.vendor == "postgresql":
        return True
    return connection.vendor == "sqlite" and connection.Database.sqlite_version_info >= (3, 33)


def _update_classes(classes: list[SchoolClass]) -> None:
    """Write the new head teachers and sizes of many classes.

    bulk_update() builds a CASE WHEN per row and field and needs seconds for a city's 5,000 classes; one
    UPDATE ... FROM (VALUES ...) per 500 rows does the same in milliseconds on SQLite (3.33+) and PostgreSQL.
    """
    if not classes:
        return
    if not _update_from_values_supported():
        SchoolClass.objects.bulk_update(classes, UPDATE_FIELDS, batch_size=500)
        return
    table = connection.ops.quote_name(SchoolClass._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(classes[0].updated_at)
    with connection.cursor() as cursor:
        for start in range(0, len(classes), 500):
            batch = classes[start : start + 500]
            placeholders = ", ".join(["(%s, %s, %s)"] * len(batch))
            params = [value for k in batch for value in (k.pk, k.head_teacher_name, k.student_count)]
            # Only placeholders and a quoted table name are interpolated; every value is a parameter.
            cursor.execute(
                f"WITH v(id, head_teacher_name, student_count) AS (VALUES {placeholders}) "  # noqa: S608
                f"UPDATE {table} SET head_teacher_name = v.head_teacher_name, "
                f"student_count = v.student_count, updated_at = %s FROM v WHERE {table}.id = v.id",
                [*params, stamp],
            )


# --- template and export ----------------------------------------------------------------------------------


def class_template(*, schools: Iterable[tuple[str, str]] = ()) -> bytes:
    """The empty class workbook; `schools` (code, name) are listed in the help sheet for reference."""
    help_rows: list[list[str]] = []
    for index, (code, name) in enumerate(schools):
        if index == 0:
            help_rows.append([])
            help_rows.append(["您可导入班级的学校", "", "学校代码", "学校名称"])
        if index >= 2000:
            help_rows.append(["", "", "……", "（其余学校请在“单位与学校”中查询）"])
            break
        help_rows.append(["", "", code, name])
    return build_workbook(CLASS_SPEC, [], help_rows=help_rows)


def export_classes(
    queryset: QuerySet[SchoolClass], *, actor=None, request=None, filters: dict | None = None
) -> bytes:
    """The classes of `queryset` (already scoped by the caller) in the import layout plus 班额情况."""
    rows = [
        [
            k.school.code,
            k.school.name,
            k.get_grade_display(),
            k.name,
            k.head_teacher_name,
            k.student_count,
            k.size_flag,
        ]
        for k in queryset.select_related("school").order_by("school__path", "grade", "name")
    ]
    data = build_workbook(CLASS_SPEC, rows, extra_headers=[SIZE_COLUMN])
    audit.record(
        "org.export",
        actor=actor,
        request=request,
        object_type="org.schoolclass",
        data={
            "kind": "classes",
            "rows": len(rows),
            "filters": {k: v for k, v in (filters or {}).items() if v},
        },
    )
    return data
