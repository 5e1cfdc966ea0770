"""The dashboards' data as plain, JSON-ready dicts: the pages render them (tables, and `json_script` for the
charts), the 大屏 fetches the same dict from the API every minute, and the API returns it typed.

Numbers are read from `figures` only; this module arranges them (by district, by school type, links).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from chuangwen.ledger import selectors as ledger_selectors
from chuangwen.ledger.models import OPEN_STATUSES, Light, Status
from chuangwen.org.models import Unit

from . import figures
from .selectors import Filters

STATUS_LABELS = dict(Status.choices)
LIGHT_LABELS = {Light.GREEN: "正常", Light.YELLOW: "临期", Light.RED: "逾期", Light.NONE: "未计时"}
LOST_LIMIT = 10


def num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def ledger_url(**params) -> str:
    from urllib.parse import urlencode

    return reverse("ledger:list") + "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def school_row(f: figures.SchoolFigures) -> dict:
    return {
        "id": f.school_id,
        "name": f.name,
        "school_type": f.school_type,
        "school_type_label": f.school_type_label,
        "district": f.district,
        "score": num(f.score),
        "self_score": num(f.self_score),
        "vetoed": f.vetoed,
        "inspections": f.inspections,
        "problems": f.problems,
        "open_problems": f.open_problems,
        "overdue": f.overdue,
        "closed": f.closed,
        "rectification_rate": num(f.rectification_rate),
        "rank": f.rank,
        "rank_in_type": f.rank_in_type,
        "url": reverse("reports:school", args=[f.school_id]),
    }


def ledger_links(scope: dict) -> dict:
    """Links to the ledger list showing exactly the problems a dashboard number counts, within `scope`
    (`ledger_scope`: campaign, round, district, type; a school). `open` is the ledger's 未销号（待整改）
    filter (待交办, 已交办, 整改中), without 待复核, which has its own link."""
    return {
        "open": ledger_url(status="open", **scope),
        "pending_review": ledger_url(status=Status.PENDING_REVIEW, **scope),
        "overdue": ledger_url(overdue="1", **scope),
        "all": ledger_url(**scope),
    }


def ledger_counts(*, user, campaign, round=None, school_id: int | None = None) -> dict:
    """{"todo", "pending_review", "overdue"} as the ledger list behind each link counts them (the same
    selector and filters: what the user may see of the campaign, the round, the school), in one query."""
    base = ledger_selectors.problem_list(
        user=user, campaign_id=campaign.pk, round_id=round.pk if round else None, school_id=school_id
    )
    kinds = {
        "todo": Q(status__in=OPEN_STATUSES),
        "pending_review": Q(status=Status.PENDING_REVIEW),
        "overdue": Q(status__in=[Status.ASSIGNED, Status.IN_PROGRESS], deadline__lt=timezone.now()),
    }
    return base.order_by().aggregate(**{k: Count("pk", filter=q) for k, q in kinds.items()})


def ledger_scope(filters: Filters | None) -> dict:
    """The ledger list's parameters for what the figures cover: the campaign (the ledger's 创建周期 filter is
    the figures' rule, campaigns.selectors.problems_in), the round, the district and the school type."""
    if filters is None:
        return {}
    return {
        "campaign": filters.campaign.pk if filters.campaign else None,
        "round": filters.round.pk if filters.round else None,
        "district": filters.district.pk if filters.district else None,
        "school_type": filters.school_type,
    }


def city_row(c: figures.CityFigures, filters: Filters | None = None) -> dict:
    """The city's figures. `todo` (待整改: 待交办, 已交办, 整改中) is what the ledger's 未销号（待整改）
    filter lists; `pending_review` (待复核) is counted apart; open_problems (未销号) is both.
    Links carry the campaign, round, district and school type the figures cover (`ledger_scope`), so a
    list shows the same number."""
    scope = ledger_scope(filters)
    links = ledger_links(scope) if filters is not None and filters.campaign is not None else None
    return {
        "score": num(c.score),
        "schools": c.schools,
        "inspected_schools": c.inspected_schools,
        "problems": c.problems,
        "open_problems": c.open_problems,
        "todo": sum(n for key, n in c.by_status.items() if key in OPEN_STATUSES),
        "pending_review": c.by_status.get(Status.PENDING_REVIEW, 0),
        "overdue": c.overdue,
        "closed": c.closed,
        "rectification_rate": num(c.rectification_rate),
        "median_days_to_close": num(c.median_days_to_close),
        "links": links,
        "by_status": [
            {
                "key": key,
                "label": STATUS_LABELS[key],
                "count": n,
                "url": ledger_url(status=key, **scope) if links else "",
            }
            for key, n in c.by_status.items()
        ],
        "by_light": [{"key": key, "label": LIGHT_LABELS[key], "count": n} for key, n in c.by_light.items()],
    }


