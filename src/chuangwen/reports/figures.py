"""The figures of the dashboards, rankings and bulletins: one place that computes them.

Readiness counts the latest SUBMITTED inspection of each school in the campaign's rounds of the kinds
模拟测评 / 暗访督查 / 跟踪督查 (latest by submission time); self-check rounds are reported apart as
`self_score`. With `round=` given, only that round's inspections (whatever its kind) and problems count.

Problems of a campaign: those found in its rounds, plus those recorded outside a round (日常检查, 群众反映)
on a Shanghai date within the campaign's dates. With `round=`, only that round's problems.

A vetoed inspection (一票否决) scores 0: its school's `obtained` counts as 0 (its `applicable` stays), so
the city score Σ obtained ÷ Σ applicable × 100 treats a veto the way the school's own score does.

Ranks are competition ranks ("1, 2, 2, 4") by score over every active school of the city (the
`schools=` argument only narrows the rows returned), so a school keeps its city rank in a district view.

Every function reads in a fixed number of queries whatever the number of schools: grouped aggregates in
the database, and rows (one per inspection, per open problem) folded in Python where the rule is not SQL.
Only active schools count, everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from chuangwen.campaigns.models import Campaign, Round
from chuangwen.campaigns.selectors import problems_in
from chuangwen.inspections.models import NOT_APPLICABLE, Answer, Inspection
from chuangwen.ledger.deadlines import light_of
from chuangwen.ledger.models import LedgerSettings, Light, Problem, Status
from chuangwen.ledger.selectors import EMBARGOED
from chuangwen.org.models import Unit

from .models import ProblemTally

SHANGHAI = ZoneInfo("Asia/Shanghai")
TWO = Decimal("0.01")
ONE = Decimal("0.1")
HUNDRED = Decimal(100)
READINESS_KINDS = (Round.Kind.MOCK, Round.Kind.UNANNOUNCED, Round.Kind.FOLLOW_UP)
WAITING_ON_SCHOOL = (Status.ASSIGNED, Status.IN_PROGRESS)
DONE = (Status.CLOSED, Status.VOID)
WORST_PER_STANDARD = 5


@dataclass(frozen=True)
class SchoolFigures:
    school_id: int
    name: str
    school_type: str  # org Unit.SchoolType value
    school_type_label: str
    district: str  # district name; "" for a school directly under the bureau
    score: Decimal | None  # 0-100, 2 decimals; None = no submitted inspection (never ranked)
    obtained: Decimal  # points obtained in that inspection (0 when none or vetoed)
    applicable: Decimal  # applicable points in that inspection (0 when none)
    vetoed: bool  # 一票否决 in that inspection
    self_score: Decimal | None  # latest submitted self-check score (not used for ranking)
    inspections: int  # submitted inspections counted
    problems: int  # problems found in the campaign (or round), not counting 作废 (void)
    open_problems: int  # status not in {closed, void}
    overdue: int  # waiting on the school (assigned / in progress) with deadline < now
    closed: int
    rectification_rate: Decimal | None  # closed ÷ problems × 100 (None when problems == 0)
    rank: int | None  # competition rank by score desc over all schools, None if no score
    rank_in_type: int | None  # the same within school_type
    district_id: int | None = None  # the district unit's id (None directly under the bureau)


@dataclass(frozen=True)
class CityFigures:
    score: Decimal | None  # Σ obtained ÷ Σ applicable × 100 over the schools' counted inspections
    schools: int
    inspected_schools: int
    problems: int
    open_problems: int
    overdue: int
    closed: int
    rectification_rate: Decimal | None
    median_days_to_close: Decimal | None  # days (24 h, 1 decimal) from found_at to closed_at
    by_status: dict[str, int]  # ledger Status value -> count (all statuses present, 0 when none)
    by_light: dict[str, int]  # "green"/"yellow"/"red"/"none" -> count of open problems


@dataclass(frozen=True)
class StandardLoss:
    standard_id: int
    code: str
    text: str
    points: Decimal
    lost: Decimal  # Σ over schools' counted inspections of (points − points obtained) for this standard
    schools_losing: int  # schools that lost any points on it
    schools_checked: int  # schools whose counted inspection had this standard applicable
    worst: list[tuple[int, str, Decimal]]  # up to 5 (school_id, school name, lost), most first


@dataclass(frozen=True)
class RoundPoint:
    """The city's score in one round (for the trend across rounds)."""

    round_id: int
    name: str
    kind: str
    kind_label: str
    start_date: dt.date
    score: Decimal | None
    inspected_schools: int


