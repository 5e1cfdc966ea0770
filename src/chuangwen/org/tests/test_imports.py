"""Excel import of schools and classes: templates, the wizard over HTTP, the services, hostile files."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import quote

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.org import imports
from chuangwen.org.models import Grade, ImportBatch, SchoolClass, Unit

SCHOOL_HEADER = ["学校代码", "学校名称", "学校类型", "办学性质", "所属区县", "地址", "在校学生数", "教职工数"]
CLASS_HEADER = ["学校代码", "学校名称", "年级", "班级名", "班主任", "学生数"]
SCHOOL_TYPES = "幼儿园、小学、初中、九年一贯制、高中、完全中学、职业学校、特殊教育学校"


# --- helpers ------------------------------------------------------------------------------------------


def xlsx(rows, *, header=SCHOOL_HEADER, sheet="学校", before=()) -> bytes:
    """A workbook with one sheet: optional lines above the header, the header, then `rows`."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for line in before:
        ws.append(line)
    if header is not None:
        ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def school_row(
    code="3499000001",
    name="东区新建小学",
    school_type="小学",
    ownership="公办",
    district="东区",
    address="新建路 8 号",
    enrolment=600,
    staff=40,
):
    return [code, name, school_type, ownership, district, address, enrolment, staff]


def class_row(school, grade="一年级", name="9班", teacher="李老师", count=42, school_name=None):
    return [school.code, school.name if school_name is None else school_name, grade, name, teacher, count]


def snapshot():
    """Everything an import may touch, to prove that a rejected import changed nothing."""
    units = list(
        Unit.objects.order_by("pk").values_list(
            "pk",
            "code",
            "name",
            "kind",
            "parent_id",
            "path",
            "school_type",
            "ownership",
            "address",
            "enrolment",
            "staff_count",
            "updated_at",
        )
    )
    classes = list(
        SchoolClass.objects.order_by("pk").values_list(
            "pk", "school_id", "grade", "name", "head_teacher_name", "student_count", "updated_at"
        )
    )
    return units, classes


def messages_of(result) -> list[str]:
    return [str(e) for e in result.errors]


