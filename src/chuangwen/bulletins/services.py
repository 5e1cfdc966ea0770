"""Every change to bulletins: keyword-only, atomic, one audit event each.

Drafts are created (generated), edited, refreshed and deleted; issuing freezes them (number, content
snapshot and its SHA-256, the unit lists by name), sends them to the schools' inboxes and, once the
transaction has committed, the `bulletin_issued` signal. An issued bulletin is never changed: a
correction is a reissue, a new draft that takes a new number when it is issued.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from chuangwen.campaigns.models import Campaign, Round
from chuangwen.core import access, audit
from chuangwen.core.roles import Role
from chuangwen.notify.services import notify
from chuangwen.org.models import Membership, Unit

from . import generate
from .models import ISSUED_IMMUTABLE, Bulletin, BulletinCounter, BulletinSchedule, BulletinSettings
from .outline import date_cn
from .selectors import can_manage_bulletins, selectable_schools
from .signals import bulletin_issued

SHANGHAI = ZoneInfo("Asia/Shanghai")
READER_ROLES = (Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST)
MAX_TEXT = 5000
MAX_PERIOD_DAYS = 400
DEFAULT_INTRO = (
    "为进一步压实创建全国文明城市工作责任，推动问题整改落实到位，现将{scope}创文工作情况通报如下："
)
DEFAULT_REQUIREMENTS = (
    "（一）压实整改责任。各学校主要负责人要亲自研究、亲自部署，对照通报问题逐项整改，按时限完成销号。\n"
    "（二）强化常态长效。对已经做好的工作要继续巩固，防止问题反弹，确保测评不丢分。\n"
    "（三）严肃追究问责。对整改不力、逾期未改的学校，将通报批评并约谈主要负责人。"
)
TEXT_FIELDS = ("title", "label", "addressee", "intro", "requirements", "closing")
LIMITS = {
    "title": 200,
    "label": 50,
    "addressee": 200,
    "intro": MAX_TEXT,
    "requirements": MAX_TEXT,
    "closing": MAX_TEXT,
}


def _require_manager(actor) -> None:
    access.require(can_manage_bulletins(actor))


def _locked(bulletin: Bulletin) -> Bulletin:
    return Bulletin.objects.select_for_update().get(pk=bulletin.pk)


def _refuse_issued(bulletin: Bulletin) -> None:
    if bulletin.status == Bulletin.Status.ISSUED:
        raise ValidationError(ISSUED_IMMUTABLE)


def _clean_text(field: str, value: str | None) -> str:
    value = (value or "").strip()
    if len(value) > LIMITS[field]:
        raise ValidationError({field: f"不能超过 {LIMITS[field]} 字"})
    return value


def _scope_text(*, round: Round | None, period_start, period_end) -> str:
    if round is not None:  # "第一次模拟测评", not "第一次模拟测评（模拟测评）"
        kind = round.get_kind_display()
        return round.name if kind in round.name else f"{round.name}（{kind}）"
    return f"{date_cn(period_start)}至{date_cn(period_end)}"


def _check_scope(*, campaign: Campaign, round: Round | None, period_start, period_end) -> None:
    if round is not None:
        if round.campaign_id != campaign.pk:
            raise ValidationError({"round": "所选轮次不属于该创建周期"})
        return
    if period_start is None or period_end is None:
        raise ValidationError({"period_start": "请选择检查轮次，或填写通报的起止日期"})
    if period_end < period_start:
        raise ValidationError({"period_end": "截止日期不能早于起始日期"})
    if (period_end - period_start).days > MAX_PERIOD_DAYS:
        raise ValidationError({"period_end": f"通报时段不能超过 {MAX_PERIOD_DAYS} 天"})


@transaction.atomic
def bulletin_create(
    *,
    campaign: Campaign,
    actor,
    round: Round | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    title: str = "",
    label: str = "",
    schedule: BulletinSchedule | None = None,
    due_key: str = "",
    request=None,
    now: dt.datetime | None = None,
) -> Bulletin:
    """A draft for a period or a round, with its generated parts and suggested commendations."""
    if actor is not None:  # the worker creates scheduled drafts without a person
        _require_manager(actor)
    _check_scope(campaign=campaign, round=round, period_start=period_start, period_end=period_end)
    if round is not None:
        period_start = period_start or round.start_date
        period_end = period_end or round.end_date
    scope = _scope_text(round=round, period_start=period_start, period_end=period_end)
    cfg = BulletinSettings.current()
    content = generate.generate(
        campaign=campaign,
        round=round,
        period_start=None if round is not None else period_start,
        period_end=None if round is not None else period_end,
        now=now,
    )
    bulletin = Bulletin.objects.create(
        campaign=campaign,
        round=round,
        kind=Bulletin.Kind.ROUND if round is not None else Bulletin.Kind.PERIOD,
        label=_clean_text("label", label or (round.get_kind_display() if round is not None else "工作通报")),
        title=_clean_text("title", title) or f"关于{scope}创文工作情况的通报",
        addressee=cfg.addressee,
        period_start=period_start,
        period_end=period_end,
        intro=DEFAULT_INTRO.format(scope=scope),
        requirements=DEFAULT_REQUIREMENTS,
        content=content,
        created_by=actor,
        schedule=schedule,
        due_key=due_key,
    )
    commended, criticised = generate.suggestions(content)
    bulletin.commended.set(commended)
    bulletin.criticised.set(criticised)
    audit.record(
        "bulletin.create",
        actor=actor,
        request=request,
        obj=bulletin,
        username="worker" if actor is None else "",
        data={
            "campaign_id": campaign.pk,
            "round_id": round.pk if round is not None else None,
            "period": [str(period_start), str(period_end)],
            "schedule_id": schedule.pk if schedule is not None else None,
        },
    )
    return bulletin


def _school_ids(bulletin: Bulletin, units: Iterable, field: str) -> list[int]:
    ids = sorted({int(getattr(u, "pk", u)) for u in units})
    allowed = set(selectable_schools(bulletin).filter(pk__in=ids).values_list("pk", flat=True))
    unknown = [i for i in ids if i not in allowed]
    if unknown:
        raise ValidationError({field: "只能选择本通报范围内的在用学校"})
    return ids


@transaction.atomic
def bulletin_update(
    *,
    bulletin: Bulletin,
    actor,
    request=None,
    commended: Iterable | None = None,
    criticised: Iterable | None = None,
    addressed_to_all: bool | None = None,
    **texts: str,
) -> Bulletin:
    """Change a draft's text parts and its commended / criticised lists (drafts only)."""
    _require_manager(actor)
    unknown = set(texts) - set(TEXT_FIELDS)
    if unknown:
        raise TypeError(f"bulletin_update: unknown fields {sorted(unknown)}")
    bulletin = _locked(bulletin)
    _refuse_issued(bulletin)
    changed = []
    for field, value in texts.items():
        value = _clean_text(field, value)
        if field == "title" and not value:
            raise ValidationError({"title": "标题不能为空"})
        if getattr(bulletin, field) != value:
            setattr(bulletin, field, value)
            changed.append(field)
    if addressed_to_all is not None and bulletin.addressed_to_all != bool(addressed_to_all):
        bulletin.addressed_to_all = bool(addressed_to_all)
        changed.append("addressed_to_all")
    lists = {}
    if commended is not None:
        lists["commended"] = _school_ids(bulletin, commended, "commended")
    if criticised is not None:
        lists["criticised"] = _school_ids(bulletin, criticised, "criticised")
    praise = set(lists.get("commended", bulletin.commended.values_list("pk", flat=True)))
    blame = set(lists.get("criticised", bulletin.criticised.values_list("pk", flat=True)))
    both = praise & blame
    if both:
        names = "、".join(Unit.objects.filter(pk__in=both).order_by("name").values_list("name", flat=True))
        raise ValidationError({"criticised": f"{names} 不能同时被表扬和批评"})
    if changed:
        bulletin.save(update_fields=[*changed, "updated_at"])
    for name, ids in lists.items():
        before = sorted(getattr(bulletin, name).values_list("pk", flat=True))
        if before != ids:
            getattr(bulletin, name).set(ids)
            changed.append(name)
    if changed:
        audit.record("bulletin.update", actor=actor, request=request, obj=bulletin, data={"fields": changed})
    return bulletin


