"""Services and selectors of the evaluation index."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from chuangwen.core.models import AuditEvent
from chuangwen.index import selectors, services
from chuangwen.index.models import Edition, Group, Standard

from .routes_pages import make_edition


def _fields(**overrides):
    fields = {
        "code": "2.1.1",
        "text": "校园内无烟头",
        "points": Decimal("1.5"),
        "methods": ["site"],
        "school_types": ["primary"],
        "materials": ["实景图片"],
    }
    fields.update(overrides)
    return fields


def test_edition_create_is_an_audited_empty_draft(city):
    edition = services.edition_create(actor=city.users["office"], name="2027版", code="city-2027")
    assert edition.status == Edition.Status.DRAFT
    assert not edition.groups.exists()
    assert AuditEvent.objects.filter(event_type="index.edition_create", object_id=str(edition.pk)).exists()


def test_edition_create_rejects_a_bad_code(db):
    with pytest.raises(ValidationError) as exc:
        services.edition_create(name="坏代码", code="有 空格")
    assert "code" in exc.value.message_dict
    assert not Edition.objects.exists()


def test_groups_nest_three_levels_at_most(db):
    edition = make_edition()
    content = edition.groups.get(code="1.1")
    third = services.group_create(edition=edition, parent=content, code="1.1.a", title="子项")
    assert third.depth == 3 and third.level_label == "测评子项"
    with pytest.raises(ValidationError, match="最多3级"):
        services.group_create(edition=edition, parent=third, title="第四级")


def test_group_parent_must_be_in_the_same_edition(db):
    one, two = make_edition(code="a"), make_edition(code="b")
    with pytest.raises(ValidationError):
        services.group_create(edition=one, parent=two.groups.first(), title="跨版本")


def test_standard_create_validates_codes_and_lists(db):
    edition = make_edition()
    group = edition.groups.get(code="1.1")
    with pytest.raises(ValidationError) as exc:
        services.standard_create(group=group, **_fields(methods=["teleport"], school_types=["university"]))
    assert set(exc.value.message_dict) >= {"methods", "school_types"}
    with pytest.raises(ValidationError) as exc:
        services.standard_create(group=group, **_fields(code="1.1.1"))
    assert "已存在" in exc.value.message_dict["code"][0]
    with pytest.raises(ValidationError) as exc:
        services.standard_create(group=group, **_fields(scoring_kind="deduction", scoring_params={}))
    assert "scoring_params" in exc.value.message_dict
    with pytest.raises(TypeError):
        services.standard_create(group=group, **_fields(edition=edition))
    assert edition.standards.count() == 3


def test_standard_create_update_delete_are_audited(city):
    office = city.users["office"]
    edition = make_edition()
    group = edition.groups.get(code="1.1")
    standard = services.standard_create(
        group=group, actor=office, **_fields(scoring_kind="deduction", scoring_params={"per": 0.5, "cap": 1})
    )
    assert standard.edition_id == edition.pk
    services.standard_update(
        standard=standard, actor=office, points=Decimal("1"), text="校园内无烟头、无垃圾"
    )
    standard.refresh_from_db()
    assert standard.points == 1 and standard.text == "校园内无烟头、无垃圾"
    update = AuditEvent.objects.get(event_type="index.standard_update")
    assert set(update.data["changed"]) == {"points", "text"}
    services.standard_delete(standard=standard, actor=office)
    assert not Standard.objects.filter(pk=standard.pk).exists()
    assert AuditEvent.objects.filter(event_type="index.standard_delete").exists()


def test_an_unchanged_update_writes_nothing(db):
    edition = make_edition()
    standard = edition.standards.get(code="1.1.1")
    before = AuditEvent.objects.count()
    services.standard_update(standard=standard, points=Decimal("2"))
    assert AuditEvent.objects.count() == before


def test_group_delete_removes_the_subtree(db):
    edition = make_edition()
    services.group_delete(group=edition.groups.get(code="1"))
    assert not edition.groups.exists() and not edition.standards.exists()


def test_standard_move_swaps_neighbours(db):
    edition = make_edition()

    def order():
        return list(
            Standard.objects.filter(edition=edition).order_by("position", "pk").values_list("code", flat=True)
        )

    services.standard_move(standard=edition.standards.get(code="1.1.2"), up=True)
    assert order() == ["1.1.2", "1.1.1", "1.1.3"]
    services.standard_move(standard=edition.standards.get(code="1.1.2"), up=True)  # already first
    assert order() == ["1.1.2", "1.1.1", "1.1.3"]
    services.standard_move(standard=edition.standards.get(code="1.1.1"), up=False)
    assert order() == ["1.1.2", "1.1.3", "1.1.1"]


def test_group_move_reorders_siblings_and_the_tree_follows(db):
    edition = make_edition()
    project = edition.groups.get(code="1")
    services.group_create(edition=edition, parent=project, code="1.2", title="垃圾分类")
    services.group_create(edition=edition, code="2", title="校园周边")
    services.group_move(group=edition.groups.get(code="1.2"), up=True)
    services.group_move(group=edition.groups.get(code="2"), up=True)
    tree = selectors.edition_tree(edition)
    assert [n.group.code for n in tree.roots] == ["2", "1"]
    assert [c.group.code for c in tree.roots[1].children] == ["1.2", "1.1"]
    assert AuditEvent.objects.filter(event_type="index.group_move").count() == 2


def test_copy_is_deep_and_independent(city):
    source = make_edition(code="src", status="published")
    services.group_create(
        edition=(extra := make_edition(code="other")), parent=extra.groups.get(code="1.1"), title="子项"
    )
    copy = services.edition_copy(edition=source, actor=city.users["office"], name="副本", code="copy")
    assert copy.status == Edition.Status.DRAFT and copy.based_on == source
    assert copy.groups.count() == source.groups.count() == 2
    assert copy.standards.count() == source.standards.count() == 3
    content = copy.groups.get(code="1.1")
    assert content.parent.edition_id == copy.pk and content.parent.code == "1"
    assert set(copy.standards.values_list("group_id", flat=True)) == {content.pk}
    original = source.standards.get(code="1.1.1")
    copied = copy.standards.get(code="1.1.1")
    for name in services.STANDARD_FIELDS:
        assert getattr(copied, name) == getattr(original, name), name
    # Changing the copy leaves the published source untouched.
    services.standard_update(standard=copied, points=Decimal("7"), text="改过的")
    services.group_delete(group=copy.groups.get(code="1"))
    original.refresh_from_db()
    assert original.points == 2 and original.text == "校门口公益广告第1条"
    assert source.standards.count() == 3 and source.groups.count() == 2
    assert AuditEvent.objects.filter(event_type="index.edition_copy", object_id=str(copy.pk)).exists()


def test_copy_keeps_three_levels(db):
    source = make_edition()
    third = services.group_create(
        edition=source, parent=source.groups.get(code="1.1"), code="1.1.a", title="子项"
    )
    services.standard_create(group=third, **_fields(code="1.1.a.1"))
    copy = services.edition_copy(edition=source, name="三级副本", code="three")
    copied_third = copy.groups.get(code="1.1.a")
    assert copied_third.depth == 3 and copied_third.parent.code == "1.1"
    assert copy.standards.get(code="1.1.a.1").group_id == copied_third.pk


# ---------------------------------------------------------------- selectors


def test_tree_totals_per_node(db):
    edition = make_edition()
    project = edition.groups.get(code="1")
    other = services.group_create(edition=edition, parent=project, code="1.2", title="垃圾分类")
    services.standard_create(group=other, **_fields(code="1.2.1", points=Decimal("1.5")))
    tree = selectors.edition_tree(edition)
    assert tree.total_points == Decimal("7.5") and tree.standard_count == 4
    (root,) = tree.roots
    assert root.total_points == Decimal("7.5") and root.standard_count == 4
    assert [(c.group.code, c.total_points) for c in root.children] == [("1.1", 6), ("1.2", Decimal("1.5"))]


def test_tree_is_two_queries(db, django_assert_num_queries):
    edition = make_edition(standards=30)
    with django_assert_num_queries(2):
        tree = selectors.edition_tree(edition)
        for node in tree.walk():
            for s in node.standards:
                _ = s.lead_department, s.type_names, s.scoring_text


def test_tree_filters_hide_but_keep_totals(db):
    edition = make_edition()
    services.standard_update(
        standard=edition.standards.get(code="1.1.3"),
        methods=["survey"],
        school_types=["senior"],
        negative_list=True,
    )
    tree = selectors.edition_tree(edition, method="survey")
    assert tree.shown == 1 and tree.filtered and tree.total_points == 6
    assert [s.code for s in tree.roots[0].children[0].standards if s.matches] == ["1.1.3"]
    assert selectors.edition_tree(edition, school_type="primary").shown == 2
    assert selectors.edition_tree(edition, q="第2条").shown == 1
    assert selectors.edition_tree(edition, q="1.1.3").shown == 1
    assert selectors.edition_tree(edition, negative=True).shown == 1
    assert selectors.edition_tree(edition, q="不存在的词").shown == 0


def test_standard_search_filters_in_the_database(city):
    edition = make_edition()
    services.standard_update(standard=edition.standards.get(code="1.1.3"), methods=["survey", "document"])
    office = city.users["office"]
    found = selectors.standard_search(user=office, edition=edition, method="survey")
    assert [s.code for s in found] == ["1.1.3"]
    assert selectors.standard_search(user=office, method="document").count() == 1
    assert selectors.standard_search(user=office, school_type="junior").count() == 3
    assert selectors.standard_search(user=office, school_type="senior").count() == 0
    assert selectors.standard_search(user=office, q="第1条").count() == 1


def test_standards_for_school_type(db):
    edition = make_edition()
    services.standard_update(standard=edition.standards.get(code="1.1.1"), school_types=["senior"])
    assert [s.code for s in selectors.standards_for_school_type(edition, "primary")] == ["1.1.2", "1.1.3"]
    assert [s.code for s in selectors.standards_for_school_type(edition, "senior")] == ["1.1.1"]


def test_drafts_are_visible_to_managers_only(city):
    draft = make_edition(code="d")
    published = make_edition(code="p", status="published")
    archived = make_edition(code="a", status="archived")
    for role in ("admin", "office"):
        assert set(selectors.visible_editions(city.users[role])) == {draft, published, archived}
    for role in ("leader", "dept_head", "inspector", "school_head", "liaison", "archivist", "teacher"):
        assert set(selectors.visible_editions(city.users[role])) == {published, archived}, role
    assert not selectors.standard_search(user=city.users["liaison"], edition=draft).exists()


def test_edition_list_counts(city):
    make_edition(code="p", status="published", standards=4)
    (row,) = selectors.edition_list(user=city.users["teacher"])
    assert (row.project_count, row.standard_count, row.total_points) == (1, 4, 8)


def test_scoring_text(db):
    edition = make_edition()
    s = edition.standards.get(code="1.1.1")
    assert selectors.scoring_text(s) == "达标得2分，基本达标得1.2分，不达标得0分"
    s.scoring_kind, s.scoring_params = "deduction", {"per": 0.5, "cap": 1}
    assert selectors.scoring_text(s) == "按次扣分（每次扣0.5分，最多扣1分）"
    s.scoring_kind = "pass_fail"
    assert "合格" in selectors.scoring_text(s)
    assert Group.objects.filter(edition=edition).count() == 2
