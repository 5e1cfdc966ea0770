"""The generated parts of a bulletin, as plain JSON (stored on the draft, frozen when it is issued).

Everything the .docx, the PDF and the pages show comes from this snapshot (and the bulletin's own text
fields), so an issued bulletin renders the same whenever it is downloaded.

Figures come from `chuangwen.reports.figures` (the one place that computes them). For a period bulletin
they are the campaign's as of the end of the period (or now, if earlier); the problems listed are the
ones found within the period. For a round bulletin: that round's figures and problems. Problems of an
unannounced (暗访) round still under embargo are never listed: bulletins go to every school.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from chuangwen.ledger.models import Status
from chuangwen.ledger.selectors import EMBARGOED
from chuangwen.reports import figures

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONTENT_VERSION = 1
SUGGEST_COMMEND = 3  # default suggestions: the best-ranked schools …
SUGGEST_CRITICISE = 3  # … and the ones with the most overdue problems (or, without any, the lowest scores)
LOST_STANDARDS = 5
STATUS_LABELS = dict(Status.choices)
WAITING_ON_SCHOOL = (Status.ASSIGNED, Status.IN_PROGRESS)

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
    rows = figures.school_figures(campaign=campaign, round=round, schools=school_ids, now=moment)
    city = figures.city_from_rows(
        rows, campaign=campaign, round=round, now=moment, narrowed=school_ids is not None
    )
    lost = figures.lost_points(campaign=campaign, round=round, limit=LOST_STANDARDS, schools=school_ids)

    problems = (
        figures.problems_of(campaign=campaign, round=round).exclude(status=Status.VOID).exclude(EMBARGOED)
    )
    if school_ids is not None:
        problems = problems.filter(school_id__in=school_ids)
    found = problems
    if period_start is not None:
        found = found.filter(found_at__gte=_day_start(period_start))
    if period_end is not None:
        found = found.filter(found_at__lt=_day_start(period_end + dt.timedelta(days=1)))
    found = found.filter(found_at__lte=moment)

    by_school: OrderedDict[int, dict] = OrderedDict()
    for p in found.select_related("school", "standard").order_by(
        "school__name", "school_id", "found_at", "pk"
    ):
        entry = by_school.setdefault(
            p.school_id, {"school_id": p.school_id, "name": p.school.name, "items": []}
        )
        entry["items"].append(
            {
                "id": p.pk,
                "number": p.number,
                "standard": p.standard.code if p.standard_id else "",
                "description": p.description,
                "location": p.location,
                "status": STATUS_LABELS.get(p.status, p.status),
            }
        )

    overdue_rows = []
    overdue_qs = (
        problems.filter(status__in=WAITING_ON_SCHOOL, deadline__lt=moment)
        .select_related("school", "standard", "responsible")
        .order_by("deadline", "pk")
    )
    today = moment.astimezone(SHANGHAI).date()
    for p in overdue_qs:
        due = p.deadline.astimezone(SHANGHAI).date()
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
                "escalated": bool(p.listed_for_bulletin),
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