@transaction.atomic
def bulletin_refresh(*, bulletin: Bulletin, actor, request=None, now: dt.datetime | None = None) -> Bulletin:
    """Generate a draft's parts again from the current data (the lists of names stay as edited)."""
    _require_manager(actor)
    bulletin = _locked(bulletin)
    _refuse_issued(bulletin)
    round_ = bulletin.round
    bulletin.content = generate.generate(
        campaign=bulletin.campaign,
        round=round_,
        period_start=None if round_ is not None else bulletin.period_start,
        period_end=None if round_ is not None else bulletin.period_end,
        now=now,
    )
    bulletin.save(update_fields=["content", "updated_at"])
    audit.record("bulletin.refresh", actor=actor, request=request, obj=bulletin)
    return bulletin


@transaction.atomic
def bulletin_delete(*, bulletin: Bulletin, actor, request=None) -> None:
    _require_manager(actor)
    bulletin = _locked(bulletin)
    if bulletin.status == Bulletin.Status.ISSUED:
        raise ValidationError("已印发的通报不能删除；如需更正，请“重新印发”。")
    audit.record(
        "bulletin.delete", actor=actor, request=request, obj=bulletin, data={"title": bulletin.title}
    )
    bulletin.delete()


def _allocate_number(year: int) -> int:
    """The next sequence of the year, taken under the counter row's lock (gap-free: a rolled-back issue
    rolls the counter back too)."""
    counter = BulletinCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                BulletinCounter.objects.create(year=year, last=0)
        except IntegrityError:  # another issuer created it first
            pass
        counter = BulletinCounter.objects.select_for_update().get(year=year)
    used = Bulletin.objects.filter(year=year, sequence__isnull=False).aggregate(m=Max("sequence"))["m"] or 0
    counter.last = max(counter.last, used) + 1
    counter.save(update_fields=["last"])
    return counter.last


