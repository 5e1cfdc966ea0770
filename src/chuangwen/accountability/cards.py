"""Red and yellow cards (红黄牌) by the office's rules, evaluated over consecutive periods.

"Went overdue" (see docs/decisions/0020-accountability.md): a problem went overdue at the moment it
became overdue in the ledger's sense — waiting on the school (交办待签收 or 整改中) with its deadline in
force passed. That is either its deadline passing while it waits (not submitted, closed or voided by then:
a submission at the deadline itself is in time), or its return to the school (复核不通过) after its
deadline. The moments are read from the ledger's ProblemEvent history, so a problem fixed in time never
counts, and one that is late but fixed since still does. A problem voided (作废) by the time of the
evaluation does not count. A problem counts once per period however often it went overdue in it.

Periods are `period_days` Shanghai days long, back to back from the rules' start date; a period is
evaluated once it is over, and never again (CardPeriod.start is unique), so running twice gives nothing
new. A school with `threshold` or more problems that went overdue in the period gets a 黄牌; if it already
holds a card (not revoked) whose period ended within `repeat_days` before this period began, a 红牌 instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from chuangwen.core import access, audit
from chuangwen.core.calendar import SHANGHAI
from chuangwen.ledger.event_data import deadline_set
from chuangwen.ledger.models import Problem, ProblemEvent, Status
from chuangwen.org.models import Unit

from .models import CARD_KINDS, CardPeriod, CardRules, Kind, Record, Source
from .services import _create

log = logging.getLogger(__name__)

WAITING = frozenset({Status.ASSIGNED, Status.IN_PROGRESS})
CHUNK = 900
# A run catching up after a long pause stops after this many periods; the next run goes on. A person's
# button press does a few (a web request must not run for minutes); the worker does the rest hourly.
MAX_PERIODS_PER_RUN = 400
MAX_PERIODS_PER_CLICK = 6
LIMITS = {"threshold": (1, 100), "period_days": (1, 366), "repeat_days": (0, 3660)}


def midnight(day: dt.date) -> dt.datetime:
    """The first moment of a Shanghai day, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


def _deadline_set(event) -> tuple[bool, dt.datetime | None]:
    """Whether the event set the deadline, and to what."""
    return deadline_set(event.kind, event.move, event.data or {})


def onsets_of(events: list, *, until: dt.datetime, current_deadline=None) -> list[dt.datetime]:
    """The moments before `until` at which the problem became overdue, from its events in order.

    `current_deadline`: the problem's deadline now. When history was moved as a block (the demo city
    backdates problems), the deadlines written in the events are shifted by the same amount as the
    problem's, so that the last one agrees with the problem.
    """
    shift = dt.timedelta(0)
    if current_deadline is not None:
        last = [d for ok, d in map(_deadline_set, events) if ok and d is not None]
        if last and last[-1] != current_deadline:
            shift = current_deadline - last[-1]
    onsets: list[dt.datetime] = []
    status, deadline = Status.NEW, None
    start: dt.datetime | None = None  # when the current state (status, deadline) began
    overdue = False  # whether the problem was overdue at the end of the previous state
    for event in [*(e for e in events if e.at < until), None]:
        end = event.at if event is not None else until
        if start is not None:
            if status in WAITING and deadline is not None and deadline < end:
                if deadline >= start:
                    onsets.append(deadline)  # the deadline passed while it waited
                elif not overdue:
                    onsets.append(start)  # it came back to the school after its deadline
                overdue = True
            else:
                overdue = False
        if event is None:
            break
        if event.to_status:
            status = event.to_status
        changed, value = _deadline_set(event)
        if changed:
            deadline = value + shift if value is not None else None
        start = event.at
    return onsets


def _voided_by(problem_ids, as_of: dt.datetime) -> set[int]:
    return set(
        ProblemEvent.objects.filter(
            problem_id__in=problem_ids, kind=ProblemEvent.Kind.MOVE, move="void", at__lte=as_of
        ).values_list("problem_id", flat=True)
    )


class Step(NamedTuple):
    """What onsets_of reads of a ProblemEvent."""

    at: dt.datetime
    kind: str
    move: str
    to_status: str
    data: dict