def upload(data: bytes, name: str = "导入.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=imports.XLSX_CONTENT_TYPE)


def fill(template: bytes, rows) -> bytes:
    """Fill a downloaded template the way a person would: open it, type rows below the header, save."""
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb.worksheets[0]
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def reread(data: bytes, sheet: str) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    rows = [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
    wb.close()
    return rows


@pytest.fixture
def office(city):
    return city.users[Role.OFFICE]


@pytest.fixture
def liaison(city):
    return city.users[Role.LIAISON]


# --- templates ----------------------------------------------------------------------------------------


def test_school_template_has_header_help_sheet_and_dropdowns(city):
    data = imports.school_template(districts=["东区", "西区"])
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["学校", "填写说明"]
    ws = wb["学校"]
    assert [c.value for c in ws[1]] == SCHOOL_HEADER
    assert ws.max_row == 1  # no example rows that would be imported by mistake
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    assert lists["C2"] == '"' + SCHOOL_TYPES.replace("、", ",") + '"'
    assert lists["D2"] == '"公办,民办"'
    assert lists["E2"] == '"东区,西区"'
    help_text = " ".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    for label in SCHOOL_HEADER:
        assert label in help_text
    assert "特殊教育学校" in help_text and "学校代码" in help_text


def test_class_template_lists_grades_and_the_users_schools(city):
    data = imports.class_template(schools=[(city.school_a.code, city.school_a.name)])
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["班级", "填写说明"]
    assert [c.value for c in wb["班级"][1]] == CLASS_HEADER
    formulas = [dv.formula1 for dv in wb["班级"].data_validations.dataValidation]
    assert any("托班" in (f or "") and "高三" in (f or "") for f in formulas)
    help_text = " ".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    assert city.school_a.code in help_text and "初一" in help_text


@pytest.mark.parametrize(
    ("role", "kind", "status"),
    [
        (Role.OFFICE, "schools", 200),
        (Role.OFFICE, "classes", 200),
        (Role.ADMIN, "schools", 200),
        (Role.LIAISON, "classes", 200),
        (Role.SCHOOL_HEAD, "classes", 200),
        (Role.LIAISON, "schools", 403),
        (Role.LEADER, "schools", 403),
        (Role.TEACHER, "classes", 403),
        (Role.OFFICE, "teachers", 404),
    ],
)
def test_template_download_over_http(client, city, role, kind, status):
    client.force_login(city.users[role])
    response = client.get(f"/org/import/template/{kind}.xlsx")
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == imports.XLSX_CONTENT_TYPE
        label = "学校" if kind == "schools" else "班级"
        assert "filename*=UTF-8''" in response["Content-Disposition"]
        assert quote(f"{label}导入模板.xlsx") in response["Content-Disposition"]
        assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames == [label, "填写说明"]


# --- round trip ---------------------------------------------------------------------------------------


def test_school_round_trip_template_import_export_import(city, office):
    data = fill(
        imports.school_template(districts=["东区", "西区"]),
        [
            school_row(code="3499000001", name="东区新建小学", district="东区"),
            school_row(
                code="0499000002",
                name="西区实验中学",
                school_type="完全中学",
                ownership="民办",
                district="西区",
                enrolment=None,
                staff=None,
                address="",
            ),
            school_row(code="3499000003", name="市直特殊教育学校", school_type="特殊教育学校", district=""),
        ],
    )
    result = imports.apply_schools(data, actor=office)
    assert result.ok, messages_of(result)
    assert result.counts == {"total": 3, "create": 3, "update": 0, "unchanged": 0}
    new = {u.code: u for u in Unit.objects.filter(code__in=["3499000001", "0499000002", "3499000003"])}
    assert new["3499000001"].parent == city.district_a
    assert new["0499000002"].parent == city.district_b
    assert new["0499000002"].ownership == Unit.Ownership.PRIVATE and new["0499000002"].enrolment is None
    assert new["3499000003"].parent == city.bureau  # blank district: directly under the bureau
    for unit in new.values():
        assert unit.kind == Unit.Kind.SCHOOL
        assert unit.path == unit.expected_path()
        assert unit.path.startswith(unit.parent.path)

    exported = imports.export_schools(Unit.objects.all(), actor=office)
    assert reread(exported, "学校")[0] == tuple(SCHOOL_HEADER)
    before = snapshot()
    again = imports.apply_schools(exported, actor=office)
    assert again.ok, messages_of(again)
    assert again.counts == {"total": 6, "create": 0, "update": 0, "unchanged": 6}
    assert snapshot() == before


def test_class_round_trip_template_import_export_import(city, liaison):
    data = fill(
        imports.class_template(),
        [
            class_row(city.school_a, grade="一年级", name="3班", count=40),
            class_row(city.school_a, grade="二年级", name="1班", count=66, teacher=""),
        ],
    )
    result = imports.apply_classes(data, actor=liaison)
    assert result.ok, messages_of(result)
    assert result.counts["create"] == 2
    exported = imports.export_classes(SchoolClass.objects.filter(school=city.school_a), actor=liaison)
    rows = reread(exported, "班级")
    assert rows[0] == (*CLASS_HEADER, "班额情况")
    assert (city.school_a.code, city.school_a.name, "二年级", "1班", None, 66, "超大班额") in rows
    before = snapshot()
    again = imports.apply_classes(exported, actor=liaison)
    assert again.ok, messages_of(again)
    assert again.counts == {"total": 4, "create": 0, "update": 0, "unchanged": 4}
    assert snapshot() == before


# --- good files ---------------------------------------------------------------------------------------


def test_school_file_creates_and_updates(city, office):
    school_a = city.school_a
    data = xlsx(
        [
            school_row(
                code=school_a.code, name="东区第一小学（本部）", district="西区", enrolment=1300, staff=81
            ),
            school_row(
                code="3499000009", name="东区新建幼儿园", school_type="幼儿园", enrolment=300, staff=30
            ),
        ]
    )
    preview = imports.parse_schools(data, user=office)
    assert preview.ok, messages_of(preview)
    assert preview.counts == {"total": 2, "create": 1, "update": 1, "unchanged": 0}
    changes = preview.planned(imports.UPDATE)[0].changes
    assert "学校名称：东区第一小学 → 东区第一小学（本部）" in changes
    assert "所属区县：东区 → 西区" in changes
    assert Unit.objects.get(pk=school_a.pk).name == "东区第一小学"  # a preview writes nothing

    result = imports.apply_schools(data, actor=office)
    assert result.ok
    school_a.refresh_from_db()
    assert (school_a.name, school_a.enrolment, school_a.staff_count) == ("东区第一小学（本部）", 1300, 81)
    assert school_a.parent == city.district_b
    assert school_a.path == f"{city.district_b.path}{school_a.pk}/"
    assert SchoolClass.objects.filter(school=school_a).count() == 2  # classes follow their school
    kindergarten = Unit.objects.get(code="3499000009")
    assert kindergarten.school_type == Unit.SchoolType.KINDERGARTEN
    assert kindergarten.path == f"{city.district_a.path}{kindergarten.pk}/"


def test_school_file_with_optional_columns_left_out_keeps_existing_values(city, office):
    data = xlsx([[city.school_b.code, "东区实验初级中学", "初中", "公办"]], header=SCHOOL_HEADER[:4])
    result = imports.apply_schools(data, actor=office)
    assert result.ok, messages_of(result)
    assert result.counts["unchanged"] == 1
    city.school_b.refresh_from_db()
    assert (city.school_b.address, city.school_b.enrolment, city.school_b.parent) == (
        "测试路1号",
        1200,
        city.district_a,
    )


def test_headers_are_matched_loosely(city, office):
    """Spaces, synonyms, another column order and a title row above the header are all fine."""
    header = [" 学校类别 ", "学校名称", "学校代码", "办学性质", "区县", "学生人数", "备注"]
    data = xlsx(
        [["初中", "东区第三中学", "3499000010", "公办", "东区", 900, "新建"]],
        header=header,
        before=[["2026 年学校名单"]],
    )
    result = imports.parse_schools(data, user=office)
    assert result.ok, messages_of(result)
    planned = result.rows[0]
    assert planned.row == 3
    assert (planned.obj.school_type, planned.obj.enrolment) == (Unit.SchoolType.JUNIOR, 900)


def test_class_file_creates_and_updates(city, office):
    data = xlsx(
        [
            class_row(
                city.school_a, grade="一年级", name="1班", count=47, teacher="张老师"
            ),  # exists: update
            class_row(city.school_b, grade="初一", name="5班", count=50),  # an alias for 七年级
            class_row(city.school_c, grade="三年级", name="2班", count=61, school_name=""),
        ],
        header=CLASS_HEADER,
        sheet="班级",
    )
    result = imports.apply_classes(data, actor=office)
    assert result.ok, messages_of(result)
    assert result.counts == {"total": 3, "create": 2, "update": 1, "unchanged": 0}
    updated = SchoolClass.objects.get(school=city.school_a, grade=Grade.G1, name="1班")
    assert (updated.student_count, updated.head_teacher_name) == (47, "张老师")
    assert SchoolClass.objects.get(school=city.school_b, name="5班").grade == Grade.G7
    assert SchoolClass.objects.get(school=city.school_c, name="2班", grade=Grade.G3).size_flag == "大班额"


# --- bad files: precise errors, nothing written -------------------------------------------------------

SCHOOL_CASES = {
    "unknown school type": (
        [school_row(school_type="小学校")],
        f"工作表“学校”第 2 行“学校类型”列：“小学校”不是有效的学校类型（可选：{SCHOOL_TYPES}）",
    ),
    "unknown ownership": (
        [school_row(ownership="公私合办")],
        "工作表“学校”第 2 行“办学性质”列：“公私合办”不是有效的办学性质",
    ),
    "unknown district": ([school_row(district="北区")], "工作表“学校”第 2 行“所属区县”列：区县“北区”不存在"),
    "non-numeric": ([school_row(enrolment="abc")], "工作表“学校”第 2 行“在校学生数”列：“abc”不是有效的数字"),
    "negative": ([school_row(staff=-5)], "工作表“学校”第 2 行“教职工数”列：“-5”不能为负数"),
    "decimal": ([school_row(enrolment=12.5)], "工作表“学校”第 2 行“在校学生数”列：“12.5”不是整数"),
    "decimal text": ([school_row(enrolment="12.5")], "工作表“学校”第 2 行“在校学生数”列：“12.5”不是整数"),
    "missing name": ([school_row(name="")], "工作表“学校”第 2 行“学校名称”列：学校名称不能为空"),
    "duplicate code": (
        [
            school_row(code="3499000001"),
            school_row(code="3499000002"),
            school_row(code="3499000001", name="重复"),
        ],
        "工作表“学校”第 4 行“学校代码”列：学校代码“3499000001”与第 2 行重复",
    ),
    "code of a district": ([school_row(code="__district__")], "已被区县“东区”使用，不能用作学校代码"),
    "good rows then a bad one": (
        [school_row(code="3499000001"), school_row(code="3499000002", school_type="大学")],
        "工作表“学校”第 3 行“学校类型”列：“大学”不是有效的学校类型",
    ),
}


@pytest.mark.parametrize("case", sorted(SCHOOL_CASES))
def test_bad_school_file_names_the_cell_and_changes_nothing(city, office, case):
    rows, expected = SCHOOL_CASES[case]
    rows = [[city.district_a.code if v == "__district__" else v for v in row] for row in rows]
    before = snapshot()
    result = imports.apply_schools(xlsx(rows), actor=office)
    assert not result.ok
    assert any(expected in m for m in messages_of(result)), messages_of(result)
    assert snapshot() == before
    event = AuditEvent.objects.filter(event_type="org.import").last()
    assert (event.result, event.data["errors"]) == (AuditEvent.Result.FAILURE, result.error_count)


CLASS_CASES = {
    "unknown grade": (
        {"grade": "七年级上"},
        "工作表“班级”第 2 行“年级”列：“七年级上”不是有效的年级（可选：托班、小班",
    ),
    "zero students": ({"count": 0}, "工作表“班级”第 2 行“学生数”列：学生数“0”不合理，应在 1–120 之间"),
    "too many students": ({"count": 121}, "第 2 行“学生数”列：学生数“121”不合理"),
    "non-numeric": ({"count": "四十"}, "第 2 行“学生数”列：“四十”不是有效的数字"),
    "decimal": ({"count": 45.5}, "第 2 行“学生数”列：“45.5”不是整数"),
    "negative": ({"count": -3}, "第 2 行“学生数”列：“-3”不能为负数"),
    "blank count": ({"count": None}, "第 2 行“学生数”列：学生数不能为空"),
    "school name does not match": (
        {"school_name": "西区第二小学"},
        "第 2 行“学校名称”列：学校名称“西区第二小学”与学校代码",
    ),
    "blank class name": ({"name": ""}, "第 2 行“班级名”列：班级名不能为空"),
}


@pytest.mark.parametrize("case", sorted(CLASS_CASES))
def test_bad_class_file_names_the_cell_and_changes_nothing(city, office, case):
    changes, expected = CLASS_CASES[case]
    rows = [class_row(city.school_a, **changes), class_row(city.school_a, name="10班")]
    before = snapshot()
    result = imports.apply_classes(xlsx(rows, header=CLASS_HEADER, sheet="班级"), actor=office)
    assert not result.ok
    assert any(expected in m for m in messages_of(result)), messages_of(result)
    assert snapshot() == before


def test_duplicate_class_within_file(city, office):
    rows = [
        class_row(city.school_a, name="7班"),
        class_row(city.school_b, name="7班"),
        class_row(city.school_a, name=" 7班 ", count=30),
    ]
    before = snapshot()
    result = imports.apply_classes(xlsx(rows, header=CLASS_HEADER, sheet="班级"), actor=office)
    assert messages_of(result) == [
        "工作表“班级”第 4 行“班级名”列：与第 2 行重复（同一学校、同一年级、同一班级名）"
    ]
    assert snapshot() == before


def test_unknown_school_code_in_class_file(city, office):
    rows = [["9999999999", "", "一年级", "1班", "", 40]]
    result = imports.parse_classes(xlsx(rows, header=CLASS_HEADER, sheet="班级"), user=office)
    assert messages_of(result) == [
        "工作表“班级”第 2 行“学校代码”列：学校代码“9999999999”不存在，或您无权导入该学校的班级"
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["学校代码", "学校名称", "办学性质", "所属区县"],
            "工作表“学校”第 1 行：表头缺少必填列：“学校类型”（也可写作：学校类别",
        ),
        (
            ["学校代码", "学校名称", "学校类型", "学校类别", "办学性质"],
            "表头中“学校类型”出现了多次（C 列、D 列）",
        ),
        (["编号", "全称", "类", "性质"], "表头缺少必填列：“学校代码”"),
    ],
)
def test_wrong_or_missing_columns(city, office, header, expected):
    before = snapshot()
    result = imports.apply_schools(
        xlsx([["3499000001", "新学校", "小学", "公办", "东区"]], header=header), actor=office
    )
    assert any(expected in m for m in messages_of(result)), messages_of(result)
    assert snapshot() == before


