"""Excel exports of schools and classes: scoping, filters, file names, audit, and re-import."""

from __future__ import annotations

import io
from urllib.parse import quote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.org import imports
from chuangwen.org.models import ImportBatch, SchoolClass, Unit


def sheet_rows(response, sheet: str) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"] == imports.XLSX_CONTENT_TYPE
    wb = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
    wb.close()
    return rows


def codes(rows) -> set[str]:
    return {r[0] for r in rows[1:]}


@pytest.mark.parametrize("role", [Role.LIAISON, Role.SCHOOL_HEAD, Role.TEACHER, Role.ARCHIVIST])
def test_school_users_export_only_their_own_school_and_classes(client, city, role):
    client.force_login(city.users[role])
    schools = sheet_rows(client.get("/org/schools/export.xlsx"), "学校")
    assert codes(schools) == {city.school_a.code}
    classes = sheet_rows(client.get("/org/classes/export.xlsx"), "班级")
    assert codes(classes) == {city.school_a.code}
    assert len(classes) == 1 + 2


def test_outsider_cannot_export_another_schools_classes(client, city):
    client.force_login(city.outsider)
    assert client.get(f"/org/classes/export.xlsx?school={city.school_a.pk}").status_code == 404
    assert client.get("/org/classes/export.xlsx?school=abc").status_code == 404
    assert codes(sheet_rows(client.get("/org/schools/export.xlsx"), "学校")) == {city.school_c.code}


def test_anonymous_export_redirects_to_login(client, city):
    response = client.get("/org/schools/export.xlsx")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_school_export_honours_the_list_filters(client, city):
    client.force_login(city.users[Role.OFFICE])
    everything = sheet_rows(client.get("/org/schools/export.xlsx"), "学校")
    assert everything[0] == (
        "学校代码",
        "学校名称",
        "学校类型",
        "办学性质",
        "所属区县",
        "地址",
        "在校学生数",
        "教职工数",
    )
    assert codes(everything) == {city.school_a.code, city.school_b.code, city.school_c.code}
    by_code = {r[0]: r for r in everything[1:]}
    assert by_code[city.school_b.code][1:] == (
        "东区实验初级中学",
        "初中",
        "公办",
        "东区",
        "测试路1号",
        1200,
        80,
    )

    def exported(query: str) -> set[str]:
        return codes(sheet_rows(client.get(f"/org/schools/export.xlsx?{query}"), "学校"))

    assert exported("school_type=junior") == {city.school_b.code}
    assert exported(f"district={city.district_b.pk}") == {city.school_c.code}
    assert exported("q=实验") == {city.school_b.code}
    assert exported("ownership=private") == set()
    assert exported("kind=school&page=2&school_type=primary") == {city.school_a.code, city.school_c.code}


def test_class_export_honours_school_and_size_filters(client, city):
    client.force_login(city.users[Role.OFFICE])
    rows = sheet_rows(client.get(f"/org/classes/export.xlsx?school={city.school_b.pk}"), "班级")
    assert rows[0] == ("学校代码", "学校名称", "年级", "班级名", "班主任", "学生数", "班额情况")
    assert rows[1:] == [
        (city.school_b.code, "东区实验初级中学", "一年级", "1班", "王老师", 45, None),
        (city.school_b.code, "东区实验初级中学", "一年级", "2班", "王老师", 58, "大班额"),
    ]
    large = sheet_rows(client.get("/org/classes/export.xlsx?size=large"), "班级")
    assert {(r[0], r[3]) for r in large[1:]} == {
        (s.code, "2班") for s in (city.school_a, city.school_b, city.school_c)
    }


def test_export_file_names_are_chinese_with_an_ascii_fallback(client, city):
    client.force_login(city.users[Role.OFFICE])
    today = timezone.localdate().strftime("%Y%m%d")
    response = client.get("/org/schools/export.xlsx")
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"schools-{today}.xlsx\"; filename*=UTF-8''{quote(f'学校名单_{today}.xlsx')}"
    )
    assert response["Cache-Control"] == "no-store"
    response = client.get(f"/org/classes/export.xlsx?school={city.school_a.pk}")
    assert response["Content-Disposition"].endswith(
        f"filename*=UTF-8''{quote(f'东区第一小学_班级名单_{today}.xlsx')}"
    )


def test_exports_are_audited(client, city):
    office = city.users[Role.OFFICE]
    client.force_login(office)
    client.get("/org/schools/export.xlsx?school_type=primary")
    client.get("/org/classes/export.xlsx")
    events = list(AuditEvent.objects.filter(event_type="org.export").order_by("seq"))
    assert [(e.actor_id, e.object_type, e.data["kind"], e.data["rows"]) for e in events] == [
        (office.pk, "org.unit", "schools", 2),
        (office.pk, "org.schoolclass", "classes", 6),
    ]
    assert events[0].data["filters"] == {"school_type": "primary"}
    assert events[0].actor_role == "创文办"


def test_an_export_uploaded_through_the_wizard_changes_nothing(client, city):
    client.force_login(city.users[Role.OFFICE])
    for kind, url in (("schools", "/org/schools/export.xlsx"), ("classes", "/org/classes/export.xlsx")):
        exported = client.get(url).content
        upload = SimpleUploadedFile("导出.xlsx", exported, content_type=imports.XLSX_CONTENT_TYPE)
        response = client.post("/org/import/", {"kind": kind, "file": upload})
        batch = ImportBatch.objects.latest("pk")
        assert response["Location"] == f"/org/import/{batch.pk}/"
        assert batch.errors == []
        unchanged = 3 if kind == "schools" else 6
        assert (batch.summary["create"], batch.summary["update"], batch.summary["unchanged"]) == (
            0,
            0,
            unchanged,
        )


def test_export_functions_take_any_scoped_queryset(city):
    data = imports.export_schools(Unit.objects.filter(pk=city.school_c.pk), actor=None)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["学校", "填写说明"]
    assert [c.value for c in wb["学校"][2]][:5] == [
        city.school_c.code,
        "西区第二小学",
        "小学",
        "公办",
        "西区",
    ]
    data = imports.export_classes(SchoolClass.objects.none())
    assert openpyxl.load_workbook(io.BytesIO(data))["班级"].max_row == 1
