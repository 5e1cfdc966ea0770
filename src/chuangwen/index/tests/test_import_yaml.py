"""YAML import and export (docs/decisions/0006-index-editions.md): byte-identical round trips, errors with
the path of the bad item, safe loading, all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chuangwen.index import imports
from chuangwen.index.imports.tree import SCHOOL_TYPE_ORDER, EditionData, GroupData, StandardData
from chuangwen.index.models import Edition, Method, ScoringKind, Standard

from .test_import_excel import counts

DOC = """\
edition:
  name: 教育系统创文测评参考指标
  code: ref-2026
  description: |-
    参考指标：须由教体局的正式版本替换。
    第二行：含“引号”、冒号: 和 # 号
  is_reference: true
groups:
- code: '1'
  title: 校园环境
  groups:
  - code: '1.1'
    title: 公益广告
    standards:
    - code: 1.1.1
      text: '校门口50米范围内设置不少于3处公益广告: 规格70厘米×40厘米'
      points: '2'
      methods: [实地考察]
      school_types: [小学, 初中]
      materials: [实景图片]
      responsible: 德育科
      check_protocol: 从校门向外步行50米
      scoring: {kind: grade, 达标: '1', 基本达标: '0.6', 不达标: '0'}
      negative_list: false
    - code: 1.1.2
      text: 无乱扔垃圾
      points: '0.25'
      methods: [实地考察, 材料审核/网上申报]
      school_types: [全部]
      materials: []
      responsible: ''
      check_protocol: ''
      scoring: {kind: deduction, per: '0.5', cap: '2'}
      negative_list: true
  - code: '1.2'
    title: 子项示例
    groups:
    - code: 1.2.1
      title: 第三级
      standards:
      - code: 1.2.1.1
        text: 第三级下的标准
        points: '10'
        methods: [问卷调查, 整体观察]
        school_types: [幼儿园, 特殊教育学校]
        materials: [方案, 总结]
        responsible: 后勤科
        check_protocol: 抽查
        scoring: {kind: pass_fail}
        negative_list: false
- code: '2'
  title: 只有标准的项目
  standards:
  - code: '2.1'
    text: 直接属于测评项目的标准
    points: '1.5'
    methods: [材料审核/网上申报]
    school_types: [高中]
    materials: [台账]
    responsible: ''
    check_protocol: ''
    scoring: {kind: grade}
    negative_list: false