# --- helpers ---------------------------------------------------------------------------------------


def _dec(value) -> Decimal:
    """A sum read back from the database (SQLite may hand back a float) as a 2-decimal Decimal."""
    return Decimal(str(value)).quantize(TWO, ROUND_HALF_UP)


def _pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole) * HUNDRED).quantize(TWO, ROUND_HALF_UP)


def active_campaign() -> Campaign | None:
    """The campaign in use: latest ACTIVE campaign (by start_date, pk), or None."""
    return (
        Campaign.objects.filter(status=Campaign.Status.ACTIVE)
        .select_related("edition")
        .order_by("-start_date", "-pk")
        .first()
    )


def _school_qs(schools=None):
    qs = Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True)
    if schools is not None:
        qs = qs.filter(pk__in=schools.values("pk") if hasattr(schools, "values") else list(schools))
    return qs


def filter_schools(*, district_id: int | None = None, school_type: str = ""):
    """Active schools of a district and/or school type (the dashboards' filters), or None for all."""
    if not district_id and not school_type:
        return None
    qs = Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True)
    if district_id:
        qs = qs.filter(parent_id=district_id)
    if school_type:
        qs = qs.filter(school_type=school_type)
    return qs


def problems_of(*, campaign: Campaign, round: Round | None = None, hide_embargoed: bool = False):
    """Problems found in the campaign (or the round), of active schools, void ones included.
    `hide_embargoed`: without those of an unannounced round the school may not see yet (for school users)."""
    qs = _problems_in(campaign=campaign, round=round).filter(
        school__kind=Unit.Kind.SCHOOL, school__is_active=True
    )
    if hide_embargoed:
        qs = qs.exclude(EMBARGOED)
    return qs


def _problems_in(*, campaign: Campaign, round: Round | None):
    """Problems found in the campaign (or the round), of any school (campaigns.selectors.problems_in)."""
    if round is not None:
        return Problem.objects.filter(round_id=round.pk).order_by()
    return Problem.objects.filter(problems_in(campaign)).order_by()


def counted_inspections(*, campaign: Campaign, round: Round | None, as_of: dt.datetime | None = None):
    """(school id → latest counted inspection row, school id → latest self-check score, school id → count).

    One query: every submitted inspection of the campaign (or the round), folded in Python."""
    qs = Inspection.objects.filter(
        status=Inspection.Status.SUBMITTED, school__is_active=True, school__kind=Unit.Kind.SCHOOL
    )
    qs = qs.filter(round_id=round.pk) if round is not None else qs.filter(round__campaign_id=campaign.pk)
    if as_of is not None:  # as things stood then (a bulletin of a past period): inspections submitted by then
        qs = qs.filter(submitted_at__lte=as_of)
    rows = qs.order_by("-submitted_at", "-pk").values(
        "pk", "school_id", "round__kind", "obtained_points", "applicable_points", "score", "vetoed"
    )
    latest: dict[int, dict] = {}
    self_scores: dict[int, Decimal | None] = {}
    counts: dict[int, int] = defaultdict(int)
    for row in rows:
        school_id = row["school_id"]
        if round is None and row["round__kind"] == Round.Kind.SELF:
            self_scores.setdefault(school_id, row["score"])
            continue
        if round is not None and row["round__kind"] == Round.Kind.SELF:
            self_scores.setdefault(school_id, row["score"])
        counts[school_id] += 1
        latest.setdefault(school_id, row)
    return latest, self_scores, counts


def _competition_ranks(scored: list[tuple[int, Decimal]]) -> dict[int, int]:
    """school id → rank, "1, 2, 2, 4" by score descending."""
    ordered = sorted(scored, key=lambda item: item[1], reverse=True)
    ranks: dict[int, int] = {}
    previous = None
    rank = 0
    for position, (school_id, score) in enumerate(ordered, start=1):
        if score != previous:
            rank = position
            previous = score
        ranks[school_id] = rank
    return ranks


# --- schools ---------------------------------------------------------------------------------------


