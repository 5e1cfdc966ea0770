"""Every change to campaigns and rounds. Keyword-only, atomic, one audit event each."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from chuangwen.core import access, audit
from chuangwen.index.models import Edition
from chuangwen.org.models import Membership, Unit

from . import sampling
from .models import TRANSITIONS, Campaign, Round, RoundInspector, RoundSchool
from .selectors import INSPECTOR_ROLES


def _check_dates(start_date: dt.date, end_date: dt.date) -> None:
    if end_date < start_date:
        raise ValidationError({"end_date": "结束日期不能早于开始日期"})


@transaction.atomic
def campaign_create(
    *, name: str, edition: Edition, start_date: dt.date, end_date: dt.date, actor, request=None
) -> Campaign:
    access.require(access.can_manage_campaigns(actor))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写名称"})
    if edition.status != Edition.Status.PUBLISHED:
        raise ValidationError({"edition": f"“{edition.name}”未发布，创建周期只能使用已发布的测评体系"})
    _check_dates(start_date, end_date)
    if Campaign.objects.filter(name=name).exists():
        raise ValidationError({"name": f"已有名为“{name}”的创建周期"})
    campaign = Campaign.objects.create(
        name=name, edition=edition, start_date=start_date, end_date=end_date, created_by=actor
    )
    audit.record(
        "campaign.create",
        actor=actor,
        request=request,
        obj=campaign,
        data={"edition_id": edition.pk, "start": start_date, "end": end_date},
    )
    return campaign


def _scope_schools(actor, schools: Iterable[Unit]) -> list[Unit]:
    schools = list(schools)
    reachable = set(
        access.visible_schools(actor).filter(pk__in=[s.pk for s in schools]).values_list("pk", flat=True)
    )
    for school in schools:
        if not school.is_school:
            raise ValidationError({"schools": f"“{school.name}”不是学校"})
        if school.pk not in reachable:
            raise ValidationError({"schools": f"无权将“{school.name}”纳入检查"})
    return schools


def _set_inspectors(round_: Round, inspectors: Iterable) -> list[int]:
    inspectors = list({u.pk: u for u in inspectors}.values())
    if inspectors and round_.kind == Round.Kind.SELF:
        raise ValidationError({"inspectors": "自查轮次由学校自行检查，不指派督查员"})
    eligible = set(
        Membership.objects.filter(
            user_id__in=[u.pk for u in inspectors], role__in=INSPECTOR_ROLES, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    for user in inspectors:
        if user.pk not in eligible:
            raise ValidationError({"inspectors": f"“{user.name or user.username}”不是督查员或创文办人员"})
    RoundInspector.objects.filter(round=round_).exclude(user_id__in=eligible).delete()
    have = set(RoundInspector.objects.filter(round=round_).values_list("user_id", flat=True))
    RoundInspector.objects.bulk_create(
        [RoundInspector(round=round_, user_id=pk) for pk in sorted(eligible - have)]
    )
    return sorted(eligible)


@transaction.atomic
def round_create(
    *,
    campaign: Campaign,
    kind: str,
    name: str,
    start_date: dt.date,
    end_date: dt.date,
    schools: Iterable[Unit] | None = None,
    sample_size: int | None = None,
    sample_seed: int | None = None,
    sample_population: Iterable[Unit] | None = None,
    inspectors: Iterable = (),
    actor,
    request=None,
) -> Round:
    """Create a round over explicit `schools`, or over a stratified random sample of `sample_size`
    schools (from `sample_population`, by default every active school in the actor's reach). The seed is
    drawn when not given, and recorded with the strata sizes so the draw can be repeated.
    """
    access.require(access.can_manage_campaigns(actor))
    if campaign.status != Campaign.Status.ACTIVE:
        raise ValidationError(f"“{campaign.name}”已结束，不能再添加检查轮次")
    if kind not in Round.Kind.values:
        raise ValidationError({"kind": f"未知的轮次类型：{kind}"})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写名称"})
    _check_dates(start_date, end_date)
    if (schools is None) == (sample_size is None):
        raise ValidationError("请选择受检学校，或指定随机抽样的学校数（二者选一）")
    strata: dict = {}
    if sample_size is not None:
        if sample_seed is None:
            sample_seed = secrets.randbelow(2**31)
        if sample_population is None:
            sample_population = access.visible_schools(actor).filter(is_active=True)
        result = sampling.draw(_scope_schools(actor, sample_population), sample_size, sample_seed)
        chosen, strata = result.schools, result.strata
    else:
        chosen = _scope_schools(actor, schools)
        sample_seed = None
    if not chosen:
        raise ValidationError({"schools": "请至少选择一所学校"})
    round_ = Round.objects.create(
        campaign=campaign,
        kind=kind,
        name=name,
        start_date=start_date,
        end_date=end_date,
        sample_size=sample_size,
        sample_seed=sample_seed,
        sample_strata=strata,
        created_by=actor,
    )
    RoundSchool.objects.bulk_create([RoundSchool(round=round_, school=s) for s in chosen])
    inspector_ids = _set_inspectors(round_, inspectors)
    audit.record(
        "round.create",
        actor=actor,
        request=request,
        obj=round_,
        data={
            "campaign_id": campaign.pk,
            "kind": kind,
            "start": start_date,
            "end": end_date,
            "schools": sorted(s.pk for s in chosen),
            "inspectors": inspector_ids,
            "sample_size": sample_size,
            "sample_seed": sample_seed,
            "sample_strata": strata,
        },
    )
    return round_


@transaction.atomic
def round_assign_inspectors(*, round_: Round, inspectors: Iterable, actor, request=None) -> Round:
    """Replace the round's inspectors (users holding 督查员 or 创文办)."""
    access.require(access.can_manage_campaigns(actor))
    if round_.status == Round.Status.FINISHED:
        raise ValidationError("已结束的轮次不能再调整督查员")
    before = sorted(round_.round_inspectors.values_list("user_id", flat=True))
    after = _set_inspectors(round_, inspectors)
    if before != after:
        audit.record(
            "round.inspectors",
            actor=actor,
            request=request,
            obj=round_,
            data={"before": before, "after": after},
        )
    return round_


@transaction.atomic
def round_transition(*, round_: Round, to: str, actor, request=None) -> Round:
    """Move a round along TRANSITIONS; anything else is refused."""
    access.require(access.can_manage_campaigns(actor))
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if to not in TRANSITIONS.get(round_.status, ()):
        labels = dict(Round.Status.choices)
        raise ValidationError(
            f"检查轮次不能从“{labels.get(round_.status, round_.status)}”变为“{labels.get(to, to)}”"
        )
    before = round_.status
    round_.status = to
    round_.save(update_fields=["status", "updated_at"])
    audit.record(
        "round.transition", actor=actor, request=request, obj=round_, data={"from": before, "to": to}
    )
    return round_


@transaction.atomic
def round_create_follow_up(
    *,
    campaign: Campaign,
    previous_rounds: Iterable[Round],
    name: str,
    start_date: dt.date,
    end_date: dt.date,
    inspectors: Iterable = (),
    actor,
    request=None,
) -> Round:
    """Create a 跟踪督查 round over the schools that still have unfinished problems from earlier rounds.

    Only problems found in `previous_rounds` count, and only those not yet closed (销号) or voided; the
    round covers their schools and nothing else. The problems it follows are recorded in the round's
    `round.follow_up` audit event (problem ids per school), see `selectors.followed_problem_ids`.
    Refused when those rounds have no unfinished problem: there is nothing to follow up.
    """
    from chuangwen.ledger.models import DONE_STATUSES, Problem

    previous_rounds = list(previous_rounds)
    if not previous_rounds:
        raise ValidationError({"previous_rounds": "请选择要跟踪的轮次"})
    if any(r.campaign_id != campaign.pk for r in previous_rounds):
        raise ValidationError({"previous_rounds": "跟踪的轮次必须属于同一创建周期"})
    problems = list(
        Problem.objects.filter(round__in=previous_rounds)
        .exclude(status__in=DONE_STATUSES)
        .order_by("school_id", "pk")
        .values_list("pk", "school_id")
    )
    if not problems:
        names = "、".join(f"“{r.name}”" for r in previous_rounds)
        raise ValidationError(
            {"previous_rounds": f"{names}没有未销号的问题（问题均已销号或作废），无需跟踪督查"}
        )
    by_school: dict[int, list[int]] = {}
    for problem_id, school_id in problems:
        by_school.setdefault(school_id, []).append(problem_id)
    schools = list(Unit.objects.filter(pk__in=by_school).order_by("path"))
    round_ = round_create(
        campaign=campaign,
        kind=Round.Kind.FOLLOW_UP,
        name=name,
        start_date=start_date,
        end_date=end_date,
        schools=schools,
        inspectors=inspectors,
        actor=actor,
        request=request,
    )
    round_.previous_rounds.set(previous_rounds)
    audit.record(
        "round.follow_up",
        actor=actor,
        request=request,
        obj=round_,
        data={
            "previous_rounds": sorted(r.pk for r in previous_rounds),
            "problems": [pk for pk, _ in problems],
            "problems_by_school": {str(k): v for k, v in by_school.items()},
        },
    )
    return round_
