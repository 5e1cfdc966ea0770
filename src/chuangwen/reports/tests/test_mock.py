"""The mock evaluation's draw and estimate (reports.mock), checked against independent computations.

The fixture (built through the real services) has 11 active schools in four types plus an inactive one:
小学 a, c, d, e, f · 初中 b, g, h · 高中 i (one school) · 幼儿园 j, k (k never inspected). school_a was
inspected twice; its later (better) inspection counts. One school is vetoed (score 0).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chuangwen.campaigns import sampling
from chuangwen.core.roles import Role
from chuangwen.inspections.models import Answer, Inspection
from chuangwen.ledger.tests.factories import make_setup
from chuangwen.org.models import Unit
from chuangwen.org.tests.factories import SchoolFactory
from chuangwen.reports import mock

from .factories import inspect, new_round

T = Unit.SchoolType

# school key -> answers {code: result or occurrences}
ANSWERS = {
    "a": {"1.1": "达标", "1.2": "合格", "1.3": 0, "1.4": "合格"},
    "c": {"1.1": "基本达标", "1.2": "合格", "1.3": 1, "1.4": "合格"},
    "d": {"1.1": "不达标", "1.2": "不合格", "1.3": 2, "1.4": "合格"},
    "e": {"1.1": "达标", "1.2": "不合格", "1.3": 0, "1.4": "合格"},
    "f": {"1.1": "基本达标", "1.2": "合格", "1.3": 3, "1.4": "合格"},
    "b": {"1.1": "达标", "1.2": "合格", "1.3": 1, "1.4": "合格"},
    "g": {"1.1": "不达标", "1.2": "合格", "1.3": 4, "1.4": "合格"},
    "h": {"1.1": "达标", "1.2": "不适用", "1.3": 0, "1.4": "不合格"},  # vetoed
    "i": {"1.1": "基本达标", "1.2": "不合格", "1.3": 1, "1.4": "合格"},
    "j": {"1.1": "达标", "1.2": "合格", "1.3": 2, "1.4": "合格"},
}


@dataclass
class MockCity:
    city: object
    setup: object
    campaign: object
    round: object
    schools: dict  # key -> Unit
    office: object


def build_mock_city(city) -> MockCity:
    setup = make_setup(city)
    inspector = city.users[Role.INSPECTOR]
    schools = {"a": city.school_a, "b": city.school_b, "c": city.school_c}
    district_a, district_b = city.district_a, city.district_b
    for key, school_type, parent in [
        ("d", T.PRIMARY, district_a),
        ("e", T.PRIMARY, district_b),
        ("f", T.PRIMARY, city.bureau),
        ("g", T.JUNIOR, district_b),
        ("h", T.JUNIOR, district_a),
        ("i", T.SENIOR, city.bureau),
        ("j", T.KINDERGARTEN, district_a),
        ("k", T.KINDERGARTEN, district_b),
    ]:
        schools[key] = SchoolFactory(parent=parent, name=f"模拟学校{key}", school_type=school_type)
    SchoolFactory(parent=district_a, name="已停办学校", school_type=T.PRIMARY, is_active=False)
    base = timezone.now() - dt.timedelta(days=10)
    # school_a's earlier, worse inspection in the setup's round: not the latest, so it does not count.
    inspect(
        setup,
        setup.round,
        schools["a"],
        inspector,
        {"1.1": "不达标", "1.2": "不合格", "1.3": 4, "1.4": "合格"},
        when=base,
    )
    round_ = new_round(city, setup.campaign, "mock", "全市模拟测评", [schools[k] for k in sorted(schools)])
    for key, answers in ANSWERS.items():
        inspect(setup, round_, schools[key], inspector, answers, when=base + dt.timedelta(days=1))
    return MockCity(city, setup, setup.campaign, round_, schools, city.users[Role.OFFICE])


@pytest.fixture
def mc(city):
    return build_mock_city(city)


# --- independent views of the fixture ---------------------------------------------------------------


def latest_scores(campaign) -> dict[int, Decimal]:
    """school id -> score of its latest submitted inspection in the campaign (plain ORM, no reports code)."""
    scores: dict[int, Decimal] = {}
    for school_id, score in (
        Inspection.objects.filter(round__campaign=campaign, status=Inspection.Status.SUBMITTED)
        .order_by("-submitted_at", "-pk")
        .values_list("school_id", "score")
    ):
        scores.setdefault(school_id, score)
    return scores


def strata_values(mc, unscored=None) -> dict[str, list[float]]:
    scores = latest_scores(mc.campaign)
    out: dict[str, list[float]] = defaultdict(list)
    for school in Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True):
        value = scores.get(school.pk, unscored)
        if value is not None:
            out[school.school_type].append(float(value))
    return out


def formula(values: dict[str, list[float]], alloc: dict[str, int]) -> tuple[float, float]:
    """The textbook stratified formulas written out again in floats."""
    n = sum(alloc.values())
    e = sum(alloc[h] / n * statistics.fmean(values[h]) for h in alloc if alloc[h])
    v = 0.0
    for h, n_h in alloc.items():
        if n_h and len(values[h]) > 1:
            v += (n_h / n) ** 2 * (1 - n_h / len(values[h])) * statistics.variance(values[h]) / n_h
    return e, v


def draw(mc, n, seed, **kwargs):
    return mock.mock_draw(campaign=mc.campaign, n=n, seed=seed, actor=mc.office, **kwargs)


# --- the draw --------------------------------------------------------------------------------------


def test_the_fixture_scores_are_what_the_estimate_reads(mc):
    scores = latest_scores(mc.campaign)
    assert len(scores) == 10 and mc.schools["k"].pk not in scores
    assert scores[mc.schools["h"].pk] == 0  # vetoed
    assert scores[mc.schools["a"].pk] == 100  # the later inspection counts, not the earlier one
    assert len(set(scores.values())) >= 6  # varied enough for a variance to mean something


def test_same_seed_same_schools_different_seeds_differ(mc):
    first = draw(mc, 4, 12345)
    again = draw(mc, 4, 12345)
    assert [s.school_id for s in first.schools] == [s.school_id for s in again.schools]
    assert first.seed == 12345
    draws = {tuple(sorted(s.school_id for s in draw(mc, 4, seed).schools)) for seed in range(20)}
    assert len(draws) > 5  # 3·1·5·1 = 15 possible draws of 4; 20 seeds hit many of them


def test_blank_seed_is_drawn_and_reproduces(mc):
    result = mock.mock_draw(campaign=mc.campaign, n=5, actor=mc.office)
    assert isinstance(result.seed, int) and 0 <= result.seed < 2**31
    assert [s.school_id for s in draw(mc, 5, result.seed).schools] == [s.school_id for s in result.schools]


# Population without the uninspected kindergarten k: 初中 3, 幼儿园 1, 小学 5, 高中 1 (10 schools).
# Rule: quota_h = n·N_h/N; floors first, the remaining places by largest remainder (ties: type code
# order); if n ≥ number of types, a type left at 0 takes one place from the type most above its quota.
EXPECTED = {
    1: {"junior": 0, "kindergarten": 0, "primary": 1, "senior": 0},  # quotas .3 .1 .5 .1
    2: {"junior": 1, "kindergarten": 0, "primary": 1, "senior": 0},  # .6 .2 1.0 .2
    4: {"junior": 1, "kindergarten": 1, "primary": 1, "senior": 1},  # 1.2 .4 2 .4 → primary gives one up
    5: {"junior": 1, "kindergarten": 1, "primary": 2, "senior": 1},  # 1.5 .5 2.5 .5 → junior gives one up
    7: {"junior": 2, "kindergarten": 1, "primary": 3, "senior": 1},  # 2.1 .7 3.5 .7
    9: {"junior": 3, "kindergarten": 1, "primary": 4, "senior": 1},  # 2.7 .9 4.5 .9 (n > senior's 1)
    10: {"junior": 3, "kindergarten": 1, "primary": 5, "senior": 1},  # everybody
}


@pytest.mark.parametrize("n", sorted(EXPECTED))
def test_strata_sizes(mc, n):
    result = draw(mc, n, 99)
    got = {s.school_type: s.drawn for s in result.strata}
    assert got == EXPECTED[n]
    assert {s.school_type: s.population for s in result.strata} == {
        "junior": 3,
        "kindergarten": 1,
        "primary": 5,
        "senior": 1,
    }
    assert len(result.schools) == n
    by_type = defaultdict(int)
    for school in result.schools:
        by_type[school.school_type] += 1
    assert {k: by_type.get(k, 0) for k in got} == got
    assert all(len(s.schools) == s.drawn for s in result.strata)


@pytest.mark.parametrize("n", range(1, 12))
def test_strata_sizes_with_uninspected_counted(mc, n):
    """With k counted at 60: 11 schools, 幼儿园 has 2; properties of the rule for every n."""
    result = draw(mc, n, 3, unscored_value=Decimal(60))
    sizes = {s.school_type: (s.drawn, s.population) for s in result.strata}
    assert sum(d for d, _ in sizes.values()) == n == len({s.school_id for s in result.schools})
    assert sizes["kindergarten"][1] == 2
    for drawn, population in sizes.values():
        assert 0 <= drawn <= population
        quota = n * population / 11
        assert abs(drawn - quota) < 1 or drawn == 1  # proportional, save the at-least-one rule
    if n >= 4:
        assert all(drawn >= 1 for drawn, _ in sizes.values())


def test_draw_is_the_campaigns_sampling_draw(mc):
    """The draw wraps campaigns.sampling.draw: the same population, n and seed give the same schools."""
    units = [u for u in Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True) if u != mc.schools["k"]]
    for seed in (1, 2, 777):
        expected = [u.pk for u in sampling.draw(units, 6, seed).schools]
        assert [s.school_id for s in draw(mc, 6, seed).schools] == expected


# --- the estimate ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "unscored"), [(4, None), (5, None), (7, None), (10, None), (6, Decimal(60))])
def test_estimate_equals_the_formula_over_the_fixture(mc, n, unscored):
    result = draw(mc, n, 5, unscored_value=unscored, threshold=Decimal(85))
    values = strata_values(mc, unscored)
    e, v = formula(values, {s.school_type: s.drawn for s in result.strata})
    est = result.estimate
    assert est.mean == pytest.approx(e, abs=1e-9)
    assert est.variance == pytest.approx(v, abs=1e-9)
    assert est.se == pytest.approx(v**0.5, abs=1e-9)
    assert est.low == pytest.approx(e - 1.959963984540054 * v**0.5, abs=1e-9)
    assert est.high == pytest.approx(e + 1.959963984540054 * v**0.5, abs=1e-9)
    if v > 0:
        assert est.p_below == pytest.approx(statistics.NormalDist(e, v**0.5).cdf(85), abs=1e-12)
    else:
        assert est.p_below == (1.0 if e < 85 else 0.0)
    drawn_scores = latest_scores(mc.campaign)
    own = [float(drawn_scores.get(s.school_id, unscored)) for s in result.schools]
    assert result.draw_mean == pytest.approx(statistics.fmean(own), abs=1e-9)


def test_whole_population_has_no_uncertainty(mc):
    result = draw(mc, 10, 1)
    assert result.estimate.variance == 0
    scores = [float(s) for s in latest_scores(mc.campaign).values()]
    assert result.estimate.mean == pytest.approx(statistics.fmean(scores))
    assert result.draw_mean == pytest.approx(result.estimate.mean)
    assert result.estimate.p_below in (0.0, 1.0)


@pytest.mark.parametrize(("n", "unscored"), [(4, None), (6, Decimal(60))])
def test_estimate_agrees_with_a_simulation_of_many_draws(mc, n, unscored):
    """Check of the formula, not a timing: 6,000 draws by the real sampling function (seeds 0…5999)."""
    result = draw(mc, n, 0, unscored_value=unscored)
    scores = latest_scores(mc.campaign)
    units = [
        u
        for u in Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True)
        if u.pk in scores or unscored is not None
    ]
    value = {u.pk: float(scores.get(u.pk, unscored)) for u in units}
    rounds = 6000
    means = [
        statistics.fmean(value[u.pk] for u in sampling.draw(units, n, seed).schools) for seed in range(rounds)
    ]
    est = result.estimate
    assert est.variance > 0
    assert abs(statistics.fmean(means) - est.mean) < 4 * (est.variance / rounds) ** 0.5
    assert statistics.variance(means) == pytest.approx(est.variance, rel=0.1)
    # and the simulated draws of one independent RNG agree as well (not only seeds 0…n)
    rng = random.Random(20261127)
    strata = defaultdict(list)
    for u in units:
        strata[u.school_type].append(value[u.pk])
    alloc = {s.school_type: s.drawn for s in result.strata}
    sims = [
        statistics.fmean([x for h, n_h in alloc.items() for x in rng.sample(strata[h], n_h)])
        for _ in range(rounds)
    ]
    assert abs(statistics.fmean(sims) - est.mean) < 4 * (est.variance / rounds) ** 0.5
    assert statistics.variance(sims) == pytest.approx(est.variance, rel=0.1)


def test_uninspected_schools_are_excluded_or_counted(mc):
    k = mc.schools["k"]
    excluded = draw(mc, 10, 4)
    assert [s.school_id for s in excluded.unscored] == [k.pk]
    assert excluded.population == 10 and k.pk not in {s.school_id for s in excluded.schools}
    counted = draw(mc, 11, 4, unscored_value=Decimal("42.5"))
    assert counted.population == 11 and k.pk in {s.school_id for s in counted.schools}
    drawn_k = next(s for s in counted.schools if s.school_id == k.pk)
    assert drawn_k.score is None and drawn_k.value == Decimal("42.5")
    scores = [float(s) for s in latest_scores(mc.campaign).values()]
    assert counted.estimate.mean == pytest.approx(statistics.fmean([*scores, 42.5]))


def test_threshold_moves_the_probability(mc):
    low = draw(mc, 4, 8, threshold=Decimal(0))
    high = draw(mc, 4, 8, threshold=Decimal(100))
    assert low.estimate.p_below < 0.01 < 0.99 < high.estimate.p_below
    assert low.estimate.mean == high.estimate.mean


@pytest.mark.parametrize(
    ("n", "message"),
    [(0, "至少为 1"), (-3, "至少为 1"), (11, "不能超过可抽样的学校数（10 所）"), ("5", "必须是整数")],
)
def test_bad_sizes_are_refused(mc, n, message):
    with pytest.raises(ValidationError) as exc:
        draw(mc, n, 1)
    assert message in str(exc.value.message_dict["n"])


def test_bad_seed_is_refused(mc):
    for seed in (-1, "abc", 2**62 + 1):
        with pytest.raises(ValidationError) as exc:
            draw(mc, 3, seed)
        assert "随机种子" in str(exc.value.message_dict["seed"])


def test_school_roles_may_not_draw(mc):
    from django.core.exceptions import PermissionDenied

    for role in (Role.SCHOOL_HEAD, Role.LIAISON, Role.INSPECTOR, Role.DEPT_HEAD):
        with pytest.raises(PermissionDenied):
            mock.mock_draw(campaign=mc.campaign, n=3, seed=1, actor=mc.city.users[role])


# --- standards likely to lose points ---------------------------------------------------------------


def independent_losses(mc, alloc: dict[str, int]) -> dict[str, tuple[float, float]]:
    """code -> (P(drawn school loses on it), expected points lost per drawn school), in plain Python over
    the Answer rows of each school's latest inspection."""
    latest: dict[int, int] = {}
    for pk, school_id in (
        Inspection.objects.filter(round__campaign=mc.campaign, status=Inspection.Status.SUBMITTED)
        .order_by("-submitted_at", "-pk")
        .values_list("pk", "school_id")
    ):
        latest.setdefault(school_id, pk)
    type_of = dict(Unit.objects.filter(pk__in=latest).values_list("pk", "school_type"))
    per_type = defaultdict(int)
    for school_id in latest:
        per_type[type_of[school_id]] += 1
    lost: dict[tuple[str, str], list[float]] = defaultdict(list)  # (code, type) -> per-school losses
    for answer in Answer.objects.filter(inspection_id__in=latest.values()).select_related(
        "standard", "inspection__school"
    ):
        if answer.result == "不适用":
            continue
        lost[(answer.standard.code, answer.inspection.school.school_type)].append(
            float(answer.standard.points - answer.points)
        )
    total = sum(n_h for h, n_h in alloc.items() if per_type.get(h))
    out = {}
    for code in mc.setup.standards:
        p = e = 0.0
        for h, n_h in alloc.items():
            if not n_h or not per_type.get(h):
                continue
            losses = lost.get((code, h), [])
            p += n_h / total * sum(1 for x in losses if x > 0) / per_type[h]
            e += n_h / total * sum(losses) / per_type[h]
        out[code] = (p, e)
    return out