def _problem_counts(*, campaign, round, now, hide_embargoed: bool) -> dict[int, dict]:
    """school id → problems, open_problems, overdue, closed (keys of every school, active or not: the
    caller reads only the active schools' rows, so no join with the schools is needed here).

    From the problem tally (reports.tally) plus the few rows whose deadline is still ahead; counted from
    the ledger instead when embargoed problems are left out (the tally counts every problem)."""
    if hide_embargoed:
        problems = _problems_in(campaign=campaign, round=round).exclude(EMBARGOED)
        return {
            row["school_id"]: row
            for row in problems.values("school_id").annotate(
                problems=Count("pk", filter=~Q(status=Status.VOID)),
                open_problems=Count("pk", filter=~Q(status__in=DONE)),
                overdue=Count("pk", filter=Q(status__in=WAITING_ON_SCHOOL, deadline__lt=now)),
                closed=Count("pk", filter=Q(status=Status.CLOSED)),
            )
        }
    tallies = ProblemTally.objects.order_by()
    tallies = (
        tallies.filter(round_id=round.pk) if round is not None else tallies.filter(campaign_id=campaign.pk)
    )
    rows = {
        row["school_id"]: row
        for row in tallies.values("school_id").annotate(
            problems=Sum("problems"),
            open_problems=Sum("open_problems"),
            closed=Sum("closed"),
            overdue=Sum("waiting_timed"),
        )
    }
    # Overdue = waiting on the school with a deadline, less those whose deadline is still ahead (the
    # clock moves, so these are counted now; a live ledger has few of them).
    running = (
        _problems_in(campaign=campaign, round=round)
        .filter(status__in=WAITING_ON_SCHOOL, deadline__gte=now)
        .values_list("school_id")
        .annotate(n=Count("pk"))
    )
    for school_id, n in running:
        if school_id in rows:  # always, unless the tally is out of step (tally.verify names it)
            rows[school_id]["overdue"] -= n
    return rows


def school_figures(
    *, campaign, round=None, schools=None, now=None, hide_embargoed: bool = False, as_of=None
) -> list[SchoolFigures]:
    """Every active school (or the given queryset / ids), ordered by rank (None last), then name.

    Ranks are over every active school whatever `schools` is (see the module docstring).
    `hide_embargoed`: leave out problems an unannounced round still holds back from the school (what a
    school's own people are shown).
    `as_of`: scores and ranks from the inspections submitted by then only (problem counts are the caller's
    to take as of then: bulletins.history)."""
    now = now or timezone.now()
    type_labels = dict(Unit.SchoolType.choices)
    units = list(
        _school_qs()
        .order_by()
        .values("pk", "name", "school_type", "parent_id", "parent__kind", "parent__name")
    )
    latest, self_scores, counts = counted_inspections(campaign=campaign, round=round, as_of=as_of)
    problem_rows = _problem_counts(campaign=campaign, round=round, now=now, hide_embargoed=hide_embargoed)
    scored = [(u["pk"], latest[u["pk"]]["score"]) for u in units if u["pk"] in latest]
    scored = [(pk, score) for pk, score in scored if score is not None]
    ranks = _competition_ranks(scored)
    type_of = {u["pk"]: u["school_type"] for u in units}
    by_type: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for pk, score in scored:
        by_type[type_of[pk]].append((pk, score))
    ranks_in_type: dict[int, int] = {}
    for group in by_type.values():
        ranks_in_type.update(_competition_ranks(group))

    wanted = None
    if schools is not None:
        wanted = set(_school_qs(schools).values_list("pk", flat=True))
    result = []
    for u in units:
        pk = u["pk"]
        if wanted is not None and pk not in wanted:
            continue
        inspection = latest.get(pk)
        p = problem_rows.get(pk, {})
        problems = p.get("problems", 0)
        closed = p.get("closed", 0)
        vetoed = bool(inspection and inspection["vetoed"])
        in_district = u["parent__kind"] == Unit.Kind.DISTRICT
        result.append(
            SchoolFigures(
                school_id=pk,
                name=u["name"],
                school_type=u["school_type"],
                school_type_label=type_labels.get(u["school_type"], u["school_type"]),
                district=u["parent__name"] if in_district else "",
                score=inspection["score"] if inspection else None,
                obtained=(
                    Decimal(0) if not inspection or vetoed else (inspection["obtained_points"] or Decimal(0))
                ),
                applicable=(inspection["applicable_points"] or Decimal(0)) if inspection else Decimal(0),
                vetoed=vetoed,
                self_score=self_scores.get(pk),
                inspections=counts.get(pk, 0),
                problems=problems,
                open_problems=p.get("open_problems", 0),
                overdue=p.get("overdue", 0),
                closed=closed,
                rectification_rate=_pct(closed, problems),
                rank=ranks.get(pk),
                rank_in_type=ranks_in_type.get(pk),
                district_id=u["parent_id"] if in_district else None,
            )
        )
    result.sort(key=lambda f: (f.rank is None, f.rank or 0, f.name, f.school_id))
    return result


