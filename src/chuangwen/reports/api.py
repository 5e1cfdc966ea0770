"""Dashboards and rankings over JSON, with the pages' scoping (reports.selectors): the city dashboard and
the rankings for bureau roles (403 otherwise), a school's figures for bureau roles and the school's own
people (404 for any other school). The 大屏 refreshes itself from `GET /api/reports/dashboard`.

Filters are the pages' (`campaign`, `round`, `district`, `school_type`, `sort`); an id that does not fit
(a round of another campaign, a district out of reach) is ignored, as on the pages; a malformed one is 422.
"""

from __future__ import annotations

from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema

from chuangwen.inspections.api import Id
from chuangwen.org.models import Unit

from . import dashboard, rankings, selectors

router = Router(tags=["数据看板与排名"])

SchoolType = Literal[("", *Unit.SchoolType.values)]  # built from the model's choices


class FilterIn(Schema):
    campaign: Id | None = Field(None, description="创建周期 id；缺省为进行中的最新周期")
    round: Id | None = Field(None, description="检查轮次 id（须属于该周期）；缺省为各校最近一次测评")
    district: Id | None = Field(None, description="区县单位 id")
    school_type: SchoolType = Field("", description="学校类型")

    def params(self) -> dict:
        return {k: v for k, v in self.dict().items() if v not in (None, "")}


class DashboardIn(FilterIn):
    coverage: bool = Field(True, description="是否计算责任覆盖（大屏不需要）")


class RankingIn(FilterIn):
    sort: Literal["score", "rate", "overdue"] = Field(
        "score", description="排序：得分 / 整改率 / 逾期问题（多者在前）"
    )


class Ref(Schema):
    id: int
    name: str


class SchoolOut(Schema):
    id: int
    name: str
    school_type: str
    school_type_label: str
    district: str = Field(description="区县名称；市直学校为空")
    score: float | None = Field(description="百分制得分；未检查为 null")
    self_score: float | None
    vetoed: bool
    inspections: int
    problems: int
    open_problems: int
    overdue: int
    closed: int
    rectification_rate: float | None
    rank: int | None = Field(description="全市排名（并列同名次），未检查为 null")
    rank_in_type: int | None
    url: str


class CountOut(Schema):
    key: str
    label: str
    count: int
    url: str | None = None


class CityOut(Schema):
    score: float | None
    schools: int
    inspected_schools: int
    problems: int
    open_problems: int = Field(description="未销号：待交办、已交办、整改中、待复核")
    todo: int = Field(0, description="待整改：待交办、已交办、整改中（台帐“未销号（待整改）”）")
    pending_review: int = Field(0, description="待复核")
    overdue: int
    closed: int
    rectification_rate: float | None
    median_days_to_close: float | None
    by_status: list[CountOut]
    by_light: list[CountOut]


class TrendOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    start_date: str
    score: float | None
    inspected_schools: int
    url: str


class WorstOut(Schema):
    id: int
    name: str
    lost: float
    url: str


class LossOut(Schema):
    id: int
    code: str
    text: str
    points: float
    lost: float
    schools_losing: int
    schools_checked: int
    url: str
    worst: list[WorstOut]


class GroupOut(Schema):
    name: str
    schools: int
    inspected_schools: int
    score: float | None
    problems: int
    open_problems: int
    overdue: int
    rectification_rate: float | None


class CoverageSchoolOut(Schema):
    id: int
    name: str
    unowned: int
    url: str


class CoverageOut(Schema):
    applicable: int
    owned: int
    unowned: int
    percent: float | None
    url: str
    worst: list[CoverageSchoolOut]


class DashboardOut(Schema):
    campaign: Ref | None = Field(description="无创建周期时为 null，其余字段缺省")
    round: Ref | None = None
    district: str = ""
    school_type: str = ""
    city: CityOut | None = None
    inspected_any: bool = False
    trend: list[TrendOut] = []
    lost: list[LossOut] = []
    schools: list[SchoolOut] = []
    by_district: list[GroupOut] = []
    by_type: list[GroupOut] = []
    coverage: CoverageOut | None = None


class RankedOut(SchoolOut):
    position: int | None = Field(description="按所选排序的名次（并列同名次）；无该项数据为 null")


class ProblemRef(Schema):
    id: int
    description: str
    status: str
    deadline: str | None
    standard: str
    url: str


class SchoolLinks(Schema):
    open: str = Field(description="台帐：未销号（待整改），不含待复核")
    pending_review: str = ""
    overdue: str
    all: str


class SchoolCounts(Schema):
    todo: int = Field(description="待整改（台帐“未销号（待整改）”）")
    pending_review: int
    overdue: int


class SchoolTrendOut(Schema):
    id: int
    name: str
    kind_label: str
    city: float | None = Field(description="全市该轮得分")
    mine: float | None = Field(description="本校该轮得分；未检查为 null")


class SchoolDashboardOut(Schema):
    campaign: Ref | None
    round: Ref | None = None
    school: SchoolOut | None = None
    trend: list[SchoolTrendOut] = []
    city_average: float | None = None
    type_average: float | None = None
    type_label: str = ""
    ranked: int = 0
    ranked_in_type: int = 0
    lost: list[LossOut] = []
    open_list: list[ProblemRef] = []
    counts: SchoolCounts | None = None
    links: SchoolLinks | None = None


@router.get(
    "/dashboard", response=DashboardOut, summary="城市看板数据（全市与各校）", url_name="reports_dashboard"
)
def reports_dashboard(request, filters: Annotated[DashboardIn, Query()]):
    selectors.require_city(request.user)
    f = selectors.filters_for(request.user, filters.params())
    return dashboard.city_dashboard(user=request.user, filters=f, with_coverage=filters.coverage)


@router.get("/rankings", response=list[RankedOut], summary="学校排名", url_name="reports_rankings")
def reports_rankings(request, filters: Annotated[RankingIn, Query()]):
    selectors.require_city(request.user)
    f = selectors.filters_for(request.user, filters.params())
    return [dashboard.school_row(r.figures) | {"position": r.position} for r in rankings.ranked(f)]


@router.get(
    "/schools/{school_id}", response=SchoolDashboardOut, summary="学校看板数据", url_name="reports_school"
)
def reports_school(request, school_id: Id, filters: Annotated[FilterIn, Query()]):
    school = selectors.school_for(request.user, school_id)
    f = selectors.filters_for(request.user, filters.params())
    return dashboard.school_dashboard(
        user=request.user, school=school, filters=f, as_bureau=selectors.sees_as_bureau(request.user, school)
    )
