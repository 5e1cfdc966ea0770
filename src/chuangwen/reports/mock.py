"""Mock evaluation (模拟测评) the way the national evaluators sample sites: the draw and the estimate.

The draw is `campaigns.sampling.draw` (N schools stratified by school type, proportional allocation by
largest remainder, every non-empty type at least one school once N allows, reproducible from the seed);
this module only chooses the population and records the result. The round made from a draw goes through
`campaigns.services.round_create` with the same population, size and seed, so it covers the same schools.

The estimate is exact, not a bootstrap. Take each school's latest counted score (reports.figures) as its
true score; the evaluators draw n_h of the N_h schools of type h by simple random sampling without
replacement and average the n drawn scores. That average has

    expectation  E = Σ_h (n_h / n) · Ȳ_h
    variance     V = Σ_h (n_h / n)² · (1 − n_h / N_h) · S_h² / n_h      (S_h² with divisor N_h − 1)

computed here in exact rational arithmetic. The 95 % interval and the probability of falling below a
threshold use the normal approximation N(E, V).

Schools without a counted score (never inspected in the campaign): by default they are left out of the
population (of the draw and of the estimate) and named on the page; when `unscored_value` is given they
stay in the population and count at that score.

Standards likely to lose points: for each standard, over the schools with a counted inspection,
P(a school drawn by the design loses points on it) = Σ_h w_h · L_h / M_h and the expected points lost per
drawn school Σ_h w_h · lost_h / M_h, where M_h is the number of inspected schools of type h, L_h of them
lose points on the standard, lost_h the points they lose, and w_h = n_h / Σ n_h over the types that have
inspected schools (a standard not applicable to a school loses it nothing).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from statistics import NormalDist

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from chuangwen.campaigns import sampling
from chuangwen.campaigns import services as campaign_services
from chuangwen.campaigns.models import Campaign, Round
from chuangwen.core import access
from chuangwen.core.roles import Role
from chuangwen.index.models import Standard
from chuangwen.inspections.models import NOT_APPLICABLE, Answer
from chuangwen.org.models import Unit

from . import figures

MAX_SEED = 2**62  # the campaigns round form's bound
DEFAULT_THRESHOLD = Decimal(85)  # the minors' evaluation prerequisite (below 85/100 a city cannot apply)
Z95 = NormalDist().inv_cdf(0.975)
LIKELY_LIMIT = 10
UNTYPED_LABEL = "未分类"
MOCK_VIEWERS = (Role.ADMIN, Role.LEADER, Role.OFFICE)


@dataclass(frozen=True)
class DrawnSchool:
    school_id: int
    name: str
    school_type: str
    district: str
    score: Decimal | None  # latest counted score; None when not inspected
    value: Decimal  # the score used: `score`, or the chosen value for an uninspected school


@dataclass(frozen=True)
class Stratum:
    school_type: str
    label: str
    population: int  # N_h
    drawn: int  # n_h
    mean: float  # Ȳ_h
    variance: float  # S_h² (divisor N_h − 1; 0 when N_h = 1)
    schools: tuple[DrawnSchool, ...]  # the drawn ones, by name

    @property
    def sd(self) -> float:
        return math.sqrt(self.variance)


@dataclass(frozen=True)
class Estimate:
    mean: float  # expectation of the evaluators' mean over the draw
    variance: float
    se: float
    low: float  # 95 % interval, normal approximation
    high: float
    threshold: Decimal
    p_below: float  # P(mean < threshold), normal approximation

    @property
    def p_below_pct(self) -> float:
        return self.p_below * 100


@dataclass(frozen=True)
class LikelyLoss:
    standard_id: int
    code: str
    text: str
    points: Decimal
    p_lose: float  # P(a school drawn by the design loses points on it)
    expected_lost: float  # expected points lost per drawn school
    schools_losing: int  # inspected schools of the population losing points on it
    schools_checked: int  # inspected schools of the population where it applied

    @property
    def p_lose_pct(self) -> float:
        return self.p_lose * 100


@dataclass(frozen=True)
class MockResult:
    campaign: Campaign
    n: int
    seed: int
    threshold: Decimal
    unscored_value: Decimal | None
    population: int  # schools in the population
    strata: list[Stratum]
    schools: list[DrawnSchool]  # the draw, stratum by stratum
    estimate: Estimate
    draw_mean: float  # the mean score of THIS draw
    unscored: list[DrawnSchool]  # schools without a counted score (excluded, or counted at unscored_value)
    likely: list[LikelyLoss]
    inspected_strata_missing: list[str]  # labels of drawn types without any inspected school

    @property
    def strata_record(self) -> dict[str, dict[str, int]]:
        """As `Round.sample_strata` records it."""
        return {s.school_type: {"drawn": s.drawn, "population": s.population} for s in self.strata}


# --- the exact estimate ----------------------------------------------------------------------------


def stratified_moments(strata: dict[str, list], allocation: dict[str, int]) -> tuple[Fraction, Fraction]:
    """(E, V) of the unweighted mean of a stratified simple random sample without replacement.

    `strata`: key → every value of the stratum (the population); `allocation`: key → n_h."""
    n = sum(allocation.values())
    if n <= 0:
        raise ValueError("empty allocation")
    expectation = Fraction(0)
    variance = Fraction(0)
    for key, n_h in allocation.items():
        if n_h == 0:
            continue
        values = [Fraction(v) for v in strata[key]]
        big_n = len(values)
        mean = sum(values, Fraction(0)) / big_n
        s2 = sum(((v - mean) ** 2 for v in values), Fraction(0)) / (big_n - 1) if big_n > 1 else Fraction(0)
        weight = Fraction(n_h, n)
        expectation += weight * mean
        variance += weight**2 * (1 - Fraction(n_h, big_n)) * s2 / n_h
    return expectation, variance


def normal_estimate(expectation: Fraction, variance: Fraction, threshold: Decimal) -> Estimate:
    mean = float(expectation)
    se = math.sqrt(float(variance))
    if se > 0:
        p_below = NormalDist(mean, se).cdf(float(threshold))
    else:
        p_below = 1.0 if expectation < Fraction(threshold) else 0.0
    return Estimate(
        mean=mean,
        variance=float(variance),
        se=se,
        low=mean - Z95 * se,
        high=mean + Z95 * se,
        threshold=threshold,
        p_below=p_below,
    )


# --- population and draw ---------------------------------------------------------------------------


def population_schools(actor):
    """The sampling frame before scores: the active schools within the actor's reach."""
    return access.visible_schools(actor).filter(is_active=True)


