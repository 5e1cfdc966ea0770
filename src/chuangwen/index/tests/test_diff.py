from decimal import Decimal

from chuangwen.index import services
from chuangwen.index.diff import diff_editions

from .routes_pages import make_edition


def _pair():
    old = make_edition(code="old", status="published")
    new = services.edition_copy(edition=old, name="新版", code="new")
    return old, new


def test_identical_editions_have_no_diff(db):
    old, new = _pair()
    result = diff_editions(old, new)
    assert result.is_empty
    assert result.points_a == result.points_b == 6


def test_added_removed_and_changed_standards(db):
    old, new = _pair()
    group = new.groups.get(code="1.1")
    services.standard_create(
        group=group,
        code="1.1.9",
        text="新增的标准",
        points=Decimal(1),
        methods=["site"],
        school_types=["primary"],
    )
    services.standard_delete(standard=new.standards.get(code="1.1.3"))
    services.standard_update(standard=new.standards.get(code="1.1.1"), text="改过的文字")
    services.standard_update(
        standard=new.standards.get(code="1.1.2"),
        points=Decimal("2.5"),
        methods=["site", "survey"],
        school_types=["primary"],
        materials=["实景图片", "台账"],
        negative_list=True,
        scoring_kind="deduction",
        scoring_params={"per": 0.5, "cap": 2},
    )
    result = diff_editions(old, new)
    assert [s.code for s in result.standards_added] == ["1.1.9"]
    assert [s.code for s in result.standards_removed] == ["1.1.3"]
    changed = {item.key: {c.field: (c.old, c.new) for c in item.changes} for item in result.standards_changed}
    assert changed["1.1.1"] == {"text": ("校门口公益广告第1条", "改过的文字")}
    two = changed["1.1.2"]
    assert two["points"] == ("2", "2.5")
    assert two["methods"] == ("实地考察", "实地考察、问卷调查")
    assert two["school_types"] == ("小学、初中", "小学")
    assert two["materials"] == ("实景图片", "实景图片、台账")
    assert two["negative_list"] == ("否", "是")
    assert two["scoring"][1] == "按次扣分（每次扣0.5分，最多扣2分）"
    assert result.points_a == 6 and result.points_b == Decimal("5.5")


def test_group_changes(db):
    old, new = _pair()
    services.group_update(group=new.groups.get(code="1"), title="校园环境与文明氛围")
    services.group_create(edition=new, code="2", title="校园周边")
    result = diff_editions(old, new)
    assert [g.code for g in result.groups_added] == ["2"]
    assert not result.groups_removed
    (item,) = result.groups_changed
    assert (
        item.key == "1" and item.changes[0].old == "校园环境" and item.changes[0].new == "校园环境与文明氛围"
    )


def test_diff_runs_in_constant_queries(db, django_assert_max_num_queries):
    old = make_edition(code="big", standards=40)
    new = services.edition_copy(edition=old, name="大副本", code="big2")
    with django_assert_max_num_queries(4):
        diff_editions(old, new)


def test_a_points_change_is_not_also_a_scoring_change(db):
    old, new = _pair()
    services.standard_update(standard=new.standards.get(code="1.1.1"), points=Decimal(3))
    (item,) = diff_editions(old, new).standards_changed
    assert [c.field for c in item.changes] == ["points"]
    services.standard_update(
        standard=new.standards.get(code="1.1.1"), scoring_params={"达标": 1, "基本达标": 0.5, "不达标": 0}
    )
    (item,) = diff_editions(old, new).standards_changed
    assert [c.field for c in item.changes] == ["points", "scoring"]
    assert "基本达标得0.5倍分值" in item.changes[1].new
