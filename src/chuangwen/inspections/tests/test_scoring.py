"""Scoring rules, as pure functions over standards and answers (no database)."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from chuangwen.index.models import ScoringKind, Standard
from chuangwen.inspections import scoring
from chuangwen.inspections.models import NOT_APPLICABLE

_ids = iter(range(1, 10_000))


def std(code="1.1", points="4", kind=ScoringKind.GRADE, params=None, veto=False) -> Standard:
    return Standard(
        pk=next(_ids),
        code=code,
        text=f"标准{code}",
        points=Decimal(points),
        scoring_kind=kind,
        scoring_params=params or {},
        negative_list=veto,
    )


def answer(standard, result="", occurrences=0):
    fraction, points = scoring.evaluate(standard, result=result, occurrences=occurrences)
    return SimpleNamespace(result=result, fraction=fraction, points=points)


def test_grade_default_fractions():
    s = std(points="4")
    assert scoring.results_for(s) == ["达标", "基本达标", "不达标"]
    assert scoring.evaluate(s, result="达标", occurrences=0) == (Decimal("1.0000"), Decimal("4.00"))
    assert scoring.evaluate(s, result="基本达标", occurrences=0) == (Decimal("0.6000"), Decimal("2.40"))
    assert scoring.evaluate(s, result="不达标", occurrences=0) == (Decimal("0.0000"), Decimal("0.00"))


def test_grade_with_own_fractions_and_unknown_result():
    s = std(points="5", params={"优秀": 1, "良好": 0.8, "差": 0})
    assert scoring.results_for(s) == ["优秀", "良好", "差"]
    assert scoring.evaluate(s, result=" 良好 ", occurrences=0)[1] == Decimal("4.00")
    with pytest.raises(ValidationError, match=r"1\.1 的结果只能是：优秀、良好、差、不适用"):
        scoring.evaluate(s, result="达标", occurrences=0)


def test_pass_fail():
    s = std(points="2", kind=ScoringKind.PASS_FAIL)
    assert scoring.results_for(s) == ["合格", "不合格"]
    assert scoring.evaluate(s, result="合格", occurrences=3) == (Decimal("1.0000"), Decimal("2.00"))
    assert scoring.evaluate(s, result="不合格", occurrences=0)[1] == Decimal("0.00")
    with pytest.raises(ValidationError):
        scoring.evaluate(s, result="", occurrences=0)


def test_deduction_per_occurrence_with_cap():
    s = std(points="4", kind=ScoringKind.DEDUCTION, params={"per": 0.5, "cap": 2})
    assert scoring.results_for(s) == []
    assert scoring.evaluate(s, result="", occurrences=0) == (Decimal("1.0000"), Decimal("4.00"))
    assert scoring.evaluate(s, result="", occurrences=3) == (Decimal("0.6250"), Decimal("2.50"))
    # The cap: never more than 2 points lost, however many occurrences.
    assert scoring.evaluate(s, result="", occurrences=40)[1] == Decimal("2.00")


def test_deduction_refuses_a_result_and_counts_out_of_range():
    s = std(kind=ScoringKind.DEDUCTION, params={"per": 1})
    with pytest.raises(ValidationError, match="按次扣分"):
        scoring.evaluate(s, result="达标", occurrences=0)
    with pytest.raises(ValidationError, match="次数须在 0 到 100 之间"):
        scoring.evaluate(s, result="", occurrences=scoring.MAX_OCCURRENCES + 1)
    with pytest.raises(ValidationError):
        scoring.evaluate(s, result="", occurrences=-1)


def test_not_applicable_earns_nothing_and_is_refused_for_negative_list():
    for kind in ScoringKind.values:
        assert scoring.evaluate(std(kind=kind), result=NOT_APPLICABLE, occurrences=2) == (0, 0)
    with pytest.raises(ValidationError, match="负面清单事项，不能判为不适用"):
        scoring.evaluate(std(kind=ScoringKind.PASS_FAIL, veto=True), result=NOT_APPLICABLE, occurrences=0)


def test_not_applicable_leaves_both_sums():
    a, b = std("1.1", "4"), std("1.2", "2", ScoringKind.PASS_FAIL)
    t = scoring.totals([a, b], {a.pk: answer(a, "达标"), b.pk: answer(b, NOT_APPLICABLE)})
    assert (t.applicable, t.obtained, t.raw_score, t.score) == (
        Decimal(4),
        Decimal("4.00"),
        Decimal("100.00"),
        Decimal("100.00"),
    )
    # Had 1.2 been checked and failed, it would count in the applicable points.
    t = scoring.totals([a, b], {a.pk: answer(a, "达标"), b.pk: answer(b, "不合格")})
    assert (t.applicable, t.obtained, t.raw_score) == (Decimal(6), Decimal("4.00"), Decimal("66.67"))


def test_failed_negative_list_item_vetoes_with_raw_score_kept():
    a, v = std("1.1", "4"), std("1.4", "1", ScoringKind.PASS_FAIL, veto=True)
    t = scoring.totals([a, v], {a.pk: answer(a, "达标"), v.pk: answer(v, "不合格")})
    assert t.vetoed and t.score == Decimal("0.00")
    assert t.raw_score == Decimal("80.00")
    assert t.veto_reason == "负面清单事项不合格：1.4"
    t = scoring.totals([a, v], {a.pk: answer(a, "达标"), v.pk: answer(v, "合格")})
    assert not t.vetoed and t.score == Decimal("100.00") and t.veto_reason == ""


def test_rounding_is_half_up_to_two_places():
    s = std("9.9", "800")
    t = scoring.totals(
        [s], {s.pk: SimpleNamespace(result="达标", fraction=Decimal("0.00125"), points=Decimal("1"))}
    )
    assert t.raw_score == Decimal("0.13")  # 0.125 → 0.13 (not banker's 0.12)
    third = std("2.1", "3", ScoringKind.DEDUCTION, {"per": 1, "cap": 3})
    assert scoring.evaluate(third, result="", occurrences=1) == (Decimal("0.6667"), Decimal("2.00"))


def test_unanswered_are_listed_and_nothing_answered_has_no_score():
    a, b = std("1.1"), std("1.2")
    t = scoring.totals([a, b], {a.pk: answer(a, "基本达标")})
    assert t.unanswered == ("1.2",)
    assert t.raw_score == Decimal("60.00")
    t = scoring.totals([a, b], {})
    assert t.unanswered == ("1.1", "1.2") and t.raw_score is None and t.score is None