def overdue_in(start: dt.datetime, end: dt.datetime, *, as_of: dt.datetime, schools=None) -> dict[int, dict]:
    """{problem_id: {"school_id", "onset"}} for the problems that went overdue in [start, end): the first
    onset in the window.

    Candidates: problems whose deadline now falls in the window, and problems with any event since `start`
    (an onset in the window is either a deadline in the window — still the problem's deadline unless an
    event changed it since — or an event in the window). Their events are read in one query, as tuples.
    """
    touched = ProblemEvent.objects.filter(at__gte=start).values("problem_id")
    qs = Problem.objects.filter(assigned_at__isnull=False, found_at__lt=end).filter(
        Q(deadline__gte=start, deadline__lt=end) | Q(pk__in=touched)
    )
    if schools is not None:
        qs = qs.filter(school__in=schools)
    rows = list(qs.values_list("pk", "school_id", "deadline"))
    if not rows:
        return {}
    candidates = {pk: school_id for pk, school_id, _ in rows}
    deadlines = {pk: deadline for pk, _, deadline in rows}
    events: dict[int, list[Step]] = defaultdict(list)
    ids = sorted(candidates)
    void: set[int] = set()
    # In chunks of ids (the candidate query is not repeated as a subquery; SQLite caps parameters).
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        history = (
            ProblemEvent.objects.filter(problem_id__in=chunk, at__lt=end)
            .order_by("problem_id", "at", "pk")
            .values_list("problem_id", "at", "kind", "move", "to_status", "data")
        )
        for problem_id, *step in history:
            events[problem_id].append(Step(*step))
        void |= _voided_by(chunk, as_of)
    found: dict[int, dict] = {}
    for pk, school_id in candidates.items():
        if pk in void:
            continue
        onsets = [o for o in onsets_of(events[pk], until=end, current_deadline=deadlines[pk]) if o >= start]
        if onsets:
            found[pk] = {"school_id": school_id, "onset": onsets[0]}
    return found


@dataclass
class Evaluation:
    periods: list[CardPeriod] = field(default_factory=list)
    cards: list[Record] = field(default_factory=list)
    next_start: dt.date | None = None
    next_end: dt.date | None = None
    more: bool = False  # finished periods are left for the next run


def _shanghai_date(value: dt.datetime) -> dt.date:
    return value.astimezone(SHANGHAI).date()


def prior_card(unit_id: int, *, period_start: dt.date, repeat_days: int) -> Record | None:
    """The unit's latest card in force (not revoked) whose period ended within `repeat_days` before
    `period_start` (manual cards: their date)."""
    since = period_start - dt.timedelta(days=repeat_days)
    return (
        Record.objects.filter(unit_id=unit_id, kind__in=CARD_KINDS, revoked_at__isnull=True)
        .filter(
            Q(card_period__end__gte=since, card_period__end__lt=period_start)
            | Q(card_period__isnull=True, date__gte=since, date__lt=period_start)
        )
        .order_by("-date", "-pk")
        .first()
    )


def _evaluate_period(
    rules: CardRules, start: dt.date, end: dt.date, *, as_of: dt.datetime, actor, request
) -> tuple[CardPeriod, list[Record]]:
    found = overdue_in(midnight(start), midnight(end + dt.timedelta(days=1)), as_of=as_of)
    by_school: dict[int, list[tuple[int, dt.datetime]]] = defaultdict(list)
    for pk, row in found.items():
        by_school[row["school_id"]].append((pk, row["onset"]))
    period = CardPeriod.objects.create(
        start=start,
        end=end,
        evaluated_at=timezone.now(),
        evaluated_by=actor,
        rules=rules.snapshot(),
        overdue_counts={str(k): len(v) for k, v in sorted(by_school.items())},
    )
    cards: list[Record] = []
    qualifying = [sid for sid, rows in by_school.items() if len(rows) >= rules.threshold]
    schools = Unit.objects.in_bulk([*qualifying])
    problems = Problem.objects.in_bulk([pk for sid in qualifying for pk, _ in by_school[sid]])
    for school_id in sorted(qualifying, key=lambda s: schools[s].path):
        school = schools[school_id]
        if not school.is_active:
            continue
        rows = sorted(by_school[school_id], key=lambda r: (r[1], r[0]))
        prior = prior_card(school_id, period_start=start, repeat_days=rules.repeat_days)
        kind = Kind.RED if prior is not None else Kind.YELLOW
        reason = (
            f"{start:%Y年%m月%d日}至{end:%Y年%m月%d日}，新逾期未整改的问题 {len(rows)} 个"
            f"（规则：{rules.period_days} 天内达到 {rules.threshold} 个亮黄牌）"
        )
        if prior is not None:
            reason += (
                f"；此前已有{prior.get_kind_display()}（{prior.number}，{prior.period_end:%Y-%m-%d}），"
                f"{rules.repeat_days} 天内再次达到，亮红牌"
            )
        card = _create(
            kind=kind,
            unit=school,
            reason=reason,
            date=end,
            actor=actor,
            source=Source.RULES,
            problems=[problems[pk] for pk, _ in rows],
            request=request,
            card_period=period,
            follows=prior,
            event_data={
                "period": [start.isoformat(), end.isoformat()],
                "rules": rules.snapshot(),
                "follows": prior.pk if prior else None,
                "triggers": [
                    {
                        "problem_id": pk,
                        "number": problems[pk].number,
                        "overdue_at": onset.astimezone(SHANGHAI).isoformat(),
                    }
                    for pk, onset in rows
                ],
            },
        )
        cards.append(card)
    return period, cards