def test_class_file_missing_student_count_column(city, office):
    data = xlsx([class_row(city.school_a)[:5]], header=CLASS_HEADER[:5], sheet="班级")
    result = imports.parse_classes(data, user=office)
    assert messages_of(result) == [
        "工作表“班级”第 1 行：表头缺少必填列：“学生数”（也可写作：学生人数、班级人数、人数、班级学生数）。"
        "请使用导入模板的表头"
    ]


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def _zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "不是表格")
    return buffer.getvalue()


def _broken_xlsx() -> bytes:
    data = xlsx([school_row()])
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_png(), "文件不是有效的 Excel（.xlsx）文件"),
        ("学校代码,学校名称\n1,一小\n".encode(), "文件不是有效的 Excel（.xlsx）文件"),
        (_zip_of_text(), "文件不是有效的 Excel（.xlsx）文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "旧版 Excel（.xls）"),
        (b"", "文件是空的"),
    ],
    ids=["png", "csv-text", "zip-not-xlsx", "old-xls", "zero-bytes"],
)
def test_files_that_are_not_spreadsheets(city, office, data, expected):
    before = snapshot()
    for apply in (imports.apply_schools, imports.apply_classes):
        result = apply(data, actor=office)
        assert len(result.errors) == 1 and expected in str(result.errors[0])
    assert snapshot() == before


