"""Writes of accountability records. Every change is a RecordEvent and an audit-chain event in one
transaction with the notifications it causes (delivered once the transaction commits).

- 创文办 (and 系统管理员) reaching the unit create, correct and revoke records.
- Only the unit's head (学校一把手 of that school; 科室负责人 of a department; 局领导 held on a district)
  acknowledges a record — personally: not the liaison, not an administrator.
- Nothing is deleted or overwritten silently: a correction keeps the before and after with its reason; a
  revoked record stays in the history, marked 已撤销.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chuangwen.core import access, audit
from chuangwen.core.roles import Role
from chuangwen.notify.services import notify
from chuangwen.org.models import Membership, Unit

from .models import Kind, Record, RecordEvent, Source

CREATOR_ROLES = frozenset({Role.ADMIN, Role.OFFICE})
UNIT_KINDS = frozenset({Unit.Kind.SCHOOL, Unit.Kind.DISTRICT, Unit.Kind.DEPARTMENT})
HEAD_ROLES = {
    Unit.Kind.SCHOOL: Role.SCHOOL_HEAD,
    Unit.Kind.DEPARTMENT: Role.DEPT_HEAD,
    Unit.Kind.DISTRICT: Role.LEADER,
}
LIAISON_ROLES = {Unit.Kind.SCHOOL: Role.LIAISON, Unit.Kind.DISTRICT: Role.OFFICE}
MAX_TEXT = 2000
MAX_PROBLEMS = 200
KIND_LABELS = dict(Kind.choices)
CORRECTABLE = {
    "reason": "事由",
    "date": "日期",
    "talk_at": "约谈时间",
    "talk_place": "约谈地点",
    "talk_people": "约谈人员",
    "talk_outcome": "约谈结果",
}
TALK_FIELDS = frozenset({"talk_at", "talk_place", "talk_people", "talk_outcome"})


def link(record: Record) -> str:
    return f"/accountability/{record.pk}/"


def may_create(user, unit: Unit) -> bool:
    return access.reaches(user, unit, CREATOR_ROLES)


def may_manage(user, record: Record) -> bool:
    """Correct and revoke: the office reaching the record's unit."""
    return access.reaches(user, record.unit, CREATOR_ROLES)


def head_role(unit: Unit) -> str | None:
    return HEAD_ROLES.get(unit.kind)


def may_acknowledge(user, record: Record) -> bool:
    """The unit's head, holding that role on that very unit (a superuser is no head of a school)."""
    role = head_role(record.unit)
    if role is None:
        return False
    return any(g.role == role and g.unit_id == record.unit_id for g in access.scope_of(user).grants)


def unit_people(unit: Unit) -> list[int]:
    """The unit's head and liaison: who is told about its records."""
    roles = {r for r in (HEAD_ROLES.get(unit.kind), LIAISON_ROLES.get(unit.kind)) if r}
    return list(
        Membership.objects.filter(unit=unit, role__in=roles, user__is_active=True)
        .order_by("pk")
        .values_list("user_id", flat=True)
        .distinct()
    )


def _tell(record: Record, recipients: Iterable[int | None], *, title: str, body: str = "", kind: str) -> None:
    ids = [r for r in dict.fromkeys(recipients) if r]
    if ids:
        notify(recipients=ids, kind=kind, title=title, body=body, link=link(record), unit_id=record.unit_id)


def _event(
    record: Record, *, kind: str, actor, request=None, note: str = "", data: dict | None = None
) -> RecordEvent:
    data = data or {}
    audit_event = audit.record(
        f"accountability.{kind}",
        actor=actor,
        request=request,
        obj=record,
        data={"kind": record.kind, "unit_id": record.unit_id, "note": note, **data},
        username="" if actor is not None else "system",
    )
    return RecordEvent.objects.create(
        record=record, kind=kind, actor=actor, note=note, data=data, audit_seq=audit_event.seq
    )