def next_period(rules: CardRules) -> tuple[dt.date, dt.date]:
    last = CardPeriod.objects.order_by("-start").only("end").first()
    start = last.end + dt.timedelta(days=1) if last else rules.start_date
    start = max(start, rules.start_date)
    return start, start + dt.timedelta(days=rules.period_days - 1)


@transaction.atomic
def cards_evaluate(*, as_of: dt.datetime | None = None, actor=None, request=None) -> Evaluation:
    """Evaluate every period that is over by `as_of` and not evaluated yet; give the cards it earns.

    The worker calls it with no actor; a person pressing the button must be the campaign office.
    """
    if actor is not None and not access.can_manage_campaigns(actor):
        raise ValidationError("只有创文办可以评定红黄牌", code="forbidden")
    as_of = as_of or timezone.now()
    rules = CardRules.objects.select_for_update().filter(pk=1).first()
    if rules is None:
        # The first run fixes the start date (today by default), so periods do not drift day by day.
        rules = CardRules.objects.create(pk=1)
        rules = CardRules.objects.select_for_update().get(pk=1)
    result = Evaluation()
    if not rules.enabled:
        return result
    today = _shanghai_date(as_of)
    limit = MAX_PERIODS_PER_RUN if actor is None else MAX_PERIODS_PER_CLICK
    for _ in range(limit):
        start, end = next_period(rules)
        if end >= today:
            break
        period, cards = _evaluate_period(rules, start, end, as_of=as_of, actor=actor, request=request)
        result.periods.append(period)
        result.cards.extend(cards)
    result.next_start, result.next_end = next_period(rules)
    result.more = result.next_end < today
    if result.periods or actor is not None:
        audit.record(
            "accountability.cards_evaluate",
            actor=actor,
            request=request,
            object_type="accountability.cardperiod",
            data={
                "as_of": as_of.isoformat(),
                "periods": [[p.start.isoformat(), p.end.isoformat()] for p in result.periods],
                "cards": [c.pk for c in result.cards],
            },
            username="" if actor is not None else "system",
        )
    return result


def _int(values: dict, name: str, label: str) -> int:
    low, high = LIMITS[name]
    value = values.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError({name: f"{label}须是 {low} 到 {high} 之间的整数"})
    return value


@transaction.atomic
def card_rules_save(*, values: dict, actor, request=None) -> CardRules:
    """Save the rules (campaign office); audited with before and after. They apply to periods not yet
    evaluated: cards already given are not re-judged."""
    if not access.can_manage_campaigns(actor):
        raise ValidationError("只有创文办可以修改红黄牌规则", code="forbidden")
    obj = CardRules.objects.select_for_update().filter(pk=1).first() or CardRules(pk=1)
    before = obj.snapshot() if obj.pk and CardRules.objects.filter(pk=1).exists() else {}
    obj.threshold = _int(values, "threshold", "黄牌逾期问题数")
    obj.period_days = _int(values, "period_days", "评定周期")
    obj.repeat_days = _int(values, "repeat_days", "红牌期限")
    start = values.get("start_date")
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime) or start.year < 2000:
        raise ValidationError({"start_date": "起算日期无效"})
    evaluated = CardPeriod.objects.order_by("-start").only("end").first()
    if start != obj.start_date and evaluated is not None and start <= evaluated.end:
        raise ValidationError(
            {"start_date": f"{evaluated.end:%Y-%m-%d} 以前的周期已经评定，起算日期只能设在此后"}
        )
    obj.start_date = start
    obj.enabled = bool(values.get("enabled"))
    obj.updated_by = actor
    obj.save()
    audit.record(
        "accountability.rules",
        actor=actor,
        request=request,
        obj=obj,
        data={"before": before, "after": obj.snapshot()},
    )
    return obj


def in_force(record: Record, *, today: dt.date, repeat_days: int) -> bool:
    """A card is current (在牌) from its period's end until `repeat_days` after it, unless revoked."""
    return (
        record.kind in CARD_KINDS
        and not record.is_revoked
        and record.period_end <= today <= record.period_end + dt.timedelta(days=repeat_days)
    )


# The worker evaluates a little after midnight, Shanghai time, and checks every hour.
INTERVAL = 3600


class CardsThread(threading.Thread):
    """Started by `chuangwen worker`: evaluates the periods that are over (idempotent, so hourly is safe)
    and makes any records an issued bulletin should have given (if its signal's receiver failed)."""

    def __init__(self, interval: float = INTERVAL) -> None:
        super().__init__(name="accountability-cards", daemon=True)
        self.interval = interval
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            close_old_connections()
            try:
                cards_evaluate()
            except Exception:
                log.exception("card evaluation failed")
            try:
                from .receivers import sweep_bulletins

                sweep_bulletins()
            except Exception:
                log.exception("bulletin sweep failed")
            finally:
                close_old_connections()