def content_digest(bulletin: Bulletin) -> str:
    """SHA-256 of everything a reader sees: the frozen content, the texts and the number."""
    payload = {
        f: getattr(bulletin, f) for f in ("number", "title", "addressee", "intro", "requirements", "closing")
    }
    payload["issuer_name"] = bulletin.issuer_name
    payload["content"] = bulletin.content
    raw = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def recipients_of(bulletin: Bulletin) -> list[int]:
    if bulletin.addressed_to_all:
        ids = generate.scope_school_ids(round=bulletin.round)
        if ids is None:
            ids = list(
                Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True).values_list("pk", flat=True)
            )
        return sorted(ids)
    named = set(bulletin.commended.values_list("pk", flat=True)) | set(
        bulletin.criticised.values_list("pk", flat=True)
    )
    named |= {s["school_id"] for s in bulletin.content.get("problems_by_school", [])}
    named |= {o["school_id"] for o in bulletin.content.get("overdue", [])}
    return sorted(named)


def _notify_schools(bulletin: Bulletin, school_ids: list[int]) -> int:
    people: dict[int, list[int]] = defaultdict(list)
    rows = Membership.objects.filter(
        unit_id__in=school_ids, role__in=READER_ROLES, user__is_active=True
    ).values_list("unit_id", "user_id")
    for unit_id, user_id in rows:
        people[unit_id].append(user_id)
    link = reverse("bulletins:detail", args=[bulletin.pk])
    named = {
        **dict.fromkeys(bulletin.content.get("commended_ids", []), "（贵校被通报表扬）"),
        **dict.fromkeys(bulletin.content.get("criticised_ids", []), "（贵校被通报批评）"),
    }
    sent = 0
    for school_id in school_ids:
        if not people.get(school_id):
            continue
        notify(
            recipients=people[school_id],
            kind="bulletin.issued",
            title=f"通报：{bulletin.title}"[:200],
            body=f"{bulletin.number}{named.get(school_id, '')}",
            link=link,
            unit_id=school_id,
            dedupe_key=f"bulletin:{bulletin.pk}:{school_id}",
        )
        sent += len(people[school_id])
    return sent


