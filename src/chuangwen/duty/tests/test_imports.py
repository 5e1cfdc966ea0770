"""Assignment by Excel: a clean file applies; every malformed one is named precisely and changes nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.duty import imports
from chuangwen.duty.models import AssignmentUpload, SchoolAssignment
from chuangwen.org.models import Unit

from .factories import build_edition

HEADER = ["学校代码", "学校名称", "标准编号", "责任人用户名", "分管领导用户名"]


def xlsx(rows, header=HEADER) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "责任分工"
    if header:
        ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def snapshot():
    return list(
        SchoolAssignment.objects.order_by("pk").values_list(
            "pk", "school_id", "standard_id", "owner_id", "leader_id"
        )
    )


@pytest.fixture
def edition(city):
    return build_edition(
        projects=1,
        standards_per_project=3,
        types=lambda i: [[Unit.SchoolType.PRIMARY], [Unit.SchoolType.PRIMARY], [Unit.SchoolType.JUNIOR]][i],
    )


def good_rows(city):
    a = city.school_a
    return [
        [a.code, a.name, "1.1.1", "liaison_user", "school_head_user"],
        [a.code, "", "1.1.2", "teacher_user", None],
        [city.school_c.code, city.school_c.name, "1.1.1", "outsider", ""],
    ]


def test_clean_file_applies_and_updates(city, edition):
    office = city.users[Role.OFFICE]
    result = imports.apply(xlsx(good_rows(city)), edition=edition, actor=office)
    assert result.ok, [str(e) for e in result.errors]
    assert result.counts() == {"total": 3, "新增": 3, "更新": 0, "无变化": 0}
    a = SchoolAssignment.objects.get(school=city.school_a, standard__code="1.1.1")
    assert a.owner == city.users[Role.LIAISON] and a.leader == city.users[Role.SCHOOL_HEAD]
    rows = good_rows(city)
    rows[0][3] = "archivist_user"
    result = imports.apply(xlsx(rows), edition=edition, actor=office)
    assert result.counts() == {"total": 3, "新增": 0, "更新": 1, "无变化": 2}
    a.refresh_from_db()
    assert a.owner == city.users[Role.ARCHIVIST]
    assert AuditEvent.objects.filter(event_type="duty.import").count() == 2


BAD_CASES = {
    "unknown school": (lambda c: [["9999999999", "", "1.1.1", "liaison_user", ""]], 2, "学校代码", "不存在"),
    "name mismatch": (
        lambda c: [[c.school_a.code, "别的学校", "1.1.1", "liaison_user", ""]],
        2,
        "学校名称",
        "不一致",
    ),
    "unknown standard": (
        lambda c: [[c.school_a.code, "", "9.9.9", "liaison_user", ""]],
        2,
        "标准编号",
        "不存在",
    ),
    "not applicable": (
        lambda c: [[c.school_a.code, "", "1.1.3", "liaison_user", ""]],
        2,
        "标准编号",
        "不适用",
    ),
    "unknown owner": (lambda c: [[c.school_a.code, "", "1.1.1", "nobody", ""]], 2, "责任人用户名", "不存在"),
    "owner of another school": (
        lambda c: [[c.school_a.code, "", "1.1.1", "outsider", ""]],
        2,
        "责任人用户名",
        "不是",
    ),
    "leader of another school": (
        lambda c: [[c.school_a.code, "", "1.1.1", "liaison_user", "outsider"]],
        2,
        "分管领导用户名",
        "不是",
    ),
    "empty owner": (lambda c: [[c.school_a.code, "", "1.1.1", "", ""]], 2, "责任人用户名", "不能为空"),
    "duplicate pair": (
        lambda c: [
            [c.school_a.code, "", "1.1.1", "liaison_user", ""],
            [c.school_a.code, "", "1.1.1", "teacher_user", ""],
        ],
        2,
        "标准编号",
        "重复",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_malformed_rows_change_nothing(city, edition, case):
    build, row, column, words = BAD_CASES[case]
    office = city.users[Role.OFFICE]
    assert imports.apply(xlsx(good_rows(city)), edition=edition, actor=office).ok
    before = snapshot()
    rows = good_rows(city)
    rows[0][3] = "archivist_user"  # a valid change, which must not be applied either
    result = imports.apply(xlsx([*rows, *build(city)]), edition=edition, actor=office)
    assert not result.ok
    issue = result.errors[0]
    assert (issue.row, issue.column) == (row + 3, column), str(issue)
    assert words in issue.message
    assert "第" in str(issue) and "责任分工" in str(issue)
    assert snapshot() == before
    assert AuditEvent.objects.filter(event_type="duty.import").count() == 1


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "空的"),
        (b"not a spreadsheet at all", "不是有效的 Excel"),
        (xlsx([], header=["学校", "备注"]), "缺少必填列"),
        (xlsx([]), "没有数据行"),
    ],
)
def test_unreadable_files_are_rejected(city, edition, data, words):
    result = imports.apply(data, edition=edition, actor=city.users[Role.OFFICE])
    assert not result.ok and words in str(result.errors[0])
    assert not SchoolAssignment.objects.exists()


def test_liaison_cannot_import(city, edition):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        imports.apply(xlsx(good_rows(city)), edition=edition, actor=city.users[Role.LIAISON])


def test_wizard_upload_preview_apply(client, city, edition):
    client.force_login(city.users[Role.OFFICE])
    template = client.get(f"/duty/import/template.xlsx?edition={edition.pk}")
    assert template.status_code == 200
    header = next(openpyxl.load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True))
    assert list(header) == HEADER

    bad = SimpleUploadedFile("bad.xlsx", xlsx([[city.school_a.code, "", "1.1.3", "liaison_user", ""]]))
    response = client.post(f"/duty/import/?edition={edition.pk}", {"file": bad, "edition": edition.pk})
    assert response.status_code == 302
    batch = AssignmentUpload.objects.get()
    assert batch.status == "failed"
    page = client.get(response["Location"])
    assert "不适用" in page.content.decode() and "确认导入" not in page.content.decode()
    assert client.post(f"/duty/import/{batch.pk}/apply/").status_code == 302
    assert not SchoolAssignment.objects.exists()

    good = SimpleUploadedFile("good.xlsx", xlsx(good_rows(city)))
    response = client.post("/duty/import/", {"file": good, "edition": edition.pk})
    batch = AssignmentUpload.objects.filter(status="previewed").get()
    page = client.get(response["Location"]).content.decode()
    assert "确认导入" in page and "新增 3" in page
    assert not SchoolAssignment.objects.exists()  # a preview writes nothing
    response = client.post(f"/duty/import/{batch.pk}/apply/")
    assert response.status_code == 302 and "/duty/coverage/" in response["Location"]
    assert SchoolAssignment.objects.count() == 3
    batch.refresh_from_db()
    assert batch.status == "applied"
    # Another office user cannot see or apply this batch.
    from chuangwen.org.tests.factories import MembershipFactory, UserFactory

    other = UserFactory()
    MembershipFactory(user=other, unit=city.bureau, role=Role.OFFICE)
    client.force_login(other)
    assert client.get(f"/duty/import/{batch.pk}/").status_code == 404


def test_a_batch_whose_file_is_gone_cannot_be_applied(client, city, edition):
    client.force_login(city.users[Role.OFFICE])
    client.post(
        "/duty/import/", {"file": SimpleUploadedFile("a.xlsx", xlsx(good_rows(city))), "edition": edition.pk}
    )
    batch = AssignmentUpload.objects.get()
    batch.file.storage.delete(batch.file.name)
    response = client.post(f"/duty/import/{batch.pk}/apply/", follow=True)
    assert "找不到该批次上传的文件，请重新上传" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == AssignmentUpload.Status.PREVIEWED
    assert not SchoolAssignment.objects.exists()
