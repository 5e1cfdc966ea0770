"""The import wizard and the downloads, through the test client."""

from __future__ import annotations

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile

from chuangwen.core.roles import Role
from chuangwen.index import imports
from chuangwen.index.models import Edition, IndexImportBatch, Standard

from .test_import_excel import counts, real_table, workbook
from .test_import_yaml import DOC


def _upload(client, *, fmt="xlsx", data=None, name="表.xlsx", edition_name="2026版", code="city-2026"):
    return client.post(
        "/index/import/",
        {
            "fmt": fmt,
            "file": SimpleUploadedFile(name, real_table() if data is None else data),
            "name": edition_name,
            "code": code,
        },
    )


def test_office_uploads_previews_and_confirms(client, city):
    client.force_login(city.users[Role.OFFICE])
    assert client.get("/index/import/").status_code == 200
    response = _upload(client)
    assert response.status_code == 302
    batch = IndexImportBatch.objects.get()
    assert response["Location"] == f"/index/import/{batch.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "确认导入为草稿版本" in page and "测评标准" in page and "一、校园环境" in page
    assert counts()[0] == 0
    response = client.post(f"/index/import/{batch.pk}/apply/")
    edition = Edition.objects.get(code="city-2026")
    assert response.status_code == 302 and response["Location"] == f"/index/editions/{edition.pk}/"
    assert edition.status == Edition.Status.DRAFT and Standard.objects.filter(edition=edition).count() == 5
    # Confirming twice does not import twice.
    client.post(f"/index/import/{batch.pk}/apply/")
    assert Edition.objects.count() == 1


def test_yaml_upload_takes_name_and_code_from_the_file(client, city):
    client.force_login(city.users[Role.ADMIN])
    response = _upload(client, fmt="yaml", data=DOC.encode(), name="ref.yaml", edition_name="", code="")
    batch = IndexImportBatch.objects.get()
    assert response.status_code == 302 and (batch.name, batch.code) == (
        "教育系统创文测评参考指标",
        "ref-2026",
    )
    client.post(f"/index/import/{batch.pk}/apply/")
    assert Edition.objects.filter(code="ref-2026").exists()


def test_a_bad_file_shows_the_error_table_and_cannot_be_confirmed(client, city):
    client.force_login(city.users[Role.OFFICE])
    bad = workbook([["校园环境", "公益广告", "标准", "x", "实地考察", "", "", ""]])
    _upload(client, data=bad)
    batch = IndexImportBatch.objects.get()
    assert batch.status == IndexImportBatch.Status.FAILED
    page = client.get(f"/index/import/{batch.pk}/").content.decode()
    assert 'data-testid="error-table"' in page and "“x”不是有效的分值" in page and "确认导入" not in page
    client.post(f"/index/import/{batch.pk}/apply/")
    assert counts() == (0, 0, 0)
    response = client.post(f"/index/import/{batch.pk}/discard/")
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == IndexImportBatch.Status.DISCARDED


def test_form_errors(client, city):
    client.force_login(city.users[Role.OFFICE])
    response = _upload(client, edition_name="", code="")
    assert "导入 Excel 时请填写新版本的名称和代码" in response.content.decode()
    response = _upload(client, fmt="yaml")
    assert "文件扩展名与所选格式不符" in response.content.decode()
    assert not IndexImportBatch.objects.exists()


def test_a_school_liaison_is_refused(client, city):
    client.force_login(city.users[Role.LIAISON])
    edition = imports.edition_import(result=imports.parse_yaml(DOC.encode()), name="参考", code="ref")
    for url in ("/index/import/", "/index/import/template.xlsx", f"/index/import/export/{edition.pk}.yaml"):
        assert client.get(url).status_code == 403
    assert _upload(client).status_code == 403
    assert not IndexImportBatch.objects.exists()


def test_another_users_batch_is_not_found(client, city):
    client.force_login(city.users[Role.OFFICE])
    _upload(client)
    batch = IndexImportBatch.objects.get()
    client.force_login(city.users[Role.ADMIN])
    assert client.get(f"/index/import/{batch.pk}/").status_code == 404
    assert client.post(f"/index/import/{batch.pk}/apply/").status_code == 404


def test_template_and_published_edition_downloads(client, city):
    client.force_login(city.users[Role.OFFICE])
    response = client.get("/index/import/template.xlsx")
    assert response.status_code == 200 and "index-template.xlsx" in response["Content-Disposition"]
    assert "填写说明" in openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames
    edition = imports.edition_import(result=imports.parse_yaml(DOC.encode()), name="参考", code="ref")
    Edition.objects.filter(pk=edition.pk).update(status=Edition.Status.PUBLISHED)
    response = client.get(f"/index/import/export/{edition.pk}.yaml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/yaml")
    assert response.content.decode() == imports.export_yaml(edition)
    response = client.get(f"/index/import/export/{edition.pk}.xlsx")
    assert response.status_code == 200 and 'filename="ref.xlsx"' in response["Content-Disposition"]
    assert imports.parse_excel(response.content).counts()["standards"] == 4
    assert client.get("/index/import/export/999999.yaml").status_code == 404