def _text(value, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if "\x00" in value:
        raise ValidationError({field: "包含无效字符"})
    if required and not value:
        raise ValidationError({field: "不能为空"})
    if len(value) > limit:
        raise ValidationError({field: f"不能超过 {limit} 字"})
    return value


def _check_date(value, field: str = "date") -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValidationError({field: "日期无效"})
    if value > timezone.localdate():
        raise ValidationError({field: "日期不能晚于今天"})
    if value.year < 2000:
        raise ValidationError({field: "日期无效"})
    return value


def _check_problems(unit: Unit, problems: Sequence) -> list:
    problems = list(dict.fromkeys(problems))
    if len(problems) > MAX_PROBLEMS:
        raise ValidationError({"problems": f"一条记录最多关联 {MAX_PROBLEMS} 个问题"})
    for p in problems:
        school_path = p.school.path
        if not school_path.startswith(unit.path):
            raise ValidationError({"problems": f"问题 {p.number} 不属于{unit.name}"})
    return problems


def _create(
    *,
    kind: str,
    unit: Unit,
    reason: str,
    date: dt.date,
    actor,
    source: str,
    problems: Sequence = (),
    request=None,
    talk: dict | None = None,
    event_data: dict | None = None,
    **extra,
) -> Record:
    """The one place a record is made (manual, by the rules, from a bulletin); the caller checks who."""
    if kind not in Kind.values:
        raise ValidationError({"kind": "类别无效"})
    if unit.kind not in UNIT_KINDS:
        raise ValidationError({"unit": "问责记录只能针对学校、区县或科室"})
    reason = _text(reason, "reason")
    problems = _check_problems(unit, problems)
    talk = talk or {}
    if kind == Kind.TALK:
        if talk.get("talk_at") is None:
            raise ValidationError({"talk_at": "约谈须填写约谈时间"})
        talk = {
            "talk_at": talk["talk_at"],
            "talk_place": _text(talk.get("talk_place"), "talk_place", required=False, limit=200),
            "talk_people": _text(talk.get("talk_people"), "talk_people", required=False, limit=500),
        }
    elif any(talk.get(k) for k in TALK_FIELDS):
        raise ValidationError({"talk_at": "只有约谈记录才填写约谈时间、地点和人员"})
    else:
        talk = {}
    record = Record.objects.create(
        kind=kind, unit=unit, reason=reason, date=date, source=source, created_by=actor, **talk, **extra
    )
    if problems:
        record.problems.set(problems)
    data = {
        "unit": unit.name,
        "reason": reason,
        "date": date.isoformat(),
        "source": source,
        "problem_ids": [p.pk for p in problems],
        **({"talk_at": talk["talk_at"].isoformat()} if talk else {}),
        **(event_data or {}),
    }
    _event(record, kind=RecordEvent.Kind.CREATE, actor=actor, request=request, data=data)
    label = KIND_LABELS[kind]
    body = reason[:80]
    if kind == Kind.TALK:
        when = timezone.localtime(record.talk_at).strftime("%m月%d日 %H:%M")
        body = f"约谈时间：{when}{'，地点：' + record.talk_place if record.talk_place else ''}。{body}"
    _tell(
        record,
        unit_people(unit),
        kind=f"accountability.{kind}",
        title=f"【{label}】{unit.name}",
        body=body + (f"（请{Role(head_role(unit)).label}确认）" if head_role(unit) else ""),
    )
    return record


@transaction.atomic
def record_create(
    *,
    kind: str,
    unit: Unit,
    reason: str,
    date: dt.date,
    actor,
    problems: Sequence = (),
    talk_at: dt.datetime | None = None,
    talk_place: str = "",
    talk_people: str = "",
    request=None,
) -> Record:
    """Register a record by hand (创文办), telling the unit's head and liaison."""
    if actor is None or not may_create(actor, unit):
        raise ValidationError(f"只有创文办可以登记{unit.name}的问责记录", code="forbidden")
    date = _check_date(date)
    return _create(
        kind=kind,
        unit=unit,
        reason=reason,
        date=date,
        actor=actor,
        source=Source.MANUAL,
        problems=problems,
        request=request,
        talk={"talk_at": talk_at, "talk_place": talk_place, "talk_people": talk_people},
    )


@transaction.atomic
def record_acknowledge(*, record: Record, actor, note: str = "", request=None) -> Record:
    """The unit head confirms having read the record (签收确认), once, with an optional note."""
    record = Record.objects.select_for_update().select_related("unit").get(pk=record.pk)
    if not may_acknowledge(actor, record):
        role = head_role(record.unit)
        who = f"{record.unit.name}的{Role(role).label}" if role else "该单位负责人"
        raise ValidationError(f"只有{who}本人可以确认这条记录", code="forbidden")
    if record.is_revoked:
        raise ValidationError("这条记录已撤销，无需确认")
    if record.is_acknowledged:
        raise ValidationError("这条记录已经确认过了")
    record.acknowledged_by = actor
    record.acknowledged_at = timezone.now()
    record.acknowledgement_note = _text(note, "note", required=False, limit=1000)
    record.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement_note", "updated_at"])
    _event(
        record,
        kind=RecordEvent.Kind.ACKNOWLEDGE,
        actor=actor,
        request=request,
        note=record.acknowledgement_note,
    )
    _tell(
        record,
        [record.created_by_id],
        kind="accountability.acknowledged",
        title=f"{record.unit.name} 已确认{record.get_kind_display()}（{record.number}）",
        body=record.acknowledgement_note[:80],
    )
    return record


@transaction.atomic
def record_revoke(*, record: Record, reason: str, actor, request=None) -> Record:
    """Withdraw a record given in error (撤销). It stays in the history, marked, with the reason."""
    record = Record.objects.select_for_update().select_related("unit").get(pk=record.pk)
    if not may_manage(actor, record):
        raise ValidationError("只有创文办可以撤销问责记录", code="forbidden")
    reason = _text(reason, "reason", limit=1000)
    if record.is_revoked:
        raise ValidationError("这条记录已经撤销")
    record.revoked_at = timezone.now()
    record.revoked_by = actor
    record.revoke_reason = reason
    record.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    _event(record, kind=RecordEvent.Kind.REVOKE, actor=actor, request=request, note=reason)
    _tell(
        record,
        unit_people(record.unit),
        kind="accountability.revoked",
        title=f"【撤销】{record.unit.name} 的{record.get_kind_display()}（{record.number}）已撤销",
        body=reason[:80],
    )
    return record


def _value(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


@transaction.atomic
def record_correct(*, record: Record, changes: dict, reason: str, actor, request=None) -> Record:
    """Correct a record's facts or add a talk's outcome: an event with the reason and before/after."""
    record = Record.objects.select_for_update().select_related("unit").get(pk=record.pk)
    if not may_manage(actor, record):
        raise ValidationError("只有创文办可以更正问责记录", code="forbidden")
    note = _text(reason, "correct_reason", limit=1000)
    if record.is_revoked:
        raise ValidationError("这条记录已撤销，不能更正")
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise ValidationError(f"不能更正：{'、'.join(sorted(unknown))}")
    if set(changes) & TALK_FIELDS and record.kind != Kind.TALK:
        raise ValidationError("只有约谈记录有约谈时间、地点、人员和结果")
    before, after = {}, {}
    for field, value in changes.items():
        if field == "date":
            value = _check_date(value)
        elif field == "talk_at":
            if not isinstance(value, dt.datetime):
                raise ValidationError({"talk_at": "约谈时间无效"})
        else:
            limit = {"talk_place": 200, "talk_people": 500}.get(field, MAX_TEXT)
            value = _text(value, field, required=field == "reason", limit=limit)
        if getattr(record, field) != value:
            before[field], after[field] = _value(getattr(record, field)), _value(value)
            setattr(record, field, value)
    if not after:
        raise ValidationError("没有需要更正的内容")
    record.save(update_fields=[*after, "updated_at"])
    _event(
        record,
        kind=RecordEvent.Kind.CORRECT,
        actor=actor,
        request=request,
        note=note,
        data={"before": before, "after": after},
    )
    _tell(
        record,
        unit_people(record.unit),
        kind="accountability.corrected",
        title=f"{record.unit.name} 的{record.get_kind_display()}（{record.number}）已更正",
        body=note[:80],
    )
    return record