def test_truncated_xlsx_is_refused(city, office):
    result = imports.parse_schools(_broken_xlsx(), user=office)
    assert messages_of(result) == [imports.NOT_XLSX]


def test_empty_sheet_and_header_only_sheet(city, office):
    assert messages_of(imports.parse_schools(xlsx([], header=None), user=office)) == [
        "工作表“学校”：工作表是空的：没有表头，也没有数据"
    ]
    assert messages_of(imports.parse_classes(xlsx([], header=CLASS_HEADER, sheet="班级"), user=office)) == [
        "工作表“班级”：工作表没有数据行：表头下面是空的"
    ]


def test_oversize_file_and_too_many_rows(city, office, settings):
    data = xlsx([school_row(code=f"34990000{i:02d}") for i in range(5)])
    settings.IMPORT_MAX_ROWS = 4
    result = imports.apply_schools(data, actor=office)
    assert messages_of(result) == ["工作表“学校”：数据超过 4 行的上限，请拆分后分批导入"]
    settings.IMPORT_MAX_ROWS = 5
    assert imports.parse_schools(data, user=office).ok
    settings.IMPORT_MAX_BYTES = len(data) - 1
    before = snapshot()
    result = imports.apply_schools(data, actor=office)
    assert "超过了" in messages_of(result)[0] and "上限" in messages_of(result)[0]
    assert snapshot() == before