def _frame(*, campaign: Campaign, actor, unscored_value: Decimal | None):
    """(units of the population, id → DrawnSchool for them, the uninspected schools)."""
    units = list(population_schools(actor).order_by("pk"))
    rows = {f.school_id: f for f in figures.school_figures(campaign=campaign, schools=[u.pk for u in units])}
    info: dict[int, DrawnSchool] = {}
    unscored: list[DrawnSchool] = []
    for unit in units:
        f = rows.get(unit.pk)
        score = f.score if f is not None else None
        value = score if score is not None else unscored_value
        school = DrawnSchool(
            school_id=unit.pk,
            name=unit.name,
            school_type=unit.school_type or "",
            district=f.district if f is not None else "",
            score=score,
            value=value if value is not None else Decimal(0),
        )
        info[unit.pk] = school
        if score is None:
            unscored.append(school)
    if unscored_value is None:
        excluded = {s.school_id for s in unscored}
        units = [u for u in units if u.pk not in excluded]
    return units, info, unscored


def check_size(n, population: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValidationError({"n": "抽样学校数必须是整数"})
    if n <= 0:
        raise ValidationError({"n": "抽样学校数必须至少为 1"})
    if population == 0:
        raise ValidationError({"n": "没有可抽样的学校（尚无学校有检查得分；可填写“未检查学校计分”将其纳入）"})
    if n > population:
        raise ValidationError({"n": f"抽样学校数不能超过可抽样的学校数（{population} 所）"})
    return n


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValidationError({"seed": "随机种子必须是整数"})
    if not 0 <= seed <= MAX_SEED:
        raise ValidationError({"seed": f"随机种子必须在 0 到 {MAX_SEED} 之间"})
    return seed


def new_seed() -> int:
    return secrets.randbelow(2**31)


def mock_draw(
    *,
    campaign: Campaign,
    n: int,
    seed: int | None = None,
    threshold: Decimal = DEFAULT_THRESHOLD,
    unscored_value: Decimal | None = None,
    actor,
) -> MockResult:
    """Draw n schools and estimate the evaluators' mean; the seed is drawn when not given."""
    access.require(can_view(actor))
    seed = new_seed() if seed is None else check_seed(seed)
    units, info, unscored = _frame(campaign=campaign, actor=actor, unscored_value=unscored_value)
    n = check_size(n, len(units))
    result = sampling.draw(units, n, seed)
    values: dict[str, list[Decimal]] = defaultdict(list)
    for unit in units:
        values[unit.school_type or ""].append(info[unit.pk].value)
    allocation = {key: counts["drawn"] for key, counts in result.strata.items()}
    expectation, variance = stratified_moments(values, allocation)
    drawn = [info[u.pk] for u in result.schools]
    labels = dict(Unit.SchoolType.choices)
    strata = []
    for key, counts in result.strata.items():
        vals = [Fraction(v) for v in values[key]]
        mean = sum(vals, Fraction(0)) / len(vals)
        s2 = sum(((v - mean) ** 2 for v in vals), Fraction(0)) / (len(vals) - 1) if len(vals) > 1 else 0
        strata.append(
            Stratum(
                school_type=key,
                label=labels.get(key, key) or UNTYPED_LABEL,
                population=counts["population"],
                drawn=counts["drawn"],
                mean=float(mean),
                variance=float(s2),
                schools=tuple(sorted((s for s in drawn if s.school_type == key), key=lambda s: s.name)),
            )
        )
    likely, missing = likely_losses(
        campaign=campaign, units=units, allocation=allocation, labels={s.school_type: s.label for s in strata}
    )
    return MockResult(
        campaign=campaign,
        n=n,
        seed=seed,
        threshold=threshold,
        unscored_value=unscored_value,
        population=len(units),
        strata=strata,
        schools=drawn,
        estimate=normal_estimate(expectation, variance, threshold),
        draw_mean=float(sum((Fraction(s.value) for s in drawn), Fraction(0)) / len(drawn)),
        unscored=sorted(unscored, key=lambda s: (s.school_type, s.name)),
        likely=likely,
        inspected_strata_missing=missing,
    )


# --- standards likely to lose points ---------------------------------------------------------------


def likely_losses(
    *, campaign: Campaign, units: list, allocation: dict[str, int], labels: dict[str, str], limit=LIKELY_LIMIT
) -> tuple[list[LikelyLoss], list[str]]:
    """Standards by the probability that a drawn school loses points on them (see the module docstring),
    and the labels of drawn types with no inspected school (left out of these weights). Three queries."""
    latest, _, _ = figures.counted_inspections(campaign=campaign, round=None)
    type_of = {u.pk: u.school_type or "" for u in units}
    inspected: dict[str, int] = defaultdict(int)
    inspection_ids = []
    for school_id, row in latest.items():
        if school_id in type_of:
            inspected[type_of[school_id]] += 1
            inspection_ids.append(row["pk"])
    drawn_types = [k for k, n_h in allocation.items() if n_h > 0]
    missing = [labels.get(k, k) for k in drawn_types if not inspected.get(k)]
    weights_total = sum(allocation[k] for k in drawn_types if inspected.get(k))
    if not inspection_ids or not weights_total:
        return [], missing
    lost_expr = ExpressionWrapper(F("standard__points") - F("points"), output_field=DecimalField())
    # One answer per (inspection, standard), so counting rows counts schools; the standards' texts are
    # read apart (grouping by long texts costs more than the second query).
    rows = (
        Answer.objects.filter(inspection_id__in=inspection_ids)
        .exclude(result=NOT_APPLICABLE)
        .order_by()
        .values("standard_id", "inspection__school__school_type")
        .annotate(
            lost=Sum(lost_expr),
            checked=Count("pk"),
            losing=Count("pk", filter=Q(points__lt=F("standard__points"))),
        )
    )
    per_standard: dict[int, dict] = {}
    for row in rows:
        key = row["inspection__school__school_type"] or ""
        entry = per_standard.setdefault(
            row["standard_id"], {"p": Fraction(0), "e": Fraction(0), "losing": 0, "checked": 0}
        )
        entry["losing"] += row["losing"]
        entry["checked"] += row["checked"]
        if allocation.get(key) and inspected.get(key):
            weight = Fraction(allocation[key], weights_total)
            entry["p"] += weight * Fraction(row["losing"], inspected[key])
            entry["e"] += weight * Fraction(Decimal(str(row["lost"] or 0))) / inspected[key]
    losing = [pk for pk, e in per_standard.items() if e["p"] > 0]
    standards = {
        s["pk"]: s for s in Standard.objects.filter(pk__in=losing).values("pk", "code", "text", "points")
    }
    result = [
        LikelyLoss(
            standard_id=pk,
            code=standards[pk]["code"],
            text=standards[pk]["text"],
            points=standards[pk]["points"],
            p_lose=float(per_standard[pk]["p"]),
            expected_lost=float(per_standard[pk]["e"]),
            schools_losing=per_standard[pk]["losing"],
            schools_checked=per_standard[pk]["checked"],
        )
        for pk in losing
    ]
    result.sort(key=lambda s: (-s.p_lose, -s.expected_lost, figures.code_order(s.code), s.standard_id))
    return (result[:limit] if limit else result), missing


# --- permissions and the round ---------------------------------------------------------------------


def can_view(user) -> bool:
    """系统管理员, 局领导 and 创文办 held for the whole city see the mock evaluation (it draws from, and
    estimates, the whole city)."""
    return access.runs_the_city(user, frozenset(MOCK_VIEWERS))


def can_create_round(user) -> bool:
    return can_view(user) and access.can_manage_campaigns(user)


def default_round_name(result_n: int, seed: int, today: dt.date) -> str:
    return f"{today:%Y-%m-%d} 模拟测评（分层抽样 {result_n} 所 · 种子 {seed}）"


@transaction.atomic
def mock_round_create(
    *,
    campaign: Campaign,
    n: int,
    seed: int,
    unscored_value: Decimal | None = None,
    name: str = "",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    expected_school_ids: list[int] | None = None,
    actor,
    request=None,
) -> Round:
    """Create a 模拟测评 round over exactly the schools `mock_draw` draws with this n and seed.

    The draw is repeated by `campaigns.services.round_create` over the same population, so the round
    records the seed and the strata; the schools are checked against the preview's draw.
    `expected_school_ids`: the schools the user saw drawn; refused when the frame has changed since
    (a school got its first score, or was added or closed), since the same seed now draws others."""
    access.require(can_create_round(actor))
    seed = check_seed(seed)
    units, _, _ = _frame(campaign=campaign, actor=actor, unscored_value=unscored_value)
    n = check_size(n, len(units))
    expected = sorted(s.pk for s in sampling.draw(units, n, seed).schools)
    if expected_school_ids is not None and sorted(expected_school_ids) != expected:
        raise ValidationError(
            "抽样之后学校或检查得分有变化，同一种子现在抽中的学校与页面上的不同；请重新抽样后再创建"
        )
    today = timezone.localdate()
    start_date = start_date or today
    round_ = campaign_services.round_create(
        campaign=campaign,
        kind=Round.Kind.MOCK,
        name=name or default_round_name(n, seed, today),
        start_date=start_date,
        end_date=end_date or start_date + dt.timedelta(days=14),
        sample_size=n,
        sample_seed=seed,
        sample_population=units,
        actor=actor,
        request=request,
    )
    got = sorted(round_.schools.values_list("pk", flat=True))
    if got != expected:  # the same sampling function over the same frame: cannot differ
        raise ValidationError("抽样结果与预览不一致，未创建轮次")
    return round_
