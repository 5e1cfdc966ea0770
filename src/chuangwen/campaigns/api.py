"""Campaigns and rounds through the same visibility rule as the pages; the campaign office creates rounds,
assigns inspectors and moves rounds along through the same services."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from chuangwen.core import access

from . import selectors, services
from .models import Campaign, Round

router = Router()
KIND_LABELS = dict(Round.Kind.choices)
STATUS_LABELS = dict(Round.Status.choices)


class CampaignOut(Schema):
    id: int
    name: str
    edition_id: int
    edition_name: str
    start_date: dt.date
    end_date: dt.date
    status: str

    @staticmethod
    def resolve_edition_name(obj):
        return obj.edition.name


class RoundFields(Schema):
    id: int
    campaign_id: int
    campaign_name: str
    kind: str
    kind_label: str
    name: str
    start_date: dt.date
    end_date: dt.date
    status: str
    status_label: str


class RoundOut(RoundFields):
    @staticmethod
    def resolve_campaign_name(obj):
        return obj.campaign.name

    @staticmethod
    def resolve_kind_label(obj):
        return KIND_LABELS.get(obj.kind, obj.kind)

    @staticmethod
    def resolve_status_label(obj):
        return STATUS_LABELS.get(obj.status, obj.status)


class RoundSchoolOut(Schema):
    id: int
    name: str
    school_type: str


class StratumOut(Schema):
    school_type: str
    drawn: int
    population: int


class RoundDetailOut(RoundFields):
    schools: list[RoundSchoolOut]
    inspector_ids: list[int]
    sample_size: int | None
    sample_seed: int | None
    sample_strata: list[StratumOut]


@router.get("/", response=list[CampaignOut], tags=["检查轮次"], summary="创建周期列表")
@paginate(PageNumberPagination, page_size=200)
def list_campaigns(request):
    return selectors.campaign_list()


@router.get("/rounds", response=list[RoundOut], tags=["检查轮次"], summary="检查轮次列表")
@paginate(PageNumberPagination, page_size=200)
def list_rounds(request, campaign: int | None = None):
    return selectors.round_list(user=request.user, campaign_id=campaign)


@router.get("/rounds/{round_id}", response=RoundDetailOut, tags=["检查轮次"], summary="检查轮次详情")
def get_round(request, round_id: int):
    round_ = get_object_or_404(selectors.visible_rounds(request.user).select_related("campaign"), pk=round_id)
    return _round_detail(request, round_)


def _round_detail(request, round_: Round) -> dict:
    whole = selectors.sees_whole_round(request.user, round_)
    return {
        "id": round_.pk,
        "campaign_id": round_.campaign_id,
        "campaign_name": round_.campaign.name,
        "kind": round_.kind,
        "kind_label": KIND_LABELS.get(round_.kind, round_.kind),
        "name": round_.name,
        "start_date": round_.start_date,
        "end_date": round_.end_date,
        "status": round_.status,
        "status_label": STATUS_LABELS.get(round_.status, round_.status),
        "schools": [
            {"id": s.pk, "name": s.name, "school_type": s.school_type}
            for s in selectors.round_schools(user=request.user, round_=round_)
        ],
        "inspector_ids": sorted(round_.inspectors.values_list("pk", flat=True)) if whole else [],
        "sample_size": round_.sample_size if whole else None,
        "sample_seed": round_.sample_seed if whole else None,
        "sample_strata": [
            {"school_type": k, "drawn": v["drawn"], "population": v["population"]}
            for k, v in sorted(round_.sample_strata.items())
        ]
        if whole
        else [],
    }


class RoundIn(Schema):
    campaign_id: int
    kind: str
    name: str
    start_date: dt.date
    end_date: dt.date
    school_ids: list[int] | None = None
    sample_size: int | None = None
    sample_seed: int | None = None
    inspector_ids: list[int] = []


class InspectorsIn(Schema):
    inspector_ids: list[int]


class TransitionIn(Schema):
    to: str


def _inspectors(ids: list[int]):
    found = list(selectors.inspector_candidates().filter(pk__in=ids))
    missing = sorted(set(ids) - {u.pk for u in found})
    if missing:
        from django.core.exceptions import ValidationError

        raise ValidationError({"inspector_ids": f"不是可指派的督查员：{missing}"})
    return found


@router.post("/rounds", response={201: RoundDetailOut}, tags=["检查轮次"], summary="新建检查轮次")
def create_round(request, payload: RoundIn):
    access.require(access.can_manage_campaigns(request.user))
    campaign = get_object_or_404(Campaign, pk=payload.campaign_id)
    schools = None
    if payload.school_ids is not None:
        visible = access.visible_schools(request.user).filter(pk__in=payload.school_ids)
        schools = list(visible)
        missing = sorted(set(payload.school_ids) - {s.pk for s in schools})
        if missing:
            from django.core.exceptions import ValidationError

            raise ValidationError({"school_ids": f"学校不存在或不在您的管辖范围内：{missing}"})
    round_ = services.round_create(
        campaign=campaign,
        kind=payload.kind,
        name=payload.name,
        start_date=payload.start_date,
        end_date=payload.end_date,
        schools=schools,
        sample_size=payload.sample_size,
        sample_seed=payload.sample_seed,
        inspectors=_inspectors(payload.inspector_ids),
        actor=request.user,
        request=request,
    )
    return Status(201, _round_detail(request, round_))


@router.put("/rounds/{round_id}/inspectors", response=RoundDetailOut, tags=["检查轮次"], summary="指派督查员")
def set_round_inspectors(request, round_id: int, payload: InspectorsIn):
    access.require(access.can_manage_campaigns(request.user))
    round_ = get_object_or_404(selectors.visible_rounds(request.user), pk=round_id)
    round_ = services.round_assign_inspectors(
        round_=round_, inspectors=_inspectors(payload.inspector_ids), actor=request.user, request=request
    )
    return _round_detail(request, round_)


@router.post(
    "/rounds/{round_id}/transition", response=RoundDetailOut, tags=["检查轮次"], summary="开始/结束轮次"
)
def transition_round(request, round_id: int, payload: TransitionIn):
    access.require(access.can_manage_campaigns(request.user))
    round_ = get_object_or_404(selectors.visible_rounds(request.user), pk=round_id)
    round_ = services.round_transition(round_=round_, to=payload.to, actor=request.user, request=request)
    return _round_detail(request, round_)
