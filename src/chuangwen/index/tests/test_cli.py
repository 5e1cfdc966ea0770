"""`chuangwen index import|export`: exit codes, errors in Chinese on stderr, --dry-run writes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from chuangwen.core.models import AuditEvent
from chuangwen.index import imports
from chuangwen.index.models import Edition, Standard

from .test_import_excel import counts, real_table, workbook
from .test_import_yaml import DOC


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("index", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_excel_with_name_and_code(db, tmp_path):
    path = tmp_path / "任务分解表.xlsx"
    path.write_bytes(real_table())
    out, _ = run("import", str(path), "--name", "2026版", "--code", "city-2026")
    edition = Edition.objects.get(code="city-2026")
    assert edition.name == "2026版" and edition.status == Edition.Status.DRAFT
    assert Standard.objects.filter(edition=edition).count() == 5
    assert "测评标准 5 条，总分 10 分" in out
    assert AuditEvent.objects.filter(event_type="index.import", object_id=str(edition.pk)).exists()


def test_dry_run_writes_nothing(db, tmp_path):
    path = tmp_path / "ref.yaml"
    path.write_text(DOC, encoding="utf-8")
    before = counts()
    out, _ = run("import", str(path), "--dry-run")
    assert counts() == before
    assert "校验通过（未写入）" in out and "ref-2026" in out


def test_yaml_takes_name_and_code_from_the_file_unless_overridden(db, tmp_path):
    path = tmp_path / "ref.yml"
    path.write_text(DOC, encoding="utf-8")
    run("import", str(path))
    assert Edition.objects.get(code="ref-2026").name == "教育系统创文测评参考指标"
    run("import", str(path), "--code", "ref-copy", "--name", "副本")
    assert Edition.objects.filter(code="ref-copy", name="副本").exists()
    # Importing the same file again: the name and code are taken.
    with pytest.raises(CommandError) as exc:
        run("import", str(path))
    assert exc.value.returncode == 2


def test_a_bad_file_exits_non_zero_with_the_errors_in_chinese(db, tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(workbook([["校园环境", "公益广告", "标准", "两分", "实地考察", "", "", ""]]))
    before = counts()
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("index", "import", str(path), "--code", "bad", stderr=err)
    assert exc.value.returncode == 2
    assert "没有写入任何数据" in str(exc.value)
    assert "第 2 行“分值”列：“两分”不是有效的分值" in err.getvalue()
    assert counts() == before


def test_import_refuses_other_files(db, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(CommandError, match="无法识别的文件类型"):
        run("import", str(path))
    with pytest.raises(CommandError, match="无法读取文件"):
        run("import", str(tmp_path / "missing.xlsx"))
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a zip")
    with pytest.raises(CommandError):
        run("import", str(fake), "--code", "x")


def test_export_yaml_to_stdout_and_file_and_xlsx(db, tmp_path, monkeypatch):
    edition = imports.edition_import(result=imports.parse_yaml(DOC.encode()), name="参考", code="ref")
    out, _ = run("export", "ref", "--format", "yaml")
    assert out == DOC.replace("教育系统创文测评参考指标", "参考", 1).replace("ref-2026", "ref", 1)
    target = tmp_path / "out.yaml"
    run("export", str(edition.pk), "--format", "yaml", "-o", str(target))
    assert target.read_bytes() == out.encode("utf-8")
    monkeypatch.chdir(tmp_path)
    out, _ = run("export", "ref", "--format", "xlsx")
    assert (tmp_path / "ref.xlsx").exists() and "ref.xlsx" in out
    again = imports.parse_excel((tmp_path / "ref.xlsx").read_bytes())
    assert again.ok and again.counts()["standards"] == 4
    assert AuditEvent.objects.filter(event_type="index.export").count() == 3


def test_export_of_an_unknown_edition_fails(db):
    with pytest.raises(CommandError, match="找不到代码或编号为“nope”的版本"):
        run("export", "nope", "--format", "yaml")