"""


def test_the_documented_format_round_trips_byte_for_byte(city):
    result = imports.parse_yaml(DOC.encode())
    assert result.ok, [str(i) for i in result.errors]
    edition = imports.edition_import(result=result, name=result.data.name, code=result.data.code)
    assert edition.is_reference and edition.status == Edition.Status.DRAFT
    first = imports.export_yaml(edition)
    assert first == DOC
    again = imports.parse_yaml(first.encode())
    copy = imports.edition_import(result=again, name="副本", code="copy")
    second = imports.export_yaml(copy)
    assert second == first.replace("教育系统创文测评参考指标", "副本", 1).replace("ref-2026", "copy", 1)
    s = Standard.objects.get(edition=edition, code="1.1.1")
    assert s.lead_department == city.office_dept and s.school_types == ["primary", "junior"]
    assert s.methods == [Method.SITE]
    deduction = Standard.objects.get(edition=edition, code="1.1.2")
    assert deduction.points == Decimal("0.25") and deduction.negative_list
    assert deduction.scoring_params == {"per": 0.5, "cap": 2}
    assert deduction.school_types == SCHOOL_TYPE_ORDER
    assert Standard.objects.get(edition=edition, code="1.2.1.1").group.depth == 3


def test_a_published_edition_exports_and_reimports_as_a_new_draft(db):
    result = imports.parse_yaml(DOC.encode())
    edition = imports.edition_import(result=result, name="已发布", code="pub")
    Edition.objects.filter(pk=edition.pk).update(status=Edition.Status.PUBLISHED)
    edition.refresh_from_db()
    text = imports.export_yaml(edition)
    assert "code: pub" in text
    copy = imports.edition_import(result=imports.parse_yaml(text.encode()), name="新版", code="new")
    assert copy.status == Edition.Status.DRAFT
    assert Standard.objects.filter(edition=copy).count() == 4


def _broken(old: str, new: str) -> bytes:
    assert old in DOC
    return DOC.replace(old, new, 1).encode()


BAD = {
    "points": (
        _broken("points: '2'", "points: abc"),
        "groups[0].groups[0].standards[0].points：“abc”不是有效的分值",
    ),
    "method": (
        _broken("methods: [问卷调查, 整体观察]", "methods: [问卷调查, 电话]"),
        "groups[0].groups[1].groups[0].standards[0].methods[1]：未知的测评方法“电话”",
    ),
    "school type": (
        _broken("school_types: [高中]", "school_types: [大学]"),
        "groups[1].standards[0].school_types：未知的学校类型“大学”",
    ),
    "duplicate code": (
        _broken("code: 1.1.2", "code: 1.1.1"),
        "groups[0].groups[0].standards[1]：编号“1.1.1”重复",
    ),
    "unknown key": (_broken("negative_list: true", "negativ: true"), "standards[1]：未知的键“negativ”"),
    "scoring": (
        _broken("{kind: pass_fail}", "{kind: bonus}"),
        "groups[0].groups[1].groups[0].standards[0].scoring.kind：“bonus”不是有效的评分方式",
    ),
    "fraction": (_broken("基本达标: '0.6'", "基本达标: '1.5'"), "scoring.基本达标：“1.5”应在 0 到 1 之间"),
    "syntax": (_broken("  code: ref-2026", "  code: [ref-2026"), "YAML 格式错误（第"),
    "python tag": (b"!!python/object/apply:os.system ['true']\n", "YAML 格式错误"),
    "not a mapping": (b"- a\n- b\n", "应为键值对"),
    "no groups": (b"edition: {name: x, code: x}\ngroups: []\n", "groups：应为测评项目的列表"),
    "empty": (b"", "文件是空的"),
    "not utf-8": ("edition: 测评".encode("gb18030"), "不是 UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_yaml_is_named_by_path_and_changes_nothing(db, case):
    data, message = BAD[case]
    before = counts()
    result = imports.parse_yaml(data)
    edition = imports.edition_import(result=result, name="坏文件", code="bad")
    assert edition is None and counts() == before
    assert any(message in str(i) for i in result.errors), [str(i) for i in result.errors]


def test_size_and_count_caps(db, settings):
    settings.INDEX_IMPORT_MAX_ROWS = 3
    result = imports.parse_yaml(DOC.encode())
    assert not result.ok and "超过 3 项的上限" in result.errors[0].message
    settings.INDEX_YAML_MAX_BYTES = 1000
    result = imports.parse_yaml(DOC.encode())
    assert not result.ok and "超过了 1 KB 的上限" in result.errors[0].message
    settings.IMPORT_MAX_BYTES = 100
    result = imports.parse_yaml(DOC.encode())
    assert not result.ok and "上限" in result.errors[0].message


def test_alias_bomb_is_stopped_by_the_count_cap(db, settings):
    settings.INDEX_IMPORT_MAX_ROWS = 1000
    lines = ["s: &s0 {code: x, text: t, points: '1', methods: [实地考察]}"]
    lines.append("edition: {name: n, code: c}")
    lines.append("groups:")
    lines.extend(f"- {{title: g{i}, standards: [{', '.join(['*s0'] * 50)}]}}" for i in range(100))
    result = imports.parse_yaml("\n".join(lines[1:]).replace("*s0", "{code: x, text: t}").encode())
    assert not result.ok  # either the cap or the missing fields: never a hang
    result = imports.parse_yaml("\n".join(lines).encode())
    assert not result.ok


# --- property: any edition survives export → import → export unchanged -----------------------------------

_text = (
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters="\ufeff"
        ),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
_multiline = st.lists(_text, min_size=0, max_size=3).map("\n".join)
_points = st.decimals(min_value=0, max_value=999, places=2).map(lambda d: d.normalize() if d else Decimal(0))
_scoring = st.one_of(
    st.just((ScoringKind.GRADE, {})),
    st.just((ScoringKind.PASS_FAIL, {})),
    st.builds(lambda p: (ScoringKind.DEDUCTION, {"per": p}), st.sampled_from([0.5, 1, 0.25])),
    st.just((ScoringKind.GRADE, {"达标": 1, "基本达标": 0.6, "不达标": 0})),
)


@st.composite
def _edition(draw):
    counter = iter(range(10_000))

    def standard():
        kind, params = draw(_scoring)
        return StandardData(
            code=f"s{next(counter)}",
            text=draw(_multiline.filter(bool)),
            points=draw(_points),
            methods=draw(st.lists(st.sampled_from(Method.values), min_size=1, max_size=3, unique=True)),
            school_types=[
                c
                for c in SCHOOL_TYPE_ORDER
                if c in draw(st.sets(st.sampled_from(SCHOOL_TYPE_ORDER), min_size=1))
            ],
            materials=draw(
                st.lists(
                    _text.filter(lambda t: not any(c in t for c in "、，,;；/")), max_size=3, unique=True
                )
            ),
            responsible=draw(st.one_of(st.just(""), _text)),
            check_protocol=draw(_multiline),
            scoring_kind=kind,
            scoring_params=params,
            negative_list=draw(st.booleans()),
        )

    def group(depth, code):
        node = GroupData(code=code, title=draw(_text), depth=depth)
        node.standards = [standard() for _ in range(draw(st.integers(0 if depth < 3 else 1, 3)))]
        if depth < 3:
            node.groups = [group(depth + 1, f"{code}.{i + 1}") for i in range(draw(st.integers(0, 2)))]
        if not node.standards and not node.groups:
            node.standards = [standard()]
        return node

    return EditionData(
        name=draw(_text),
        code="gen",
        description=draw(_multiline),
        is_reference=draw(st.booleans()),
        groups=[group(1, str(i + 1)) for i in range(draw(st.integers(1, 3)))],
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_edition())
def test_any_edition_round_trips_through_yaml(data):
    text = imports.yaml_text(data)
    result = imports.parse_yaml(text.encode())
    assert result.ok, [str(i) for i in result.errors]
    assert imports.yaml_text(result.data) == text


def test_the_shipped_reference_edition_reads_and_round_trips(db):
    from pathlib import Path

    import chuangwen.index

    path = Path(chuangwen.index.__file__).with_name("reference") / "edition.yaml"
    if not path.exists():
        pytest.skip("no reference edition in this tree")
    text = path.read_text(encoding="utf-8")
    result = imports.parse_yaml(text.encode())
    assert result.ok, [str(i) for i in result.errors]
    assert result.counts()["standards"] >= 60
    edition = imports.edition_import(result=result, name="参考副本", code="ref-copy")
    exported = imports.export_yaml(edition)
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    assert exported == body.replace(result.data.name, "参考副本", 1).replace(
        f"code: {result.data.code}", "code: ref-copy", 1
    )


_examples = iter(range(1_000_000))


@settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking through the database is slow
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(_edition())
def test_any_edition_round_trips_through_the_database(db, data):
    n = next(_examples)
    data.name, data.code = f"生成{n}", f"gen-{n}"
    text = imports.yaml_text(data)
    edition = imports.edition_import(result=imports.parse_yaml(text.encode()), name=data.name, code=data.code)
    assert edition is not None
    assert imports.export_yaml(edition) == text
    # …and through Excel, for everything the spreadsheet layout can carry.
    again = imports.parse_excel(imports.export_xlsx(edition))
    assert again.ok, [str(i) for i in again.errors]
    assert again.counts()["standards"] == len(data.standards())
