"""Excel import of editions: the task-table layout (merged cells, repeats, blanks), every malformed input
named by sheet/row/column in Chinese, all or nothing, and the template and export round trips."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest

from chuangwen.core.models import AuditEvent
from chuangwen.index import imports
from chuangwen.index.models import Edition, Group, IndexImportBatch, Method, Standard
from chuangwen.org.imports.workbook import NOT_XLSX

HEADER = ["测评项目", "测评内容", "测评标准", "分值", "测评方法", "材料要求", "责任单位", "适用学校类型"]


def workbook(rows, *, header=HEADER, merges=(), title_rows=(), sheet="任务分解表") -> bytes:
    """A workbook as people make them: optional title rows, the header, the rows, merged ranges."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in title_rows:
        ws.append(list(row))
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    for cell_range in merges:
        ws.merge_cells(cell_range)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def counts():
    return (Edition.objects.count(), Group.objects.count(), Standard.objects.count())


def do_import(data: bytes, *, name="测试版本", code="test-2026", actor=None):
    result = imports.parse_excel(data)
    edition = imports.edition_import(result=result, name=name, code=code, actor=actor)
    return result, edition


# A real-style table: a title row, merged 测评项目/测评内容, a 小计 row, methods and types written loosely.
REAL_ROWS = [
    [
        "一、校园环境（5分）",
        "公益广告",
        "校门口50米内公益广告不少于3处",
        2,
        "实地考察",
        "实景图片",
        "德育科",
        "全部",
    ],
    [None, None, "食堂有“光盘行动”提示", 1, "实地考察、网上申报", "实景图片、方案", "后勤科", "中小学"],
    [None, "校园秩序", "校园无烟头、无乱扔垃圾", 2, "实地考察/问卷调查", "", "德育科、团委", "小学，初中"],
    [
        "二、家校共育",
        "家长学校",
        "成立家长委员会，办好家长学校",
        3.5,
        "材料审核\n问卷调查",
        "方案、总结、活动图片",
        "",
        "",
    ],
    [None, None, "每学期家访覆盖率达100%", 1.5, "材料审核", "台账", "", "幼儿园"],
    [None, "小计", None, 5, None, None, None, None],
]
REAL_MERGES = ["A3:A5", "B3:B4", "A6:A8", "B6:B7"]  # rows 3.. (title row 1, header row 2)


def real_table() -> bytes:
    return workbook(REAL_ROWS, merges=REAL_MERGES, title_rows=[["XX市教育系统创文测评任务分解表"]])


def test_real_style_table_with_merged_cells_imports_the_tree(city):
    result, edition = do_import(real_table(), actor=city.users["office"])
    assert result.ok, [str(i) for i in result.errors]
    assert edition.status == Edition.Status.DRAFT
    projects = list(Group.objects.filter(edition=edition, depth=1).order_by("position"))
    assert [(g.code, g.title) for g in projects] == [("1", "一、校园环境"), ("2", "二、家校共育")]
    contents = list(Group.objects.filter(edition=edition, depth=2).order_by("position"))
    assert [(g.code, g.title, g.parent.title) for g in contents] == [
        ("1.1", "公益广告", "一、校园环境"),
        ("1.2", "校园秩序", "一、校园环境"),
        ("2.1", "家长学校", "二、家校共育"),
    ]
    standards = list(Standard.objects.filter(edition=edition).order_by("position"))
    assert [s.code for s in standards] == ["1.1.1", "1.1.2", "1.2.1", "2.1.1", "2.1.2"]
    assert [s.points for s in standards] == [
        Decimal(2),
        Decimal(1),
        Decimal(2),
        Decimal("3.5"),
        Decimal("1.5"),
    ]
    assert standards[1].methods == [Method.SITE, Method.DOCUMENT]
    assert standards[2].methods == [Method.SITE, Method.SURVEY]
    assert standards[3].methods == [Method.DOCUMENT, Method.SURVEY]
    assert standards[0].school_types == [
        "kindergarten", "primary", "junior", "nine_year", "senior", "complete", "vocational", "special"
    ]  # fmt: skip
    assert standards[1].school_types == ["primary", "junior", "nine_year", "senior", "complete"]
    assert standards[2].school_types == ["primary", "junior"]
    assert standards[3].school_types == standards[0].school_types  # blank means every type
    assert standards[4].school_types == ["kindergarten"]
    assert standards[1].materials == ["实景图片", "方案"]
    # 责任单位: matched to the department by name (also the first matching part), the text kept either way.
    assert standards[0].lead_department == city.office_dept
    assert standards[2].lead_department == city.office_dept
    assert standards[2].responsible_text == "德育科、团委"
    assert standards[1].lead_department is None
    assert standards[1].responsible_text == "后勤科"
    event = AuditEvent.objects.filter(event_type="index.import").latest("pk")
    assert event.data["standards"] == 5