def _groups(rows: list[figures.SchoolFigures], key) -> list[dict]:
    """Figures of groups of schools (a district, a school type): the same rules as the city's."""
    grouped: dict[str, list[figures.SchoolFigures]] = defaultdict(list)
    for f in rows:
        grouped[key(f)].append(f)
    out = []
    for name, members in grouped.items():
        problems = sum(f.problems for f in members)
        closed = sum(f.closed for f in members)
        out.append(
            {
                "name": name,
                "schools": len(members),
                "inspected_schools": sum(1 for f in members if f.score is not None),
                "score": num(figures.weighted_score(members)),
                "problems": problems,
                "open_problems": sum(f.open_problems for f in members),
                "overdue": sum(f.overdue for f in members),
                "rectification_rate": num(figures._pct(closed, problems)),
            }
        )
    return sorted(out, key=lambda g: (g["score"] is None, -(g["score"] or 0), g["name"]))


def loss_row(s: figures.StandardLoss, filters: Filters | None = None) -> dict:
    return {
        "id": s.standard_id,
        "code": s.code,
        "text": s.text,
        "points": num(s.points),
        "lost": num(s.lost),
        "schools_losing": s.schools_losing,
        "schools_checked": s.schools_checked,
        "url": ledger_url(standard=s.standard_id, **ledger_scope(filters)),
        "worst": [
            {"id": pk, "name": name, "lost": num(lost), "url": reverse("reports:school", args=[pk])}
            for pk, name, lost in s.worst
        ],
    }


COVERAGE_SECONDS = 60


def coverage_of(user, filters: Filters) -> dict | None:
    """Responsibility coverage (duty app): applicable standard × school pairs with an owner.

    The duty app builds the whole school × standard matrix for it (a sixth of the dashboard's time with
    200 schools × 100 standards), so the totals are cached for a minute under the duty app's version of
    responsibilities, which every assignment, task and edition change bumps: a new owner shows at once;
    only a school added or closed may take up to a minute to count."""
    from django.core.cache import cache

    from chuangwen.core import access
    from chuangwen.duty.selectors import MY_DUTIES_VERSION_KEY

    if filters.campaign is None:
        return None
    scope = access.scope_of(user)
    reach = "*" if scope.everything else hashlib.sha256(",".join(scope.paths()).encode()).hexdigest()[:16]
    key = "cw:reports:coverage:" + ":".join(
        str(part)
        for part in (
            cache.get(MY_DUTIES_VERSION_KEY, "0"),
            reach,
            filters.campaign.edition_id,
            filters.district.pk if filters.district else "",
            filters.school_type,
        )
    )
    found = cache.get(key)
    if found is None:
        found = _coverage(user, filters)
        cache.set(key, found, COVERAGE_SECONDS)
    return found


def _coverage(user, filters: Filters) -> dict:
    from chuangwen.duty.selectors import coverage

    cov = coverage(
        user=user,
        edition=filters.campaign.edition,
        school_type=filters.school_type,
        district=str(filters.district.pk) if filters.district else "",
    )
    worst = sorted((s for s in cov.schools if s.unowned), key=lambda s: (-s.unowned, s.name))[:5]
    return {
        "applicable": cov.applicable,
        "owned": cov.owned,
        "unowned": cov.unowned_count,
        "percent": round(cov.percent, 1) if cov.applicable else None,
        "url": reverse("duty:coverage"),
        "worst": [
            {"id": s.id, "name": s.name, "unowned": s.unowned, "url": reverse("reports:school", args=[s.id])}
            for s in worst
        ],
    }


def city_dashboard(*, user, filters: Filters, with_coverage: bool = True) -> dict:
    """Everything the city dashboard and the 大屏 show, for the filters' campaign / round / schools."""
    campaign = filters.campaign
    if campaign is None:
        return {"campaign": None}
    rows = figures.school_figures(campaign=campaign, round=filters.round, schools=filters.schools)
    city = figures.city_from_rows(
        rows, campaign=campaign, round=filters.round, narrowed=filters.schools is not None
    )
    trend = figures.round_trend(campaign=campaign, schools=filters.schools)
    lost = figures.lost_points(
        campaign=campaign, round=filters.round, limit=LOST_LIMIT, schools=filters.schools
    )
    return {
        "campaign": {"id": campaign.pk, "name": campaign.name},
        "round": {"id": filters.round.pk, "name": filters.round.name} if filters.round else None,
        "district": filters.district_label,
        "school_type": filters.school_type_label,
        "city": city_row(city, filters),
        "inspected_any": city.inspected_schools > 0,
        "trend": [
            {
                "id": p.round_id,
                "name": p.name,
                "kind": p.kind,
                "kind_label": p.kind_label,
                "start_date": p.start_date.isoformat(),
                "score": num(p.score),
                "inspected_schools": p.inspected_schools,
                "url": ledger_url(**(ledger_scope(filters) | {"round": p.round_id})),
            }
            for p in trend
        ],
        "lost": [loss_row(s, filters) for s in lost],
        "schools": [school_row(f) for f in rows],
        "by_district": _groups(rows, lambda f: f.district or "市直"),
        "by_type": _groups(rows, lambda f: f.school_type_label),
        "coverage": coverage_of(user, filters) if with_coverage else None,
    }


