"""Accountability over JSON: records (list, read with history, create, acknowledge), the cards by school and
the card rules — through the same selectors and services as the pages.

Who sees a record is `selectors.visible_records`; a refusal by a service answers 403, bad input 422.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from chuangwen.core import access
from chuangwen.inspections.api import Id, Text, refusals
from chuangwen.ledger.selectors import visible_problems

from . import selectors, services
from .models import CardRules, Kind, Record

router = Router()
TAGS = ["问责记录"]
KIND_LABELS = dict(Kind.choices)


def _name(user) -> str:
    return (user.name or user.username) if user is not None else ""


class RecordFields(Schema):
    id: int
    number: str
    kind: str
    kind_label: str
    unit_id: int
    unit_name: str
    date: dt.date
    reason: str
    source: str
    card_period_start: dt.date | None
    card_period_end: dt.date | None
    follows_id: int | None
    bulletin_id: int | None
    talk_at: dt.datetime | None
    talk_place: str
    talk_people: str
    talk_outcome: str
    created_by_name: str
    created_at: dt.datetime
    acknowledged: bool
    acknowledged_by_name: str
    acknowledged_at: dt.datetime | None
    acknowledgement_note: str
    revoked: bool
    revoked_at: dt.datetime | None
    revoke_reason: str


def _as_dict(record: Record) -> dict:
    out = {f: getattr(record, f) for f in RecordFields.model_fields if hasattr(record, f)}
    out.update(
        kind_label=KIND_LABELS.get(record.kind, record.kind),
        unit_name=record.unit.name,
        card_period_start=record.card_period.start if record.card_period_id else None,
        card_period_end=record.card_period.end if record.card_period_id else None,
        created_by_name=_name(record.created_by) or "系统",
        acknowledged=record.acknowledged_at is not None,
        acknowledged_by_name=_name(record.acknowledged_by),
        revoked=record.revoked_at is not None,
    )
    return out


class RecordOut(RecordFields):
    @staticmethod
    def resolve_kind_label(obj):
        return KIND_LABELS.get(obj.kind, obj.kind)

    @staticmethod
    def resolve_unit_name(obj):
        return obj.unit.name

    @staticmethod
    def resolve_card_period_start(obj):
        return obj.card_period.start if obj.card_period_id else None

    @staticmethod
    def resolve_card_period_end(obj):
        return obj.card_period.end if obj.card_period_id else None

    @staticmethod
    def resolve_created_by_name(obj):
        return _name(obj.created_by) or "系统"

    @staticmethod
    def resolve_acknowledged(obj):
        return obj.acknowledged_at is not None

    @staticmethod
    def resolve_acknowledged_by_name(obj):
        return _name(obj.acknowledged_by)

    @staticmethod
    def resolve_revoked(obj):
        return obj.revoked_at is not None


class EventOut(Schema):
    kind: str
    kind_label: str
    actor_name: str
    at: dt.datetime
    note: str
    data: dict


class ProblemRef(Schema):
    id: int
    number: str
    status: str


class RecordDetailOut(RecordFields):
    problems: list[ProblemRef]
    events: list[EventOut]
    may_acknowledge: bool


class RecordFilters(Schema):
    kind: str = ""
    unit_id: int | None = Field(None, ge=1)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    acknowledged: str = ""
    revoked: str = ""


class RecordIn(Schema):
    kind: str
    unit_id: Id
    reason: Text
    date: dt.date
    problem_ids: list[Id] = []
    talk_at: dt.datetime | None = None
    talk_place: Text = ""
    talk_people: Text = ""


class AcknowledgeIn(Schema):
    note: Text = ""


class CardOut(Schema):
    id: int
    number: str
    kind: str
    date: dt.date
    period_start: dt.date | None
    period_end: dt.date | None
    problems: int
    revoked: bool


class SchoolCardsOut(Schema):
    unit_id: int
    unit_name: str
    yellow: int
    red: int
    current: list[CardOut]
    history: list[CardOut]


class RulesOut(Schema):
    enabled: bool
    threshold: int
    period_days: int
    repeat_days: int
    start_date: dt.date
    next_period_start: dt.date
    next_period_end: dt.date


def _records(user):
    return selectors.visible_records(user).select_related(
        "unit", "card_period", "created_by", "acknowledged_by"
    )


def _detail(request, record_id: int) -> dict:
    user = request.user
    record = get_object_or_404(_records(user), pk=record_id)
    out = _as_dict(record)
    out["problems"] = [
        {"id": p.pk, "number": p.number, "status": p.status}
        for p in selectors.visible_problems_of(user, record).order_by("pk")
    ]
    out["events"] = [
        {
            "kind": e.kind,
            "kind_label": e.get_kind_display(),
            "actor_name": _name(e.actor) or "系统",
            "at": e.at,
            "note": e.note,
            "data": e.data,
        }
        for e in record.events.select_related("actor").order_by("at", "pk")
    ]
    out["may_acknowledge"] = (
        not record.is_revoked and not record.is_acknowledged and services.may_acknowledge(user, record)
    )
    return out


@router.get("/records", response=list[RecordOut], tags=TAGS, summary="问责记录列表")
@paginate(PageNumberPagination, page_size=50)
def list_accountability_records(request, filters: Query[RecordFilters]):
    if filters.kind and filters.kind not in Kind.values:
        raise ValidationError({"kind": f"未知的类别：{filters.kind}（可用：{'、'.join(Kind.values)}）"})
    f = selectors.Filters(
        kind=filters.kind,
        unit_id=filters.unit_id,
        date_from=filters.date_from,
        date_to=filters.date_to,
        acknowledged=filters.acknowledged if filters.acknowledged in ("yes", "no") else "",
        revoked=filters.revoked if filters.revoked in ("yes", "no") else "",
    )
    return selectors.record_list(user=request.user, filters=f).select_related(
        "card_period", "created_by", "acknowledged_by"
    )


@router.get("/records/{record_id}", response=RecordDetailOut, tags=TAGS, summary="问责记录详情")
def get_accountability_record(request, record_id: Id):
    return _detail(request, record_id)


@router.post("/records", response={201: RecordDetailOut}, tags=TAGS, summary="登记问责记录（创文办）")
def create_accountability_record(request, payload: RecordIn):
    user = request.user
    unit = get_object_or_404(access.visible_units(user), pk=payload.unit_id)
    problems = list(visible_problems(user).filter(pk__in=payload.problem_ids).select_related("school"))
    if len(problems) != len(set(payload.problem_ids)):
        raise ValidationError({"problem_ids": "有问题不存在或您无权查看"})
    talk_at = payload.talk_at
    if talk_at is not None and timezone.is_naive(talk_at):
        talk_at = timezone.make_aware(talk_at)
    with refusals():
        record = services.record_create(
            kind=payload.kind,
            unit=unit,
            reason=payload.reason,
            date=payload.date,
            problems=problems,
            talk_at=talk_at,
            talk_place=payload.talk_place,
            talk_people=payload.talk_people,
            actor=user,
            request=request,
        )
    return Status(201, _detail(request, record.pk))


@router.post(
    "/records/{record_id}/acknowledge",
    response=RecordDetailOut,
    tags=TAGS,
    summary="确认问责记录（单位负责人）",
)
def acknowledge_accountability_record(request, record_id: Id, payload: AcknowledgeIn):
    record = get_object_or_404(_records(request.user), pk=record_id)
    with refusals():
        services.record_acknowledge(record=record, actor=request.user, note=payload.note, request=request)
    return _detail(request, record.pk)


def _card(r: Record) -> dict:
    period = r.card_period
    return {
        "id": r.pk,
        "number": r.number,
        "kind": r.kind,
        "date": r.date,
        "period_start": period.start if period else None,
        "period_end": period.end if period else None,
        "problems": r.problem_count if hasattr(r, "problem_count") else r.problems.count(),
        "revoked": r.is_revoked,
    }


@router.get("/cards", response=list[SchoolCardsOut], tags=TAGS, summary="红黄牌（按学校）")
def list_accountability_cards(request):
    rules = CardRules.current()
    rows = selectors.card_rows(user=request.user, today=timezone.localdate(), repeat_days=rules.repeat_days)
    return [
        {
            "unit_id": row["unit"].pk,
            "unit_name": row["unit"].name,
            "yellow": row["yellow"],
            "red": row["red"],
            "current": [_card(r) for r in row["current"]],
            "history": [_card(r) for r in row["history"]],
        }
        for row in rows
    ]


@router.get("/rules", response=RulesOut, tags=TAGS, summary="红黄牌规则")
def get_accountability_rules(request):
    from .cards import next_period

    rules = CardRules.current()
    start, end = next_period(rules)
    return {
        **rules.snapshot(),
        "start_date": rules.start_date,
        "next_period_start": start,
        "next_period_end": end,
    }
