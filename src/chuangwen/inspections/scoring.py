"""Scoring rules: which results a standard accepts, what each earns, and an inspection's score.

score = obtained ÷ applicable points × 100, over the standards checked (不适用 ones leave both sums).
A failed negative-list (负面清单) standard vetoes the inspection: its score is 0, the raw score is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError

from chuangwen.index.models import DEFAULT_GRADE_FRACTIONS, ScoringKind, Standard

from .models import NOT_APPLICABLE

MAX_OCCURRENCES = 100
TWO = Decimal("0.01")
FOUR = Decimal("0.0001")


def results_for(standard: Standard) -> list[str]:
    """The results a person may give for this standard (the deduction rule takes a count instead)."""
    if standard.scoring_kind == ScoringKind.GRADE:
        return list((standard.scoring_params or DEFAULT_GRADE_FRACTIONS).keys())
    if standard.scoring_kind == ScoringKind.PASS_FAIL:
        return ["合格", "不合格"]
    return []


def evaluate(standard: Standard, *, result: str, occurrences: int) -> tuple[Decimal, Decimal]:
    """(fraction, points) for one answer; ValidationError naming what is wrong with it."""
    result = (result or "").strip()
    if result == NOT_APPLICABLE:
        if standard.negative_list:
            raise ValidationError({"result": f"{standard.code} 是负面清单事项，不能判为不适用"})
        return Decimal(0), Decimal(0)
    if standard.scoring_kind == ScoringKind.DEDUCTION:
        if result:
            raise ValidationError({"result": f"{standard.code} 按次扣分，请填写发现的次数"})
        if not 0 <= occurrences <= MAX_OCCURRENCES:
            raise ValidationError({"occurrences": f"次数须在 0 到 {MAX_OCCURRENCES} 之间"})
    else:
        allowed = results_for(standard)
        if result not in allowed:
            raise ValidationError(
                {"result": f"{standard.code} 的结果只能是：{'、'.join([*allowed, NOT_APPLICABLE])}"}
            )
        occurrences = 0
    fraction = standard.fraction_for(result, occurrences).quantize(FOUR, ROUND_HALF_UP)
    fraction = min(max(fraction, Decimal(0)), Decimal(1))
    return fraction, (standard.points * fraction).quantize(TWO, ROUND_HALF_UP)


@dataclass(frozen=True)
class Totals:
    applicable: Decimal
    obtained: Decimal
    raw_score: Decimal | None
    score: Decimal | None
    vetoed: bool
    veto_reason: str
    unanswered: tuple[str, ...]


def totals(standards: list[Standard], answers: dict[int, object]) -> Totals:
    """Sum the answers of the applicable standards; `answers` maps standard id → Answer."""
    applicable = obtained = Decimal(0)
    vetoes: list[str] = []
    unanswered: list[str] = []
    for standard in standards:
        answer = answers.get(standard.pk)
        if answer is None:
            unanswered.append(standard.code)
            continue
        if answer.result == NOT_APPLICABLE:
            continue
        applicable += standard.points
        obtained += answer.points
        if standard.negative_list and answer.fraction < 1:
            vetoes.append(standard.code)
    raw = (obtained / applicable * 100).quantize(TWO, ROUND_HALF_UP) if applicable else None
    vetoed = bool(vetoes)
    return Totals(
        applicable=applicable,
        obtained=obtained,
        raw_score=raw,
        score=Decimal("0.00") if vetoed and raw is not None else raw,
        vetoed=vetoed,
        veto_reason=("负面清单事项不合格：" + "、".join(vetoes)) if vetoes else "",
        unanswered=tuple(unanswered),
    )
