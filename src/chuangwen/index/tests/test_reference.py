from decimal import Decimal

import pytest

from chuangwen.index import selectors
from chuangwen.index.models import Edition, Standard
from chuangwen.index.reference import REFERENCE_CODE, load_reference_edition
from chuangwen.org.models import Unit


@pytest.fixture
def reference(db):
    return load_reference_edition()


def test_reference_loads_published_with_enough_standards(reference):
    assert reference.code == REFERENCE_CODE
    assert reference.is_reference
    assert reference.status == Edition.Status.PUBLISHED
    assert "参考" in reference.description and "替换" in reference.description
    assert reference.standards.count() >= 60


def test_every_standard_is_complete(reference):
    for s in Standard.objects.filter(edition=reference):
        assert s.points > 0, s.code
        assert s.methods, s.code
        assert s.school_types, s.code
        assert set(s.school_types) <= set(Unit.SchoolType.values), s.code
        assert s.materials, s.code
        assert s.check_protocol, s.code
        assert s.responsible_text, s.code


def test_reference_covers_the_brief(reference):
    texts = "\n".join(Standard.objects.filter(edition=reference).values_list("text", flat=True))
    for word in (
        "公益广告",
        "光盘行动",
        "中小学生守则",
        "核心价值观",
        "烟头",
        "禁止吸烟",
        "四分类",
        "无障碍",
        "物防",
        "技防",
        "网吧",
        "游戏厅",
        "KTV",
        "台球",
        "三无",
        "少年宫",
        "家长委员会",
        "家长学校",
        "家访",
        "德育经费",
        "心理咨询室",
        "主题班会",
        "小手拉大手",
        "知晓率",
        "满意度",
        "支持率",
        "一项一档",
        "大班额",
        "校园欺凌",
        "食品安全",
    ):
        assert word in texts, word
    assert Standard.objects.filter(edition=reference, negative_list=True).count() >= 3
    kinds = set(Standard.objects.filter(edition=reference).values_list("scoring_kind", flat=True))
    assert kinds == {"grade", "deduction", "pass_fail"}
    survey = Standard.objects.filter(edition=reference, text__contains="知晓率").first()
    assert survey.methods == ["survey"]


def test_reference_totals_compute(reference):
    tree = selectors.edition_tree(reference)
    assert tree.standard_count == reference.standards.count()
    assert tree.total_points == sum(reference.standards.values_list("points", flat=True), Decimal(0))
    assert tree.total_points == Decimal(100)
    assert sum(n.total_points for n in tree.roots) == tree.total_points
    for node in tree.walk():
        below = sum((s.points for s in node.standards), Decimal(0)) + sum(
            (c.total_points for c in node.children), Decimal(0)
        )
        assert node.total_points == below


def test_loading_twice_does_not_duplicate(reference):
    again = load_reference_edition()
    assert again.pk == reference.pk
    assert Edition.objects.filter(code=REFERENCE_CODE).count() == 1
    assert Standard.objects.filter(edition=reference).count() == reference.standards.count()


def test_departments_are_matched_when_the_city_has_them(db):
    from chuangwen.org.tests.factories import BureauFactory, DepartmentFactory

    dept = DepartmentFactory(parent=BureauFactory(), name="安全稳定科")
    edition = load_reference_edition(publish=False)
    assert edition.status == Edition.Status.DRAFT
    assert Standard.objects.filter(edition=edition, lead_department=dept).exists()


def test_the_file_is_in_the_canonical_yaml_format(reference):
    """The shipped file is exactly what the exporter writes, so it round-trips byte for byte."""
    from chuangwen.index.imports import export_yaml
    from chuangwen.index.reference import REFERENCE_FILE

    assert export_yaml(reference) == REFERENCE_FILE.read_text(encoding="utf-8")


def test_loading_is_audited(reference):
    from chuangwen.core.models import AuditEvent

    assert AuditEvent.objects.filter(event_type="index.import", object_id=str(reference.pk)).exists()
    assert AuditEvent.objects.filter(event_type="index.edition_publish", object_id=str(reference.pk)).exists()
