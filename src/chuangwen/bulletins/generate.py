"""The generated parts of a bulletin, as plain JSON (stored on the draft, frozen when it is issued).

Everything the .docx, the PDF and the pages show comes from this snapshot (and the bulletin's own text
fields), so an issued bulletin renders the same whenever it is downloaded.

A period bulletin tells its period as it stood at the period's end (or now, if earlier): the problems
counted are those found by then, each with its status, deadline and close as of that moment, read from
the ledger's event history (`history`), so a problem closed after the period's end is still open — and
overdue, if its deadline had passed — in that period's bulletin, and a bulletin drafted weeks later says
what one drafted on the day would have said. The problems listed are the ones found within the period.
Scores, ranks and lost points come from `chuangwen.reports.figures` (the one place that computes them),
from the inspections as they are now. For a round bulletin: that round's figures and problems, as of
now. Problems of an unannounced (暗访) round still under embargo are neither listed nor counted:
bulletins go to every school.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict, defaultdict
from dataclasses import astuple, dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from chuangwen.ledger.models import Status
from chuangwen.ledger.selectors import EMBARGOED
from chuangwen.reports import figures

from . import history

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONTENT_VERSION = 1
SUGGEST_COMMEND = 3  # default suggestions: the best-ranked schools …
SUGGEST_CRITICISE = 3  # … and the ones with the most overdue problems (or, without any, the lowest scores)
LOST_STANDARDS = 5
STATUS_LABELS = dict(Status.choices)
WAITING_ON_SCHOOL = (Status.ASSIGNED, Status.IN_PROGRESS)
DONE = (Status.CLOSED, Status.VOID)

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五 (the numbering of 一、 and （一）)."""
    if n <= 0:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        head = _DIGITS[n // 100] + "百"
        if rest == 0:
            return head
        if rest < 10:
            return head + "零" + _DIGITS[rest]
        return head + (_DIGITS[rest // 10] + "十" + (_DIGITS[rest % 10] if rest % 10 else ""))
    return str(n)


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole) * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


def as_of(*, period_end: dt.date | None, now: dt.datetime | None = None) -> dt.datetime:
    """The moment the figures are taken: the end of the period, or now if that is earlier."""
    now = now or timezone.now()
    if period_end is None:
        return now
    return min(now, _day_start(period_end + dt.timedelta(days=1)) - dt.timedelta(microseconds=1))


def scope_school_ids(*, round=None) -> list[int] | None:
    """The schools a bulletin covers: the round's (active) schools, or None = every active school."""
    if round is None:
        return None
    return list(round.schools.filter(is_active=True).values_list("pk", flat=True))


@dataclass(frozen=True)
class _Then:
    school_id: int
    found_at: dt.datetime
    status: str
    deadline: dt.datetime | None
    closed_at: dt.datetime | None
    escalated: bool


def _states(problems, moment: dt.datetime) -> dict[int, _Then]:
    """{id: (status, deadline, close) as of `moment`} for the problems, from the ledger's history."""
    rows = list(
        problems.values_list(
            "pk", "school_id", "found_at", "status", "deadline", "closed_at", "listed_for_bulletin"
        )
    )
    states = history.states_at({r[0]: history.Current(*r[3:]) for r in rows}, at=moment)
    return {pk: _Then(school_id, found_at, *astuple(states[pk])) for pk, school_id, found_at, *_ in rows}


def _overdue(state: _Then, moment: dt.datetime) -> bool:
    return state.status in WAITING_ON_SCHOOL and state.deadline is not None and state.deadline < moment


def _with_counts(row: figures.SchoolFigures, mine: list[_Then], moment: dt.datetime) -> figures.SchoolFigures:
    """The school's row with its problem counts as of `moment` (score and rank as computed)."""
    closed = sum(1 for s in mine if s.status == Status.CLOSED)
    return replace(
        row,
        problems=len(mine),
        open_problems=sum(1 for s in mine if s.status not in DONE),
        overdue=sum(1 for s in mine if _overdue(s, moment)),
        closed=closed,
        rectification_rate=_pct(closed, len(mine)),
    )


def _city(rows, counted: dict[int, _Then], moment: dt.datetime) -> figures.CityFigures:
    """The city's figures over the rows, problems counted as of `moment` (only what bulletins show)."""
    in_rows = {r.school_id for r in rows}
    states = [s for s in counted.values() if s.school_id in in_rows]
    by_status = dict.fromkeys(Status.values, 0)
    for s in states:
        by_status[s.status] += 1
    days = sorted(
        (s.closed_at - s.found_at).total_seconds() / 86400
        for s in states
        if s.status == Status.CLOSED and s.closed_at is not None
    )
    median = None
    if days:
        middle = days[(len(days) - 1) // 2 : len(days) // 2 + 1]
        median = Decimal(str(sum(middle) / len(middle))).quantize(Decimal("0.1"), ROUND_HALF_UP)
    problems = sum(r.problems for r in rows)
    closed = sum(r.closed for r in rows)
    return figures.CityFigures(
        score=figures.weighted_score(rows),
        schools=len(rows),
        inspected_schools=sum(1 for r in rows if r.score is not None),
        problems=problems,
        open_problems=sum(r.open_problems for r in rows),
        overdue=sum(r.overdue for r in rows),
        closed=closed,
        rectification_rate=_pct(closed, problems),
        median_days_to_close=median,
        by_status=by_status,
        by_light={},
    )


def generate(
    *,
    campaign,
    round=None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """The generated parts for a period (dates) or a round, as a JSON-ready dict."""
    moment = as_of(period_end=period_end, now=now)
    school_ids = scope_school_ids(round=round)
    problems = figures.problems_of(campaign=campaign, round=round).exclude(EMBARGOED)
    if school_ids is not None:
        problems = problems.filter(school_id__in=school_ids)
    problems = problems.filter(found_at__lte=moment)
    then = _states(problems, moment)
    counted = {pk: s for pk, s in then.items() if s.status != Status.VOID}

    by_school_then: defaultdict[int, list[_Then]] = defaultdict(list)
    for state in counted.values():
        by_school_then[state.school_id].append(state)
    rows = [
        _with_counts(row, by_school_then[row.school_id], moment)
        for row in figures.school_figures(
            campaign=campaign, round=round, schools=school_ids, now=moment, as_of=moment
        )
    ]
    city = _city(rows, counted, moment)
    lost = figures.lost_points(
        campaign=campaign, round=round, limit=LOST_STANDARDS, schools=school_ids, as_of=moment
    )

    found = problems
    if period_start is not None:
        found = found.filter(found_at__gte=_day_start(period_start))
    if period_end is not None:
        found = found.filter(found_at__lt=_day_start(period_end + dt.timedelta(days=1)))

    by_school: OrderedDict[int, dict] = OrderedDict()
    for p in found.select_related("school", "standard").order_by(
        "school__name", "school_id", "found_at", "pk"
    ):
        if p.pk not in counted:  # void by the moment
            continue
        entry = by_school.setdefault(
            p.school_id, {"school_id": p.school_id, "name": p.school.name, "items": []}
        )
        status = counted[p.pk].status
        entry["items"].append(
            {
                "id": p.pk,
                "number": p.number,
                "standard": p.standard.code if p.standard_id else "",
                "description": p.description,
                "location": p.location,
                "status": STATUS_LABELS.get(status, status),
            }
        )

    overdue_rows = []
    late = {pk: s for pk, s in counted.items() if _overdue(s, moment)}
    overdue_qs = problems.filter(pk__in=list(late)).select_related("school", "standard")
    today = moment.astimezone(SHANGHAI).date()
    for p in sorted(overdue_qs, key=lambda p: (late[p.pk].deadline, p.pk)):
        due = late[p.pk].deadline.astimezone(SHANGHAI).date()
        overdue_rows.append(
            {
                "id": p.pk,
                "school_id": p.school_id,
                "school": p.school.name,
                "number": p.number,
                "description": p.description,
                "standard": p.standard.code if p.standard_id else "",
                "deadline": due.isoformat(),
                "days": (today - due).days,
                "escalated": late[p.pk].escalated,
            }
        )

    ranking = [
        {
            "school_id": r.school_id,
            "name": r.name,
            "district": r.district,
            "type": r.school_type_label,
            "score": _num(r.score),
            "rank": r.rank,
            "rank_in_type": r.rank_in_type,
            "vetoed": r.vetoed,
            "problems": r.problems,
            "open": r.open_problems,
            "overdue": r.overdue,
            "closed": r.closed,
            "rate": _num(r.rectification_rate),
        }
        for r in rows
    ]
    return {
        "version": CONTENT_VERSION,
        "as_of": moment.astimezone(SHANGHAI).isoformat(timespec="minutes"),
        "campaign": campaign.name,
        "round": round.name if round is not None else "",
        "round_kind": round.get_kind_display() if round is not None else "",
        "period": [
            period_start.isoformat() if period_start else "",
            period_end.isoformat() if period_end else "",
        ],
        "headline": {
            "score": _num(city.score),
            "schools": city.schools,
            "inspected_schools": city.inspected_schools,
            "problems": city.problems,
            "open_problems": city.open_problems,
            "overdue": city.overdue,
            "closed": city.closed,
            "rectification_rate": _num(city.rectification_rate),
            "median_days_to_close": _num(city.median_days_to_close),
            "by_status": {STATUS_LABELS.get(k, k): v for k, v in city.by_status.items()},
            "found_in_period": sum(len(s["items"]) for s in by_school.values()),
        },
        "lost": [
            {"code": s.code, "text": s.text, "lost": _num(s.lost), "schools_losing": s.schools_losing}
            for s in lost
            if s.lost > 0
        ],
        "ranking": ranking,
        "problems_by_school": list(by_school.values()),
        "overdue": overdue_rows,
    }


def suggestions(content: dict) -> tuple[list[int], list[int]]:
    """Default (commended, criticised) school ids: the top-ranked schools; the schools with the most
    overdue problems, or — when nothing is overdue — the lowest scores. Never a school in both lists."""
    ranked = [r for r in content.get("ranking", []) if r["rank"] is not None and not r["vetoed"]]
    commended = [r["school_id"] for r in ranked if r["rank"] <= SUGGEST_COMMEND and r["overdue"] == 0]
    commended = commended[:SUGGEST_COMMEND]
    overdue = sorted(
        (r for r in content.get("ranking", []) if r["overdue"] > 0), key=lambda r: (-r["overdue"], r["name"])
    )
    if overdue:
        criticised = [r["school_id"] for r in overdue[:SUGGEST_CRITICISE]]
    else:
        vetoed = [r["school_id"] for r in content.get("ranking", []) if r["vetoed"]]
        lowest = [r["school_id"] for r in reversed(ranked) if r["rank"] > SUGGEST_COMMEND]
        criticised = (vetoed + lowest)[:SUGGEST_CRITICISE]
    criticised = [s for s in criticised if s not in commended]
    return commended, criticised


def problem_count(content: dict) -> int:
    return sum(len(s["items"]) for s in content.get("problems_by_school", []))