def test_apply_rechecks_against_the_database(city, office, client):
    """A district renamed between preview and confirmation: the confirmation fails and writes nothing."""
    client.force_login(office)
    response = client.post(
        "/org/import/", {"kind": "schools", "file": upload(xlsx([school_row(district="西区")]))}
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/org/import/{batch.pk}/"
    assert batch.status == ImportBatch.Status.PREVIEWED
    Unit.objects.filter(pk=city.district_b.pk).update(name="西城区")
    before = snapshot()
    response = client.post(f"/org/import/{batch.pk}/apply/", follow=True)
    assert "重新校验发现 1 个问题" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.errors[0]["text"].startswith("工作表“学校”第 2 行“所属区县”列：区县“西区”不存在")
    assert snapshot() == before


# --- the wizard over HTTP -----------------------------------------------------------------------------


def test_wizard_upload_preview_confirm(client, city, office):
    client.force_login(office)
    page = client.get("/org/import/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/org/import/template/schools.xlsx" in html and "/org/import/template/classes.xlsx" in html

    data = xlsx(
        [
            school_row(code=city.school_a.code, name="东区第一小学", enrolment=1250),
            school_row(code="3499000001"),
        ]
    )
    response = client.post("/org/import/", {"kind": "schools", "file": upload(data, "学校名单.xlsx")})
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/org/import/{batch.pk}/"
    assert (batch.kind, batch.uploaded_by, batch.original_name) == ("schools", office, "学校名单.xlsx")
    assert batch.summary["create"] == 1 and batch.summary["update"] == 1

    preview = client.get(f"/org/import/{batch.pk}/").content.decode()
    assert 'data-testid="confirm-import"' in preview
    assert "在校学生数：1200 → 1250" in preview and "东区新建小学" in preview
    assert Unit.objects.filter(code="3499000001").count() == 0

    response = client.post(f"/org/import/{batch.pk}/apply/")
    assert response.status_code == 302
    assert Unit.objects.get(code="3499000001").parent == city.district_a
    city.school_a.refresh_from_db()
    assert city.school_a.enrolment == 1250
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    event = AuditEvent.objects.filter(event_type="org.import").get()
    assert event.actor_id == office.pk and event.result == AuditEvent.Result.SUCCESS
    assert event.object_type == "org.unit"
    assert {k: event.data[k] for k in ("kind", "create", "update", "unchanged", "batch")} == {
        "kind": "schools",
        "create": 1,
        "update": 1,
        "unchanged": 0,
        "batch": batch.pk,
    }

    # A second confirmation (a double click, a replayed form) does nothing.
    response = client.post(f"/org/import/{batch.pk}/apply/", follow=True)
    assert "不能导入" in response.content.decode()
    assert AuditEvent.objects.filter(event_type="org.import").count() == 1


def test_wizard_shows_errors_without_a_confirm_button(client, city, office):
    client.force_login(office)
    before = snapshot()
    data = xlsx([school_row(), school_row(code="3499000002", school_type="小学校", enrolment="abc")])
    client.post("/org/import/", {"kind": "schools", "file": upload(data)})
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED
    html = client.get(f"/org/import/{batch.pk}/").content.decode()
    assert 'data-testid="error-table"' in html and 'data-testid="confirm-import"' not in html
    for text in (
        '<th class="text-nowrap">工作表</th>',
        "“小学校”不是有效的学校类型",
        "“abc”不是有效的数字",
        "发现 <strong>2</strong> 个问题",
    ):
        assert text in html
    response = client.post(f"/org/import/{batch.pk}/apply/")
    assert response.status_code == 302
    assert snapshot() == before


def test_wizard_refuses_a_picture_named_xlsx(client, city, office):
    client.force_login(office)
    client.post("/org/import/", {"kind": "classes", "file": upload(_png(), "班级.xlsx")})
    batch = ImportBatch.objects.get()
    html = client.get(f"/org/import/{batch.pk}/").content.decode()
    assert "文件不是有效的 Excel（.xlsx）文件" in html
    assert 'data-testid="confirm-import"' not in html


def test_wizard_refuses_an_oversize_upload_before_storing_it(client, city, office, settings):
    settings.IMPORT_MAX_BYTES = 1024
    client.force_login(office)
    response = client.post("/org/import/", {"kind": "schools", "file": upload(b"PK\x03\x04" + b"x" * 2000)})
    assert response.status_code == 200
    assert "超过了 1 KB 的上限" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_wizard_requires_a_file(client, city, office):
    client.force_login(office)
    response = client.post("/org/import/", {"kind": "schools"})
    assert "请选择要上传的 Excel 文件" in response.content.decode()


def test_batches_are_private_to_their_uploader(client, city, office):
    client.force_login(office)
    client.post("/org/import/", {"kind": "schools", "file": upload(xlsx([school_row()]))})
    batch = ImportBatch.objects.get()
    client.force_login(city.users[Role.ADMIN])
    assert client.get(f"/org/import/{batch.pk}/").status_code == 404
    assert client.post(f"/org/import/{batch.pk}/apply/").status_code == 404
    assert client.post(f"/org/import/{batch.pk}/discard/").status_code == 404
    assert "东区新建小学" not in client.get("/org/import/").content.decode()
    assert not Unit.objects.filter(code="3499000001").exists()


def test_discard_drops_the_batch_and_its_file(client, city, office):
    client.force_login(office)
    client.post("/org/import/", {"kind": "schools", "file": upload(xlsx([school_row()]))})
    batch = ImportBatch.objects.get()
    storage, name = batch.file.storage, batch.file.name
    assert name.startswith("imports/") and storage.exists(name)
    response = client.post(f"/org/import/{batch.pk}/discard/")
    assert response["Location"] == "/org/import/"
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DISCARDED and not storage.exists(name)
    client.post(f"/org/import/{batch.pk}/apply/")
    assert not Unit.objects.filter(code="3499000001").exists()


# --- who may import what ------------------------------------------------------------------------------


def test_liaison_imports_classes_of_their_own_school_only(client, city, liaison):
    client.force_login(liaison)
    page = client.get("/org/import/").content.decode()
    assert 'data-testid="import-card-classes"' in page and 'data-testid="import-card-schools"' not in page
    assert "可导入的学校：东区第一小学" in page

    foreign = xlsx(
        [class_row(city.school_a, name="8班"), class_row(city.school_c, name="8班")],
        header=CLASS_HEADER,
        sheet="班级",
    )
    client.post("/org/import/", {"kind": "classes", "file": upload(foreign)})
    batch = ImportBatch.objects.get()
    assert [e["text"] for e in batch.errors] == [
        f"工作表“班级”第 3 行“学校代码”列：学校代码“{city.school_c.code}”不存在，或您无权导入该学校的班级"
    ]
    assert not SchoolClass.objects.filter(name="8班").exists()

    own = xlsx([class_row(city.school_a, name="8班")], header=CLASS_HEADER, sheet="班级")
    client.post("/org/import/", {"kind": "classes", "file": upload(own)})
    batch = ImportBatch.objects.latest("pk")
    response = client.post(f"/org/import/{batch.pk}/apply/")
    assert response["Location"] == "/org/classes/"
    assert SchoolClass.objects.get(name="8班").school == city.school_a


def test_liaison_cannot_import_schools(client, city, liaison):
    client.force_login(liaison)
    before = snapshot()
    response = client.post("/org/import/", {"kind": "schools", "file": upload(xlsx([school_row()]))})
    assert response.status_code == 403
    assert ImportBatch.objects.count() == 0
    with pytest.raises(PermissionDenied):
        imports.apply_schools(xlsx([school_row()]), actor=liaison)
    with pytest.raises(PermissionDenied):
        imports.parse_schools(xlsx([school_row()]), user=liaison)
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.LEADER, Role.INSPECTOR, Role.ARCHIVIST, Role.TEACHER])
def test_roles_without_import_rights_get_403(client, city, role):
    client.force_login(city.users[role])
    assert client.get("/org/import/").status_code == 403
    assert client.post("/org/import/", {"kind": "classes", "file": upload(xlsx([]))}).status_code == 403
    with pytest.raises(PermissionDenied):
        imports.apply_classes(xlsx([]), actor=city.users[role])