def school_dashboard(*, user, school: Unit, filters: Filters, as_bureau: bool) -> dict:
    """One school against the city and its type: score, ranks, problems, lost points, tasks.

    The school's own people do not see the problems an unannounced round still holds back."""
    campaign = filters.campaign
    if campaign is None:
        return {"campaign": None}
    hide = not as_bureau
    rows = figures.school_figures(campaign=campaign, round=filters.round, hide_embargoed=hide)
    mine = next((f for f in rows if f.school_id == school.pk), None)
    same_type = [f for f in rows if f.school_type == school.school_type]
    lost = [
        loss_row(s)
        for s in figures.lost_points(campaign=campaign, round=filters.round, schools=[school.pk])
        if s.lost > 0
    ]
    # Counted with the ledger's own selector and filters, so each number is the rows its link lists.
    counted = ledger_counts(user=user, campaign=campaign, round=filters.round, school_id=school.pk)
    open_problems = list(
        ledger_selectors.problem_list(
            user=user,
            campaign_id=campaign.pk,
            round_id=filters.round.pk if filters.round else None,
            school_id=school.pk,
        )
        .exclude(status__in=figures.DONE)
        .order_by("deadline", "pk")
        .values("pk", "description", "status", "deadline", "standard__code")[:10]
    )
    return {
        "campaign": {"id": campaign.pk, "name": campaign.name},
        "round": {"id": filters.round.pk, "name": filters.round.name} if filters.round else None,
        "school": school_row(mine) if mine else None,
        "trend": school_trend(user=user, school=school, campaign=campaign),
        "city_average": num(figures.weighted_score(rows)),
        "type_average": num(figures.weighted_score(same_type)),
        "type_label": dict(Unit.SchoolType.choices).get(school.school_type, ""),
        "ranked": sum(1 for f in rows if f.rank is not None),
        "ranked_in_type": sum(1 for f in same_type if f.rank is not None),
        "lost": lost,
        "open_list": [
            {
                "id": p["pk"],
                "description": p["description"][:60],
                "status": STATUS_LABELS.get(p["status"], p["status"]),
                "deadline": p["deadline"].isoformat() if p["deadline"] else None,
                "standard": p["standard__code"] or "",
                "url": reverse("ledger:detail", args=[p["pk"]]),
            }
            for p in open_problems
        ],
        "counts": counted,
        "links": ledger_links(ledger_scope(filters) | {"school": school.pk}),
    }


def school_trend(*, user, school: Unit, campaign) -> list[dict]:
    """The school's score and the city's in each round the user may see (a school does not learn of an
    unannounced round before it is over there), oldest first."""
    from .selectors import round_choices

    visible = set(round_choices(campaign, user).values_list("pk", flat=True))
    mine = {p.round_id: p.score for p in figures.round_trend(campaign=campaign, schools=[school.pk])}
    return [
        {
            "id": p.round_id,
            "name": p.name,
            "kind_label": p.kind_label,
            "city": num(p.score),
            "mine": num(mine.get(p.round_id)),
        }
        for p in figures.round_trend(campaign=campaign)
        if p.round_id in visible
    ]


def school_tasks(*, user, school: Unit, campaign) -> dict:
    """The school's duty tasks (open ones first), and its applicable standards without an owner."""
    from chuangwen.duty.models import Task
    from chuangwen.duty.selectors import school_assignments, task_list

    if campaign is None:
        return {"tasks": [], "unowned": []}
    tasks = (
        task_list(user=user, school=school)
        .filter(standard__edition=campaign.edition)
        .exclude(status=Task.Status.DONE)
        .order_by("due_date", "pk")[:20]
    )
    unowned = [
        row["standard"]
        for row in school_assignments(user=user, school=school, edition=campaign.edition)
        if row["assignment"] is None
    ]
    return {"tasks": list(tasks), "unowned": unowned[:20], "unowned_count": len(unowned)}
