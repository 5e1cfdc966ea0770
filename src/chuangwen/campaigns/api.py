"""Campaigns and rounds, read-only, through the same visibility rule as the pages."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from . import selectors
from .models import Round

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
