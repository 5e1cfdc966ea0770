"""模拟测评 API, mounted at /api/reports/mock/: the draw with its estimate, and the round made from it.

Same rules as the pages: 系统管理员, 局领导 and 创文办 may draw; 系统管理员 and 创文办 may create the round.
Input is read through the page's form, so bad input gets the same Chinese messages (422)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from ninja import Router, Schema, Status

from chuangwen.core import access

from . import figures, mock
from .mock_views import MockForm

router = Router(tags=["模拟测评"])

METHOD = (
    "精确计算：以各校最近一次计分检查的得分为真实得分，各类型内不放回简单随机抽样，"
    "期望 Σ(n_h/n)·Ȳ_h，方差 Σ(n_h/n)²·(1−n_h/N_h)·S_h²/n_h；95% 区间与低于达标线的概率按正态近似。"
)


class DrawnSchoolOut(Schema):
    school_id: int
    name: str
    school_type: str
    district: str
    score: Decimal | None
    value: Decimal


class StratumOut(Schema):
    school_type: str
    label: str
    population: int
    drawn: int
    mean: float
    sd: float


class EstimateOut(Schema):
    mean: float
    se: float
    low: float
    high: float
    threshold: Decimal
    p_below: float


class LikelyOut(Schema):
    standard_id: int
    code: str
    text: str
    points: Decimal
    p_lose: float
    expected_lost: float
    schools_losing: int
    schools_checked: int


class MockOut(Schema):
    campaign_id: int
    n: int
    seed: int
    threshold: Decimal
    unscored_value: Decimal | None
    population: int
    strata: list[StratumOut]
    schools: list[DrawnSchoolOut]
    estimate: EstimateOut
    draw_mean: float
    unscored: list[DrawnSchoolOut]
    likely: list[LikelyOut]
    method: str


class MockRoundIn(Schema):
    campaign_id: int | str | None = None
    n: int | str
    seed: int | str
    unscored_value: Decimal | str | None = None
    name: str = ""
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    school_ids: list[int] | None = None  # the schools GET /draw returned; refused if they differ now


class MockRoundOut(Schema):
    id: int
    name: str
    kind: str
    campaign_id: int
    sample_size: int
    sample_seed: int
    sample_strata: dict
    school_ids: list[int]


def _clean(*, campaign, n, seed, threshold, unscored) -> dict:
    if campaign in (None, ""):
        active = figures.active_campaign()
        if active is None:
            raise ValidationError({"campaign": "没有进行中的创建周期，请指定 campaign"})
        campaign = active.pk
    form = MockForm(
        {
            "campaign": campaign,
            "n": n,
            "seed": "" if seed is None else seed,
            "threshold": threshold,
            "unscored": "" if unscored is None else unscored,
        }
    )
    if not form.is_valid():
        raise ValidationError({k: list(v) for k, v in form.errors.items()})
    return form.cleaned_data


@router.get("/draw", response=MockOut, summary="分层抽样并估计得分")
def mock_draw(
    request,
    n: str,
    seed: str | None = None,
    threshold: str = str(mock.DEFAULT_THRESHOLD),
    unscored: str | None = None,
    campaign: str | None = None,
):
    """Draw n schools stratified by type (a random seed when none is given, returned in `seed`) and the
    exact expectation and uncertainty of the evaluators' mean score."""
    access.require(mock.can_view(request.user))
    data = _clean(campaign=campaign, n=n, seed=seed, threshold=threshold, unscored=unscored)
    result = mock.mock_draw(
        campaign=data["campaign"],
        n=data["n"],
        seed=data["seed"],
        threshold=data["threshold"],
        unscored_value=data["unscored"],
        actor=request.user,
    )
    return {
        "campaign_id": result.campaign.pk,
        "n": result.n,
        "seed": result.seed,
        "threshold": result.threshold,
        "unscored_value": result.unscored_value,
        "population": result.population,
        "strata": result.strata,
        "schools": result.schools,
        "estimate": result.estimate,
        "draw_mean": result.draw_mean,
        "unscored": result.unscored,
        "likely": result.likely,
        "method": METHOD,
    }


@router.post("/rounds", response={201: MockRoundOut}, summary="按抽样创建模拟测评轮次")
def mock_create_round(request, payload: MockRoundIn):
    """Create a 模拟测评 round over exactly the schools that `GET /draw` gives for this n and seed."""
    access.require(mock.can_create_round(request.user))
    data = _clean(
        campaign=payload.campaign_id,
        n=payload.n,
        seed=payload.seed,
        threshold=mock.DEFAULT_THRESHOLD,
        unscored=payload.unscored_value,
    )
    if data["seed"] is None:
        raise ValidationError({"seed": "请填写抽样时的随机种子"})
    round_ = mock.mock_round_create(
        campaign=data["campaign"],
        n=data["n"],
        seed=data["seed"],
        unscored_value=data["unscored"],
        name=payload.name,
        start_date=payload.start_date,
        end_date=payload.end_date,
        expected_school_ids=payload.school_ids,
        actor=request.user,
        request=request,
    )
    return Status(
        201,
        {
            "id": round_.pk,
            "name": round_.name,
            "kind": round_.kind,
            "campaign_id": round_.campaign_id,
            "sample_size": round_.sample_size,
            "sample_seed": round_.sample_seed,
            "sample_strata": round_.sample_strata,
            "school_ids": sorted(round_.schools.values_list("pk", flat=True)),
        },
    )