# --- speed: a bounded number of queries -----------------------------------------------------------------


def test_applying_200_schools_takes_a_constant_number_of_queries(city, office, django_assert_max_num_queries):
    rows = [
        school_row(code=f"35{i:08d}", name=f"新建第{i}小学", district=("东区", "西区", "")[i % 3])
        for i in range(190)
    ]
    rows += [school_row(code=u.code, name=u.name + "（更名）") for u in (city.school_a, city.school_b)]
    rows += [school_row(code=f"36{i:08d}", name=f"新建第{i}幼儿园", school_type="幼儿园") for i in range(8)]
    data = xlsx(rows)
    with django_assert_max_num_queries(30):
        result = imports.apply_schools(data, actor=office)
    assert result.ok, messages_of(result)[:3]
    assert result.counts["create"] == 198 and result.counts["update"] == 2
    assert all(u.path == u.expected_path() for u in Unit.objects.select_related("parent"))


def test_applying_1000_classes_takes_a_constant_number_of_queries(
    city, office, django_assert_max_num_queries
):
    schools = [city.school_a, city.school_b, city.school_c]
    rows = [
        class_row(schools[i % 3], grade=Grade(11 + i % 6).label, name=f"{i}班", count=30 + i % 40)
        for i in range(1000)
    ]
    with django_assert_max_num_queries(30):
        result = imports.apply_classes(xlsx(rows, header=CLASS_HEADER, sheet="班级"), actor=office)
    assert result.ok, messages_of(result)[:3]
    assert SchoolClass.objects.count() == 6 + 1000