def test_repeated_values_blank_means_same_and_header_tolerance(db):
    header = [
        "序号",
        "测评 内容",
        "测评项目",
        "测评标准（指标要求）",
        "分 值",
        "测评方式",
        "适用范围",
        "编号",
    ]
    rows = [
        [1, "公益广告", "校园环境", "标准甲", "2", "实地考察", "全部学校", "A-1"],
        [2, "公益广告", "校园环境", "标准乙", "1", "实地考察", "高中", "A-2"],
        [3, None, None, "标准丙", "1", "实地考察", "", "A-3"],
        [4, "宣传", "校园环境", "标准丁", "0.5", "问卷", "职业学校", ""],
        [5, "", "思想道德", "标准戊", "1", "整体观察", "特殊教育", ""],
    ]
    result, edition = do_import(workbook(rows, header=header))
    assert result.ok, [str(i) for i in result.errors]
    tree = imports.edition_data(edition)
    assert [g.title for g in tree.groups] == ["校园环境", "思想道德"]
    assert [g.title for g in tree.groups[0].groups] == ["公益广告", "宣传"]
    assert [s.code for s in tree.groups[0].groups[0].standards] == ["A-1", "A-2", "A-3"]
    assert [s.code for s in tree.groups[0].groups[1].standards] == ["1.2.1"]
    # A standard directly under a project (no 测评内容) keeps a positional code.
    assert tree.groups[1].groups == []
    assert [s.code for s in tree.groups[1].standards] == ["2.1"]
    assert tree.groups[1].standards[0].methods == [Method.OBSERVATION]


def test_third_level_and_optional_columns(db):
    header = [*HEADER[:2], "测评子项", *HEADER[2:], "检查方法", "评分方式", "负面清单"]
    rows = [
        ["环境", "校门", "公益广告", "广告不少于3处", 2, "实地考察", "", "", "全部", "步行50米清点", "", ""],
        [
            None,
            None,
            "无摊贩",
            "校园周边200米无无证摊贩",
            2,
            "实地考察",
            "",
            "",
            "全部",
            "",
            "按次扣分：每次0.5分，最多2分",
            "",
        ],
        [
            None,
            "课堂",
            None,
            "每间教室张贴核心价值观",
            1,
            "实地考察",
            "",
            "",
            "全部",
            "",
            "合格/不合格",
            "是",
        ],
        [
            "安全",
            "安全",
            None,
            "无校园霸凌事件",
            5,
            "材料审核",
            "",
            "",
            "全部",
            "",
            "达标1/基本达标0.5/不达标0",
            "是",
        ],
    ]
    result, edition = do_import(workbook(rows, header=header, merges=["A2:A4", "B2:B3"]))
    assert result.ok, [str(i) for i in result.errors]
    assert Group.objects.filter(edition=edition, depth=3).count() == 2
    s = {s.code: s for s in Standard.objects.filter(edition=edition)}
    assert set(s) == {"1.1.1.1", "1.1.2.1", "1.2.1", "2.1.1"}
    assert s["1.1.1.1"].check_protocol == "步行50米清点"
    assert (s["1.1.2.1"].scoring_kind, s["1.1.2.1"].scoring_params) == ("deduction", {"per": 0.5, "cap": 2})
    assert (s["1.2.1"].scoring_kind, s["1.2.1"].negative_list) == ("pass_fail", True)
    assert s["2.1.1"].scoring_params == {"达标": 1, "基本达标": 0.5, "不达标": 0}


def _row(**changes):
    row = ["校园环境", "公益广告", "广告不少于3处", 2, "实地考察", "实景图片", "德育科", "全部"]
    for index, value in changes.items():
        row[int(index[1:])] = value
    return row


