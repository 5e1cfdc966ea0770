"""Bulletins over JSON: list, read (with the generated content), create a draft, issue, and the .docx /
PDF downloads — through the same selectors and services as the pages. Who sees which bulletin is
`selectors.visible_bulletins`; drafting and issuing need 创文办 or 系统管理员 (403 otherwise)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from chuangwen.campaigns.models import Campaign
from chuangwen.campaigns.selectors import visible_rounds
from chuangwen.core import access
from chuangwen.inspections.api import Id, Text, refusals

from . import output, selectors, services
from .models import Bulletin
from .views import _download

router = Router()
TAGS = ["通报"]


class BulletinOut(Schema):
    id: int
    number: str
    year: int | None
    sequence: int | None
    title: str
    label: str
    kind: str
    status: str
    status_label: str
    campaign_id: int
    round_id: int | None
    period_start: dt.date | None
    period_end: dt.date | None
    issued_at: dt.datetime | None
    reissue_of_id: int | None
    content_sha256: str
    docx_url: str
    pdf_url: str


class BulletinDetailOut(BulletinOut):
    addressee: str
    intro: str
    requirements: str
    closing: str
    addressed_to_all: bool
    commended: list[dict]
    criticised: list[dict]
    content: dict[str, Any]


class BulletinIn(Schema):
    campaign_id: Id
    round_id: Id | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    title: Text = ""
    label: Text = ""


def _summary(b: Bulletin) -> dict:
    fields = [
        "number",
        "year",
        "sequence",
        "title",
        "label",
        "kind",
        "status",
        "campaign_id",
        "round_id",
        "period_start",
        "period_end",
        "issued_at",
        "reissue_of_id",
        "content_sha256",
    ]
    return {
        "id": b.pk,
        **{f: getattr(b, f) for f in fields},
        "status_label": b.get_status_display(),
        "docx_url": f"/api/bulletins/{b.pk}/docx",
        "pdf_url": f"/api/bulletins/{b.pk}/pdf",
    }


def _detail(bulletin: Bulletin) -> dict:
    data = _summary(bulletin)
    data.update(
        {
            "addressee": bulletin.addressee,
            "intro": bulletin.intro,
            "requirements": bulletin.requirements,
            "closing": bulletin.closing,
            "addressed_to_all": bulletin.addressed_to_all,
            "content": bulletin.content or {},
        }
    )
    if bulletin.is_issued:
        c = bulletin.content or {}
        data["commended"] = [
            {"id": i, "name": n}
            for i, n in zip(c.get("commended_ids", []), c.get("commended_names", []), strict=False)
        ]
        data["criticised"] = [
            {"id": i, "name": n}
            for i, n in zip(c.get("criticised_ids", []), c.get("criticised_names", []), strict=False)
        ]
    else:
        data["commended"] = [{"id": u.pk, "name": u.name} for u in bulletin.commended.order_by("name")]
        data["criticised"] = [{"id": u.pk, "name": u.name} for u in bulletin.criticised.order_by("name")]
    return data


def _visible(request, bulletin_id: int) -> Bulletin:
    return get_object_or_404(selectors.visible_bulletins(request.user), pk=bulletin_id)


@router.get("", response=list[BulletinOut], tags=TAGS, summary="通报列表")
def list_bulletins(request, status: str = ""):
    return [_summary(b) for b in selectors.bulletin_list(request.user, status=status)[:500]]


@router.post("", response={201: BulletinDetailOut}, tags=TAGS, summary="生成通报草稿（按时段或轮次）")
def create_bulletin(request, payload: BulletinIn):
    access.require(selectors.can_manage_bulletins(request.user))
    campaign = get_object_or_404(Campaign, pk=payload.campaign_id)
    round_ = None
    if payload.round_id is not None:
        round_ = get_object_or_404(visible_rounds(request.user), pk=payload.round_id)
    with refusals():
        bulletin = services.bulletin_create(
            campaign=campaign,
            round=round_,
            period_start=payload.period_start,
            period_end=payload.period_end,
            title=payload.title,
            label=payload.label,
            actor=request.user,
            request=request,
        )
    return Status(201, _detail(bulletin))


@router.get("/{bulletin_id}", response=BulletinDetailOut, tags=TAGS, summary="通报详情（含生成内容）")
def get_bulletin(request, bulletin_id: Id):
    return _detail(_visible(request, bulletin_id))


@router.post(
    "/{bulletin_id}/issue", response=BulletinDetailOut, tags=TAGS, summary="印发通报（编文号、冻结、发送）"
)
def issue_bulletin(request, bulletin_id: Id):
    access.require(selectors.can_manage_bulletins(request.user))
    bulletin = _visible(request, bulletin_id)
    with refusals():
        bulletin = services.bulletin_issue(bulletin=bulletin, actor=request.user, request=request)
    return _detail(bulletin)


@router.get("/{bulletin_id}/docx", tags=TAGS, summary="下载 Word（GB/T 9704 版式）")
def download_bulletin_docx(request, bulletin_id: Id) -> HttpResponse:
    bulletin = _visible(request, bulletin_id)
    return _download(bulletin, output.docx_bytes(bulletin), "docx", output.DOCX_TYPE)


@router.get("/{bulletin_id}/pdf", tags=TAGS, summary="下载 PDF")
def download_bulletin_pdf(request, bulletin_id: Id) -> HttpResponse:
    bulletin = _visible(request, bulletin_id)
    return _download(bulletin, output.pdf_bytes(bulletin), "pdf", output.PDF_TYPE)