@transaction.atomic
def bulletin_issue(*, bulletin: Bulletin, actor, request=None, now: dt.datetime | None = None) -> Bulletin:
    """Number, freeze and send a draft. Refused for an issued bulletin."""
    _require_manager(actor)
    bulletin = _locked(bulletin)
    _refuse_issued(bulletin)
    if not bulletin.title.strip():
        raise ValidationError({"title": "标题不能为空"})
    round_ = bulletin.round
    if (
        round_ is not None
        and round_.kind == Round.Kind.UNANNOUNCED
        and round_.status != Round.Status.FINISHED
    ):
        raise ValidationError("暗访轮次结束前不能印发其通报（学校此时还不应知道该轮次）。")
    now = now or timezone.now()
    cfg = BulletinSettings.current()
    year = now.astimezone(SHANGHAI).year
    sequence = _allocate_number(year)
    commended = list(bulletin.commended.order_by("name", "pk").values_list("pk", "name"))
    criticised = list(bulletin.criticised.order_by("name", "pk").values_list("pk", "name"))
    content = dict(bulletin.content or {})
    content.update(
        {
            "header": cfg.header,
            "commended_ids": [pk for pk, _ in commended],
            "commended_names": [name for _, name in commended],
            "criticised_ids": [pk for pk, _ in criticised],
            "criticised_names": [name for _, name in criticised],
        }
    )
    bulletin.content = content
    recipients = recipients_of(bulletin)
    bulletin.recipients.set(recipients)  # before the status flips: the lists are frozen from then on
    bulletin.year = year
    bulletin.sequence = sequence
    bulletin.number = f"{cfg.prefix}〔{year}〕{sequence}号"
    bulletin.issuer_name = cfg.issuer
    bulletin.status = Bulletin.Status.ISSUED
    bulletin.issued_by = actor
    bulletin.issued_at = now
    bulletin.content_sha256 = content_digest(bulletin)
    bulletin.save()
    sent = _notify_schools(bulletin, recipients)
    audit.record(
        "bulletin.issue",
        actor=actor,
        request=request,
        obj=bulletin,
        data={
            "number": bulletin.number,
            "sha256": bulletin.content_sha256,
            "reissue_of": bulletin.reissue_of_id,
            "schools": len(recipients),
            "notified": sent,
            "commended": content["commended_ids"],
            "criticised": content["criticised_ids"],
        },
    )
    pk = bulletin.pk
    transaction.on_commit(lambda: bulletin_issued.send(sender=Bulletin, bulletin_id=pk))
    return bulletin


@transaction.atomic
def bulletin_reissue(*, bulletin: Bulletin, actor, request=None) -> Bulletin:
    """A new draft copying an issued bulletin (texts, content, lists), `reissue_of` set."""
    _require_manager(actor)
    original = Bulletin.objects.get(pk=bulletin.pk)
    if original.status != Bulletin.Status.ISSUED:
        raise ValidationError("只有已印发的通报可以重新印发；草稿请直接修改。")
    content = {
        k: v
        for k, v in (original.content or {}).items()
        if k not in ("header", "commended_ids", "commended_names", "criticised_ids", "criticised_names")
    }
    draft = Bulletin.objects.create(
        campaign=original.campaign,
        round=original.round,
        kind=original.kind,
        label=original.label,
        title=original.title,
        addressee=original.addressee,
        period_start=original.period_start,
        period_end=original.period_end,
        intro=original.intro,
        requirements=original.requirements,
        closing=original.closing,
        addressed_to_all=original.addressed_to_all,
        content=content,
        reissue_of=original,
        created_by=actor,
    )
    draft.commended.set(original.commended.all())
    draft.criticised.set(original.criticised.all())
    audit.record(
        "bulletin.reissue", actor=actor, request=request, obj=draft, data={"reissue_of": original.number}
    )
    return draft


@transaction.atomic
def settings_save(
    *, actor, number_prefix: str, issuer_name: str, header_text: str, addressee: str, request=None
) -> BulletinSettings:
    _require_manager(actor)
    cfg = BulletinSettings.objects.select_for_update().order_by("pk").first() or BulletinSettings()
    values = {
        "number_prefix": (number_prefix or "").strip()[:30],
        "issuer_name": (issuer_name or "").strip()[:60],
        "header_text": (header_text or "").strip()[:60],
        "addressee": (addressee or "").strip()[:200],
    }
    if any(c in values["number_prefix"] for c in "〔〕[]号"):
        raise ValidationError({"number_prefix": "文号前缀只写机关代字，如“X教体创文”，不含〔年份〕和序号"})
    for k, v in values.items():
        setattr(cfg, k, v)
    cfg.save()
    audit.record("bulletin.settings", actor=actor, request=request, obj=cfg, data=values)
    return cfg