MALFORMED = {
    "missing column": (
        lambda: workbook([_row()], header=["测评项目", "测评内容", "测评标准", "测评方法"]),
        ("任务分解表", 1, ""),
        "表头缺少必填列：“分值”",
    ),
    "non-numeric points": (
        lambda: workbook([_row(), _row(c3="两分")]),
        ("任务分解表", 3, "分值"),
        "“两分”不是有效的分值",
    ),
    "three decimals": (lambda: workbook([_row(c3=1.125)]), ("任务分解表", 2, "分值"), "最多保留两位小数"),
    "negative points": (lambda: workbook([_row(c3=-1)]), ("任务分解表", 2, "分值"), "不能为负数"),
    "unknown method": (
        lambda: workbook([_row(c4="实地考察、电话抽查")]),
        ("任务分解表", 2, "测评方法"),
        "未知的测评方法“电话抽查”",
    ),
    "unknown school type": (
        lambda: workbook([_row(c7="小学、大学")]),
        ("任务分解表", 2, "适用学校类型"),
        "未知的学校类型“大学”",
    ),
    "duplicate codes": (
        lambda: workbook([[*_row(), "1.1"], [*_row(), "1.1"]], header=[*HEADER, "编号"]),
        ("任务分解表", 3, "编号"),
        "编号“1.1”重复（与工作表“任务分解表”第 2 行“编号”列重复）",
    ),
    "sub-total disagrees": (
        lambda: workbook([_row(), _row(c2="另一条"), ["小计", None, None, 10, None, None, None, None]]),
        ("任务分解表", 4, "分值"),
        "测评项目“校园环境”的小计为 10 分，但其下测评标准分值合计为 4 分",
    ),
    "project with its own points": (
        lambda: workbook([["校园环境", None, None, 3], _row(), _row(c2="另一条")]),
        ("任务分解表", 2, "分值"),
        "测评项目“校园环境”的小计为 3 分，但其下测评标准分值合计为 4 分",
    ),
    "title with points": (
        lambda: workbook([_row(c0="校园环境（9分）"), _row(c0=None, c2="另一条")], merges=["A2:A3"]),
        ("任务分解表", 2, "测评项目"),
        "小计为 9 分，但其下测评标准分值合计为 4 分",
    ),
    "grand total disagrees": (
        lambda: workbook([_row(), ["合计", None, None, 5, None, None, None, None]]),
        ("任务分解表", 3, "分值"),
        "合计为 5 分，但各测评标准分值之和为 2 分",
    ),
    "points merged across rows": (
        lambda: workbook([_row(), _row(c3=None)], merges=["D2:D3"]),
        ("任务分解表", 2, "分值"),
        "“分值”单元格跨第 2–3 行合并",
    ),
    "no project": (lambda: workbook([_row(c0=None)]), ("任务分解表", 2, "测评项目"), "测评项目为空"),
    "header only": (lambda: workbook([]), ("任务分解表", None, ""), "表头下面是空的"),
    "empty sheet": (lambda: workbook([], header=[]), ("任务分解表", None, ""), "工作表是空的"),
    "empty file": (lambda: b"", ("", None, ""), "文件是空的"),
    "not excel": (lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 100, ("", None, ""), NOT_XLSX),
    "old xls": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ("", None, ""), "旧版 Excel"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_input_is_named_and_changes_nothing(db, case):
    build, (sheet, row, column), message = MALFORMED[case]
    before = counts()
    result, edition = do_import(build())
    assert edition is None
    assert counts() == before
    matching = [i for i in result.errors if message in i.message]
    assert matching, [str(i) for i in result.errors]
    issue = matching[0]
    assert (issue.sheet, issue.row, issue.column) == (sheet, row, column)


def test_huge_file_is_refused(db, settings):
    settings.INDEX_IMPORT_MAX_ROWS = 5
    before = counts()
    result, edition = do_import(workbook([_row(c2=f"标准{i}") for i in range(8)]))
    assert edition is None and counts() == before
    assert "数据超过 5 行的上限" in result.errors[0].message
    settings.IMPORT_MAX_BYTES = 1000
    result, edition = do_import(workbook([_row()]))
    assert edition is None and counts() == before
    assert "超过了" in result.errors[0].message and "上限" in result.errors[0].message


def test_merged_points_are_one_error(db):
    result, edition = do_import(workbook([_row(), _row(c3=None), _row(c3=None)], merges=["D2:D4"]))
    assert edition is None
    assert [(i.row, i.column) for i in result.errors] == [(2, "分值")]


def test_every_error_is_reported_at_once(db):
    rows = [_row(c3="x"), _row(c4="飞检"), _row(c7="大学")]
    result, edition = do_import(workbook(rows))
    assert edition is None
    assert [(i.row, i.column) for i in result.errors] == [(2, "分值"), (3, "测评方法"), (4, "适用学校类型")]


def test_name_or_code_taken_changes_nothing(db):
    do_import(workbook([_row()]), name="甲", code="jia")
    before = counts()
    result, edition = do_import(workbook([_row()]), name="甲", code="yi")
    assert edition is None and counts() == before
    assert any("已有名为“甲”的版本" in i.message for i in result.errors)
    result, edition = do_import(workbook([_row()]), name="乙", code="jia")
    assert edition is None and any("已有代码为“jia”的版本" in i.message for i in result.errors)
    result, edition = do_import(workbook([_row()]), name="乙", code="不是 slug")
    assert edition is None and counts() == before


def test_template_round_trips(db):
    data = imports.template_bytes()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["测评体系", "填写说明"]
    assert wb["测评体系"].merged_cells.ranges  # upper levels shown as merged cells
    result, edition = do_import(data, name="模板", code="tpl")
    assert result.ok, [str(i) for i in result.errors]
    first = imports.yaml_text(imports.edition_data(edition))
    again, copy = do_import(imports.export_xlsx(edition), name="模板2", code="tpl2")
    assert again.ok, [str(i) for i in again.errors]
    second = imports.yaml_text(imports.edition_data(copy))
    assert second.replace("模板2", "模板").replace("tpl2", "tpl") == first


def test_excel_export_reimports_to_the_same_edition(db):
    header = [*HEADER[:2], "测评子项", *HEADER[2:], "检查方法", "评分方式", "负面清单"]
    rows = [
        [
            "环境",
            "校门",
            "公益广告",
            "广告不少于3处",
            2,
            "实地考察",
            "",
            "德育科",
            "全部",
            "步行50米",
            "",
            "",
        ],
        [None, None, None, "无摊贩", 2.25, "实地考察", "台账", "", "初中", "", "按次扣分：每次0.5分", ""],
        [None, "课堂", None, "核心价值观", 1, "网上申报", "", "", "全部", "", "合格/不合格", "是"],
        [None, None, None, "教室整洁", 1, "整体观察", "", "", "中小学", "", "", ""],
        ["安全", None, None, "无霸凌", 5, "材料审核", "", "", "全部", "", "达标1/基本达标0.6/不达标0", "是"],
    ]
    result, edition = do_import(workbook(rows, header=header, merges=["A2:A5", "B2:B3"]))
    assert result.ok, [str(i) for i in result.errors]
    exported = imports.export_xlsx(edition)
    again, copy = do_import(exported, name="副本", code="copy")
    assert again.ok, [str(i) for i in again.errors]
    original = imports.edition_data(edition)
    copied = imports.edition_data(copy)
    copied.name, copied.code = original.name, original.code
    assert imports.yaml_text(copied) == imports.yaml_text(original)
    assert [(s.code, s.points) for s in Standard.objects.filter(edition=copy).order_by("position")] == [
        ("1.1.1.1", Decimal(2)),
        ("1.1.1.2", Decimal("2.25")),
        ("1.2.1", Decimal(1)),
        ("1.2.2", Decimal(1)),
        ("2.1", Decimal(5)),
    ]


def test_batch_staging_writes_nothing_until_confirmed(city):
    from django.core.files.uploadedfile import SimpleUploadedFile

    office = city.users["office"]
    upload = SimpleUploadedFile("表.xlsx", real_table())
    before = counts()
    batch = imports.index_import_batch_create(
        fmt="xlsx", upload=upload, name="新版", code="new", actor=office
    )
    assert batch.status == IndexImportBatch.Status.PREVIEWED
    assert batch.summary["standards"] == 5 and batch.summary["total_points"] == "10"
    assert counts() == before
    result = imports.index_import_batch_apply(batch=batch, actor=office)
    assert result.edition is not None
    batch.refresh_from_db()
    assert batch.status == IndexImportBatch.Status.APPLIED and batch.edition == result.edition


def test_a_flood_of_merged_cells_is_refused(db, settings):
    settings.INDEX_IMPORT_MAX_ROWS = 5  # allows 4 × 5 + 100 merged ranges
    merges = [f"K{r}:L{r}" for r in range(2, 140)]
    result, edition = do_import(workbook([_row()], merges=merges))
    assert edition is None
    assert "合并单元格超过 120 处" in result.errors[0].message


def test_text_that_looks_like_a_formula_stays_text(db):
    header = [*HEADER, "编号"]
    result, edition = do_import(workbook([[*_row(c2="'=1+1 不是公式"), "1"]], header=header))
    assert result.ok, [str(i) for i in result.errors]
    Standard.objects.filter(edition=edition).update(text='=HYPERLINK("http://example.com")')
    exported = imports.export_xlsx(edition)
    cell = openpyxl.load_workbook(io.BytesIO(exported))["测评体系"]["E2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://example.com")'
    again = imports.parse_excel(exported)
    assert again.data.standards()[0].text == '=HYPERLINK("http://example.com")'
