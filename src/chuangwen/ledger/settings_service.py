"""Saving the campaign office's rules for deadlines, lights and escalation (整改规则)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from chuangwen.core import access, audit

from .deadlines import MAX_DAYS
from .models import LedgerSettings

LADDER_ROLES = frozenset({"liaison", "school_head", "dept_head", "leader", "office", "responsible"})
MAX_STEPS = 10


def _snapshot(obj: LedgerSettings) -> dict:
    return {
        "default_days": obj.default_days,
        "yellow_ratio": str(obj.yellow_ratio),
        "yellow_min_hours": obj.yellow_min_hours,
        "remind_daily": obj.remind_daily,
        "ladder": list(obj.ladder or []),
    }


def _check_ladder(ladder) -> list[dict]:
    if not isinstance(ladder, list):
        raise ValidationError({"ladder": "升级规则格式无效"})
    if len(ladder) > MAX_STEPS:
        raise ValidationError({"ladder": f"升级规则最多 {MAX_STEPS} 级"})
    out, seen = [], set()
    for i, step in enumerate(ladder, start=1):
        if not isinstance(step, dict):
            raise ValidationError({"ladder": f"第 {i} 级格式无效"})
        after = step.get("after")
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_DAYS:
            raise ValidationError({"ladder": f"第 {i} 级：逾期工作日数须在 0 到 {MAX_DAYS} 之间"})
        if after in seen:
            raise ValidationError({"ladder": f"第 {i} 级：逾期后第 {after} 个工作日已有一级升级"})
        seen.add(after)
        roles = [str(r) for r in step.get("roles") or []]
        if not roles:
            raise ValidationError({"ladder": f"第 {i} 级：请至少选择一个通知对象"})
        unknown = sorted(set(roles) - LADDER_ROLES)
        if unknown:
            raise ValidationError({"ladder": f"第 {i} 级：未知的通知对象 {'、'.join(unknown)}"})
        clean = {
            "after": after,
            "roles": list(dict.fromkeys(roles)),
            "label": str(step.get("label") or "")[:50],
        }
        if step.get("bulletin"):
            clean["bulletin"] = True
        out.append(clean)
    return sorted(out, key=lambda s: s["after"])


@transaction.atomic
def ledger_settings_save(*, values: dict, actor, request=None) -> LedgerSettings:
    """Save the rules (campaign office only); audited as "ledger.settings" with before and after."""
    if not access.can_manage_campaigns(actor):
        raise ValidationError("只有创文办可以修改整改规则", code="forbidden")
    obj = LedgerSettings.objects.select_for_update().filter(pk=1).first() or LedgerSettings(pk=1)
    before = _snapshot(obj)
    days = values.get("default_days")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError({"default_days": f"默认工作日数须在 1 到 {MAX_DAYS} 之间"})
    try:
        ratio = Decimal(str(values.get("yellow_ratio"))).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"yellow_ratio": "临期比例须是 0 到 0.99 之间的小数"}) from exc
    if not Decimal("0") <= ratio <= Decimal("0.99"):
        raise ValidationError({"yellow_ratio": "临期比例须是 0 到 0.99 之间的小数"})
    hours = values.get("yellow_min_hours")
    if not isinstance(hours, int) or not 0 <= hours <= 72:
        raise ValidationError({"yellow_min_hours": "临期最少小时数须在 0 到 72 之间"})
    obj.default_days = days
    obj.yellow_ratio = ratio
    obj.yellow_min_hours = hours
    obj.remind_daily = bool(values.get("remind_daily"))
    obj.ladder = _check_ladder(values.get("ladder", []))
    obj.updated_by = actor
    obj.save()
    audit.record(
        "ledger.settings",
        actor=actor,
        request=request,
        obj=obj,
        data={"before": before, "after": _snapshot(obj)},
    )
    return obj