@pytest.mark.parametrize("fast", [True, False])
def test_class_updates_are_written_on_either_update_path(city, office, monkeypatch, fast):
    """UPDATE ... FROM (VALUES) where the database has it, bulk_update() elsewhere: the same result."""
    from chuangwen.org.imports import classes

    if not fast:
        monkeypatch.setattr(classes, "_update_from_values_supported", lambda: False)
    old = SchoolClass.objects.get(school=city.school_a, name="2班")
    data = xlsx(
        [
            class_row(city.school_a, name="2班", count=40, teacher="赵老师"),
            class_row(city.school_b, name="1班"),
        ],
        header=CLASS_HEADER,
        sheet="班级",
    )
    result = imports.apply_classes(data, actor=office)
    assert result.counts == {"total": 2, "create": 0, "update": 2, "unchanged": 0}
    new = SchoolClass.objects.get(pk=old.pk)
    assert (new.student_count, new.head_teacher_name, new.grade) == (40, "赵老师", Grade.G1)
    assert new.updated_at > old.updated_at
    assert SchoolClass.objects.get(school=city.school_b, name="1班").student_count == 42
    untouched = SchoolClass.objects.get(school=city.school_c, name="2班")
    assert (untouched.student_count, untouched.head_teacher_name) == (58, "王老师")