# --- the city --------------------------------------------------------------------------------------


class DaysBetween(Func):
    """closed_at − found_at in days, as a float, computed natively by each database (Django's generic
    datetime difference calls a Python function per row on SQLite)."""

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="(julianday(%(expressions)s))", arg_joiner=") - julianday("
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)",
            arg_joiner=" - ",
        )

    def as_sql(self, compiler, connection, **extra):
        if connection.vendor not in ("sqlite", "postgresql") and "template" not in extra:
            duration = ExpressionWrapper(
                self.source_expressions[0] - self.source_expressions[1], DurationField()
            )
            return compiler.compile(duration)
        return super().as_sql(compiler, connection, **extra)


def _median_days(qs) -> Decimal | None:
    """Median of closed_at − found_at over closed problems, in days: the middle row(s) by duration,
    read with OFFSET (portable: SQLite has no percentile function)."""
    closed = qs.filter(status=Status.CLOSED, closed_at__isnull=False)
    n = closed.count()
    if not n:
        return None
    days = DaysBetween(F("closed_at"), F("found_at"))
    middle = list(
        closed.annotate(d=days).order_by("d", "pk").values_list("d", flat=True)[(n - 1) // 2 : n // 2 + 1]
    )
    values = [d.total_seconds() / 86400 if isinstance(d, dt.timedelta) else float(d) for d in middle]
    return Decimal(str(sum(values) / len(values))).quantize(ONE, ROUND_HALF_UP)


def city_figures(*, campaign, round=None, now=None, schools=None) -> CityFigures:
    """The city's figures (or those of the given schools: a district, a school type)."""
    now = now or timezone.now()
    rows = school_figures(campaign=campaign, round=round, schools=schools, now=now)
    return city_from_rows(rows, campaign=campaign, round=round, now=now, narrowed=schools is not None)


def weighted_score(rows: list[SchoolFigures]) -> Decimal | None:
    """Σ obtained ÷ Σ applicable × 100 over the rows' counted inspections (None when none)."""
    scored = [f for f in rows if f.score is not None]
    applicable = sum((f.applicable for f in scored), Decimal(0))
    obtained = sum((f.obtained for f in scored), Decimal(0))
    return _pct(obtained, applicable)


def _lights(qs, *, open_count: int, now) -> dict[str, int]:
    """Open problems by traffic light (ledger.deadlines.light_of): red and untimed ones counted in the
    database; only the rows still running (deadline ahead) are read, for the yellow rule's window."""
    timed = qs.filter(status__in=WAITING_ON_SCHOOL, deadline__isnull=False)
    counts = timed.aggregate(timed=Count("pk"), red=Count("pk", filter=Q(deadline__lt=now)))
    by_light = dict.fromkeys(Light.values, 0)
    by_light[Light.RED] = counts["red"]
    by_light[Light.NONE] = open_count - counts["timed"]
    rules = LedgerSettings.current()
    running = timed.filter(deadline__gte=now).values_list(
        "status", "deadline", Coalesce("assigned_at", "found_at")
    )
    for status, deadline, began in running:
        by_light[light_of(status, deadline, start=began, now=now, rules=rules)] += 1
    return by_light


def city_from_rows(
    rows: list[SchoolFigures], *, campaign, round=None, now=None, narrowed: bool = True
) -> CityFigures:
    """`city_figures` from school rows already computed (a page that shows both reads them once).
    `narrowed`: the rows are not every active school, so the problem queries are narrowed to them."""
    now = now or timezone.now()
    problems = sum(f.problems for f in rows)
    closed = sum(f.closed for f in rows)
    qs = problems_of(campaign=campaign, round=round)
    if narrowed:
        qs = qs.filter(school_id__in=[f.school_id for f in rows])
    by_status = dict.fromkeys(Status.values, 0)
    for row in qs.values("status").annotate(n=Count("pk")):
        by_status[row["status"]] = row["n"]
    by_light = _lights(qs, open_count=sum(n for key, n in by_status.items() if key not in DONE), now=now)
    return CityFigures(
        score=weighted_score(rows),
        schools=len(rows),
        inspected_schools=sum(1 for f in rows if f.score is not None),
        problems=problems,
        open_problems=sum(f.open_problems for f in rows),
        overdue=sum(f.overdue for f in rows),
        closed=closed,
        rectification_rate=_pct(closed, problems),
        median_days_to_close=_median_days(qs),
        by_status=by_status,
        by_light=by_light,
    )


def round_trend(*, campaign, schools=None) -> list[RoundPoint]:
    """The city's score in each round of the campaign that has submitted inspections, oldest first:
    Σ obtained ÷ Σ applicable × 100 over that round's inspections (vetoed ones obtain 0)."""
    kind_labels = dict(Round.Kind.choices)
    qs = Inspection.objects.filter(
        round__campaign_id=campaign.pk,
        status=Inspection.Status.SUBMITTED,
        school__is_active=True,
        school__kind=Unit.Kind.SCHOOL,
    )
    if schools is not None:
        qs = qs.filter(school_id__in=_school_qs(schools).values("pk"))
    rows = (
        qs.order_by()
        .values("round_id", "round__name", "round__kind", "round__start_date")
        .annotate(
            applicable=Sum("applicable_points"),
            obtained=Sum("obtained_points", filter=Q(vetoed=False)),
            n=Count("pk"),
        )
    )
    points = [
        RoundPoint(
            round_id=r["round_id"],
            name=r["round__name"],
            kind=r["round__kind"],
            kind_label=kind_labels.get(r["round__kind"], r["round__kind"]),
            start_date=r["round__start_date"],
            score=_pct(r["obtained"] or 0, r["applicable"]),
            inspected_schools=r["n"],
        )
        for r in rows
    ]
    points.sort(key=lambda p: (p.start_date, p.round_id))
    return points


# --- lost points -----------------------------------------------------------------------------------


def lost_points(*, campaign, round=None, limit=None, schools=None, as_of=None) -> list[StandardLoss]:
    """Standards ordered by `lost` desc (then code); only standards some counted inspection checked (by
    `as_of`, when given)."""
    latest, _, _ = counted_inspections(campaign=campaign, round=round, as_of=as_of)
    wanted = None if schools is None else set(_school_qs(schools).values_list("pk", flat=True))
    inspection_ids = [row["pk"] for pk, row in latest.items() if wanted is None or pk in wanted]
    if not inspection_ids:
        return []
    answers = (
        Answer.objects.filter(inspection_id__in=inspection_ids).exclude(result=NOT_APPLICABLE).order_by()
    )
    lost_expr = ExpressionWrapper(F("standard__points") - F("points"), output_field=DecimalField())
    totals = list(
        answers.values(
            "standard_id", "standard__code", "standard__text", "standard__points", "standard__position"
        ).annotate(
            lost=Sum(lost_expr),
            checked=Count("inspection_id", distinct=True),
            losing=Count("inspection_id", distinct=True, filter=Q(points__lt=F("standard__points"))),
        )
    )
    worst_rows = (
        answers.filter(points__lt=F("standard__points"))
        .annotate(lost=lost_expr)
        .values_list("standard_id", "inspection__school_id", "inspection__school__name", "lost")
    )
    worst: dict[int, list[tuple[int, str, Decimal]]] = defaultdict(list)
    for standard_id, school_id, name, lost in worst_rows:
        worst[standard_id].append((school_id, name, _dec(lost)))
    result = [
        StandardLoss(
            standard_id=t["standard_id"],
            code=t["standard__code"],
            text=t["standard__text"],
            points=t["standard__points"],
            lost=_dec(t["lost"] or 0),
            schools_losing=t["losing"],
            schools_checked=t["checked"],
            worst=sorted(worst[t["standard_id"]], key=lambda w: (-w[2], w[1], w[0]))[:WORST_PER_STANDARD],
        )
        for t in totals
    ]
    result.sort(key=lambda s: (-s.lost, code_order(s.code), s.standard_id))
    return result[:limit] if limit else result


def code_order(code: str) -> tuple:
    """Index codes sort as numbers: 1.2 before 1.10."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in code.split("."))
