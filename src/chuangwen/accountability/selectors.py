"""Reads of accountability records. `visible_records` is the one rule of who sees which record:
bureau roles the units in their reach; a school's roles their own school's records only (through
`core.access`, like every other scoped read)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from chuangwen.core import access
from chuangwen.org.models import Unit

from .models import CARD_KINDS, Kind, Record


def visible_records(user) -> QuerySet[Record]:
    return access.filter_by_reach(Record.objects.all(), user, path_field="unit__path")


def visible_units(user) -> QuerySet[Unit]:
    """Units whose history the user may read."""
    return access.visible_units(user)


def is_bureau_reader(user) -> bool:
    return access.is_bureau_staff(user) or access.scope_of(user).everything


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    unit_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    acknowledged: str = ""  # "yes" / "no" / ""
    revoked: str = ""  # "yes" / "no" / "" (all)
    cards_only: bool = False


def record_list(*, user, filters: Filters | None = None) -> QuerySet[Record]:
    f = filters or Filters()
    qs = visible_records(user).select_related("unit", "created_by", "acknowledged_by", "card_period")
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.cards_only:
        qs = qs.filter(kind__in=CARD_KINDS)
    if f.unit_id:
        qs = qs.filter(unit_id=f.unit_id)
    if f.date_from:
        qs = qs.filter(date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(date__lte=f.date_to)
    if f.acknowledged == "yes":
        qs = qs.filter(acknowledged_at__isnull=False)
    elif f.acknowledged == "no":
        qs = qs.filter(acknowledged_at__isnull=True, revoked_at__isnull=True)
    if f.revoked == "yes":
        qs = qs.filter(revoked_at__isnull=False)
    elif f.revoked == "no":
        qs = qs.filter(revoked_at__isnull=True)
    return qs.order_by("-date", "-pk")


def unit_summary(unit: Unit) -> dict:
    """Counts of the unit's records by kind (revoked ones left out)."""
    rows = (
        Record.objects.filter(unit=unit, revoked_at__isnull=True)
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    counts = dict(rows)
    return {label: counts.get(value, 0) for value, label in Kind.choices}


def card_rows(*, user, today: dt.date, repeat_days: int) -> list[dict]:
    """Per school with any card (visible to the user): its cards in force now and all its cards, newest
    first. Two queries whatever the number of schools."""
    cards = list(
        visible_records(user)
        .filter(kind__in=CARD_KINDS)
        .select_related("unit", "card_period", "unit__parent")
        .annotate(problem_count=Count("problems"))
        .order_by("unit__path", "-date", "-pk")
    )
    by_unit: dict[int, dict] = {}
    for card in cards:
        row = by_unit.setdefault(
            card.unit_id, {"unit": card.unit, "current": [], "history": [], "yellow": 0, "red": 0}
        )
        row["history"].append(card)
        if card.is_revoked:
            continue
        row["yellow" if card.kind == Kind.YELLOW else "red"] += 1
        end = card.period_end
        if end <= today <= end + dt.timedelta(days=repeat_days):
            row["current"].append(card)
    rows = list(by_unit.values())
    rows.sort(
        key=lambda r: (not r["current"], -sum(c.kind == Kind.RED for c in r["current"]), r["unit"].path)
    )
    return rows


def visible_problems_of(user, record: Record):
    """The record's problems the user may see (an unannounced round's problems stay hidden)."""
    from chuangwen.ledger.selectors import visible_problems

    return visible_problems(user).filter(pk__in=record.problems.values("pk")).select_related("school")