def test_a_zip_bomb_is_refused_before_parsing(city, office, settings):
    settings.IMPORT_MAX_BYTES = 100_000
    buffer = io.BytesIO(xlsx([school_row()]))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * 3_000_000)
    data = buffer.getvalue()
    assert len(data) < settings.IMPORT_MAX_BYTES
    result = imports.parse_schools(data, user=office)
    assert messages_of(result) == ["文件解压后过大，不是正常的导入表格，请检查后重新上传"]


def test_a_batch_whose_file_is_gone_cannot_be_applied(client, city, office):
    client.force_login(office)
    client.post("/org/import/", {"kind": "schools", "file": upload(xlsx([school_row()]))})
    batch = ImportBatch.objects.get()
    batch.file.storage.delete(batch.file.name)
    response = client.post(f"/org/import/{batch.pk}/apply/", follow=True)
    assert "找不到该批次上传的文件，请重新上传" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED
    assert not Unit.objects.filter(code="3499000001").exists()


def test_a_user_who_lost_the_right_to_import_cannot_confirm(client, city, liaison):
    client.force_login(liaison)
    client.post(
        "/org/import/",
        {
            "kind": "classes",
            "file": upload(xlsx([class_row(city.school_a, name="8班")], header=CLASS_HEADER, sheet="班级")),
        },
    )
    batch = ImportBatch.objects.get()
    liaison.memberships.update(role=Role.TEACHER)
    assert client.get(f"/org/import/{batch.pk}/").status_code == 403
    assert client.post(f"/org/import/{batch.pk}/apply/").status_code == 403
    assert not SchoolClass.objects.filter(name="8班").exists()