@pytest.mark.parametrize("n", [2, 4, 7])
def test_likely_losses_equal_an_independent_computation(mc, n):
    result = draw(mc, n, 11)
    expected = independent_losses(mc, {s.school_type: s.drawn for s in result.strata})
    losing = {code: pe for code, pe in expected.items() if pe[0] > 0 or pe[1] > 0}
    got = {s.code: (s.p_lose, s.expected_lost) for s in result.likely}
    # every standard some drawn type loses on is listed; listed ones match
    for code, (p, e) in got.items():
        assert p == pytest.approx(expected[code][0], abs=1e-9)
        assert e == pytest.approx(expected[code][1], abs=1e-9)
    assert {c for c, (p, _) in losing.items() if p > 0} <= set(got)
    ordered = [s.p_lose for s in result.likely]
    assert ordered == sorted(ordered, reverse=True)


def test_likely_losses_count_schools_and_link_to_standards(mc):
    result = draw(mc, 10, 1)
    by_code = {s.code: s for s in result.likely}
    # 1.3 (乱贴乱画, per occurrence): c, d, f, b, g, i, j lose points; a, e, h do not
    assert by_code["1.3"].schools_losing == 7
    assert by_code["1.3"].schools_checked == 10
    assert by_code["1.3"].p_lose == pytest.approx(0.7)
    # 1.2 is 不适用 at h: checked at 9 schools, lost at d, e, i
    assert (by_code["1.2"].schools_losing, by_code["1.2"].schools_checked) == (3, 9)
    assert by_code["1.3"].standard_id == mc.setup.standards["1.3"].pk
