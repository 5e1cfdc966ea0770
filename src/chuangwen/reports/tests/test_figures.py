"""Every figure of reports.figures against an independent computation over the same rows.

The independent side reads the latest counted inspection with plain SQL (a NOT EXISTS over later
inspections, where figures.py folds ordered rows in Python), and the problems and answers as plain rows
folded in Python (where figures.py aggregates in the database). Ranks are recomputed as
"1 + the number of schools with a higher score" (figures.py sorts and walks).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chuangwen.campaigns.models import Campaign, Round
from chuangwen.inspections.models import Answer, Inspection
from chuangwen.ledger import deadlines
from chuangwen.ledger.models import Problem
from chuangwen.org.models import Unit
from chuangwen.org.tests.factories import SchoolFactory
from chuangwen.reports import figures

from .factories import build, inspect, new_round

pytestmark = pytest.mark.django_db
TWO = Decimal("0.01")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def dec(value) -> Decimal:
    return Decimal(str(value)).quantize(TWO, ROUND_HALF_UP)


def pct(part, whole):
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TWO, ROUND_HALF_UP) if whole else None


@pytest.fixture
def data(city):
    return build(city)


# --- the independent side ----------------------------------------------------------------------------


def counted_sql(campaign, round_=None) -> dict[int, dict]:
    """school id → its counted inspection, by plain SQL: no later submitted inspection in the same set."""
    i, r, u = Inspection._meta.db_table, Round._meta.db_table, Unit._meta.db_table
    if round_ is not None:
        where, params = "r.id = %s", [round_.pk]
        where_j = "s.id = %s"
    else:
        where = "r.campaign_id = %s AND r.kind IN ('mock', 'unannounced', 'follow_up')"
        where_j = "s.campaign_id = %s AND s.kind IN ('mock', 'unannounced', 'follow_up')"
        params = [campaign.pk]
    sql = f"""
        SELECT i.id, i.school_id, i.score, i.obtained_points, i.applicable_points, i.vetoed
        FROM {i} i JOIN {r} r ON r.id = i.round_id JOIN {u} u ON u.id = i.school_id
        WHERE {where} AND u.is_active AND i.status = 'submitted' AND NOT EXISTS (
            SELECT 1 FROM {i} j JOIN {r} s ON s.id = j.round_id
            WHERE {where_j} AND j.status = 'submitted' AND j.school_id = i.school_id
              AND (j.submitted_at > i.submitted_at OR (j.submitted_at = i.submitted_at AND j.id > i.id)))
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params + params)
        rows = cursor.fetchall()
    return {
        school_id: {
            "id": pk,
            "score": dec(score),
            "obtained": dec(obtained),
            "applicable": dec(applicable),
            "vetoed": bool(vetoed),
        }
        for pk, school_id, score, obtained, applicable, vetoed in rows
    }


def submitted_count_sql(campaign, round_=None) -> dict[int, int]:
    i, r = Inspection._meta.db_table, Round._meta.db_table
    if round_ is not None:
        where, params = "r.id = %s", [round_.pk]
    else:
        where, params = "r.campaign_id = %s AND r.kind <> 'self'", [campaign.pk]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT i.school_id, COUNT(*) FROM {i} i JOIN {r} r ON r.id = i.round_id "
            f"WHERE {where} AND i.status = 'submitted' GROUP BY i.school_id",
            params,
        )
        return dict(cursor.fetchall())


def self_score_python(campaign, round_=None):
    rows = Inspection.objects.filter(status="submitted", round__kind="self").values(
        "school_id", "score", "submitted_at", "pk", "round_id", "round__campaign_id"
    )
    if round_ is not None:
        rows = [r for r in rows if r["round_id"] == round_.pk]
    else:
        rows = [r for r in rows if r["round__campaign_id"] == campaign.pk]
    best = {}
    for r in rows:
        key = (r["submitted_at"], r["pk"])
        if r["school_id"] not in best or key > best[r["school_id"]][0]:
            best[r["school_id"]] = (key, r["score"])
    return {k: v[1] for k, v in best.items()}


def problems_python(campaign, round_=None):
    rows = Problem.objects.values(
        "pk",
        "school_id",
        "status",
        "deadline",
        "round_id",
        "round__campaign_id",
        "found_at",
        "closed_at",
        "assigned_at",
        "school__is_active",
    )
    out = []
    for r in rows:
        if round_ is not None:
            counted = r["round_id"] == round_.pk
        elif r["round_id"] is not None:
            counted = r["round__campaign_id"] == campaign.pk
        else:
            day = r["found_at"].astimezone(SHANGHAI).date()
            counted = campaign.start_date <= day <= campaign.end_date
        if counted and r["school__is_active"]:
            out.append(r)
    return out


def ranks_python(scores: dict[int, Decimal]) -> dict[int, int]:
    return {pk: 1 + sum(1 for other in scores.values() if other > s) for pk, s in scores.items()}


def expected_schools(campaign, round_=None, now=None):
    now = now or timezone.now()
    counted = counted_sql(campaign, round_)
    counts = submitted_count_sql(campaign, round_)
    selfs = self_score_python(campaign, round_)
    if round_ is not None and round_.kind != "self":
        selfs = {}
    problems = problems_python(campaign, round_)
    schools = Unit.objects.filter(kind="school", is_active=True).select_related("parent")
    scores = {pk: c["score"] for pk, c in counted.items()}
    types = {s.pk: s.school_type for s in schools}
    expected = {}
    for s in schools:
        mine = [p for p in problems if p["school_id"] == s.pk]
        real = [p for p in mine if p["status"] != "void"]
        closed = sum(1 for p in mine if p["status"] == "closed")
        c = counted.get(s.pk)
        same_type = {pk: sc for pk, sc in scores.items() if types.get(pk) == s.school_type}
        expected[s.pk] = {
            "name": s.name,
            "school_type": s.school_type,
            "school_type_label": s.get_school_type_display(),
            "district": s.parent.name if s.parent.kind == "district" else "",
            "score": c["score"] if c else None,
            "obtained": (Decimal(0) if c["vetoed"] else c["obtained"]) if c else Decimal(0),
            "applicable": c["applicable"] if c else Decimal(0),
            "vetoed": c["vetoed"] if c else False,
            "self_score": dec(selfs[s.pk]) if selfs.get(s.pk) is not None else None,
            "inspections": counts.get(s.pk, 0),
            "problems": len(real),
            "open_problems": sum(1 for p in mine if p["status"] not in ("closed", "void")),
            "overdue": sum(
                1
                for p in mine
                if p["status"] in ("assigned", "in_progress") and p["deadline"] and p["deadline"] < now
            ),
            "closed": closed,
            "rectification_rate": pct(closed, len(real)),
            "rank": ranks_python(scores).get(s.pk),
            "rank_in_type": ranks_python(same_type).get(s.pk),
        }
    return expected


def as_dict(f: figures.SchoolFigures) -> dict:
    return {
        "name": f.name,
        "school_type": f.school_type,
        "school_type_label": f.school_type_label,
        "district": f.district,
        "score": f.score,
        "obtained": f.obtained,
        "applicable": f.applicable,
        "vetoed": f.vetoed,
        "self_score": f.self_score,
        "inspections": f.inspections,
        "problems": f.problems,
        "open_problems": f.open_problems,
        "overdue": f.overdue,
        "closed": f.closed,
        "rectification_rate": f.rectification_rate,
        "rank": f.rank,
        "rank_in_type": f.rank_in_type,
    }


def expected_city(campaign, round_=None, now=None, school_ids=None):
    now = now or timezone.now()
    per_school = expected_schools(campaign, round_, now)
    if school_ids is not None:
        per_school = {pk: v for pk, v in per_school.items() if pk in school_ids}
    scored = [v for v in per_school.values() if v["score"] is not None]
    problems = [p for p in problems_python(campaign, round_) if p["school_id"] in per_school]
    closed = [p for p in problems if p["status"] == "closed"]
    by_status = dict.fromkeys(("new", "assigned", "in_progress", "pending_review", "closed", "void"), 0)
    for p in problems:
        by_status[p["status"]] += 1
    by_light = {"green": 0, "yellow": 0, "red": 0, "none": 0}
    for problem in Problem.objects.filter(pk__in=[p["pk"] for p in problems]).exclude(
        status__in=["closed", "void"]
    ):
        by_light[deadlines.light(problem, now=now)] += 1
    days = [(p["closed_at"] - p["found_at"]).total_seconds() / 86400 for p in closed]
    real = sum(v["problems"] for v in per_school.values())
    return {
        "score": pct(sum(v["obtained"] for v in scored), sum(v["applicable"] for v in scored)),
        "schools": len(per_school),
        "inspected_schools": len(scored),
        "problems": real,
        "open_problems": sum(1 for p in problems if p["status"] not in ("closed", "void")),
        "overdue": sum(v["overdue"] for v in per_school.values()),
        "closed": len(closed),
        "rectification_rate": pct(len(closed), real),
        "median_days_to_close": (
            Decimal(str(statistics.median(days))).quantize(Decimal("0.1"), ROUND_HALF_UP) if days else None
        ),
        "by_status": by_status,
        "by_light": by_light,
    }


# --- school figures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("later", [0, 3, 30])
def test_school_figures_equal_the_independent_computation(data, later):
    now = timezone.now() + dt.timedelta(days=later)
    got = {f.school_id: as_dict(f) for f in figures.school_figures(campaign=data.campaign, now=now)}
    assert got == expected_schools(data.campaign, now=now)


def test_school_figures_of_one_round(data):
    for round_ in (data.round1, data.round2, data.self_round):
        got = {f.school_id: as_dict(f) for f in figures.school_figures(campaign=data.campaign, round=round_)}
        assert got == expected_schools(data.campaign, round_), round_.name


def test_the_fixture_has_what_the_figures_must_handle(city, data):
    """Guard the fixture: ties, a veto, an uninspected school, overdue and void problems really exist."""
    rows = figures.school_figures(campaign=data.campaign, now=timezone.now() + dt.timedelta(days=30))
    assert [f.rank for f in rows] == [1, 2, 2, 4, None]  # competition ranking, unranked last
    by_id = {f.school_id: f for f in rows}
    assert by_id[city.school_b.pk].score == by_id[city.school_c.pk].score
    assert by_id[city.school_b.pk].rank_in_type == 1 and by_id[city.school_c.pk].rank_in_type == 2
    assert by_id[data.school_d.pk].vetoed and by_id[data.school_d.pk].score == 0
    assert by_id[data.school_d.pk].district == "" and by_id[data.school_e.pk].score is None
    assert by_id[city.school_a.pk].inspections == 2 and by_id[city.school_a.pk].self_score is not None
    assert sum(f.overdue for f in rows) >= 3
    assert Problem.objects.filter(status="void").exists()


def test_latest_inspection_counts_and_school_filter_keeps_city_ranks(city, data):
    counted = counted_sql(data.campaign)
    a = figures.school_figures(campaign=data.campaign, schools=[city.school_a.pk])
    assert [f.school_id for f in a] == [city.school_a.pk]
    round2 = Inspection.objects.get(round=data.round2, school=city.school_a)
    assert counted[city.school_a.pk]["id"] == round2.pk and a[0].score == round2.score
    west = figures.school_figures(campaign=data.campaign, schools=Unit.objects.filter(parent=city.district_b))
    everyone = {f.school_id: f for f in figures.school_figures(campaign=data.campaign)}
    assert {f.school_id for f in west} == {city.school_c.pk, data.school_e.pk}
    assert all(f == everyone[f.school_id] for f in west)


def test_inactive_school_is_left_out(city, data):
    Unit.objects.filter(pk=city.school_c.pk).update(is_active=False)
    rows = figures.school_figures(campaign=data.campaign)
    assert city.school_c.pk not in {f.school_id for f in rows}
    assert {f.school_id: as_dict(f) for f in rows} == expected_schools(data.campaign)
    assert [f.rank for f in rows] == [1, 2, 3, None]


# --- city figures -----------------------------------------------------------------------------------


def city_dict(c: figures.CityFigures) -> dict:
    return {name: getattr(c, name) for name in figures.CityFigures.__dataclass_fields__}


@pytest.mark.parametrize("later", [0, 3, 30])
def test_city_figures_equal_the_independent_computation(data, later):
    now = timezone.now() + dt.timedelta(days=later)
    got = city_dict(figures.city_figures(campaign=data.campaign, now=now))
    assert got == expected_city(data.campaign, now=now)
    assert sum(got["by_light"].values()) == got["open_problems"]


def test_city_figures_of_a_round_and_of_a_district(city, data):
    for round_ in (data.round1, data.round2):
        got = city_dict(figures.city_figures(campaign=data.campaign, round=round_))
        assert got == expected_city(data.campaign, round_)
    east = figures.filter_schools(district_id=city.district_a.pk)
    got = city_dict(figures.city_figures(campaign=data.campaign, schools=east))
    assert got == expected_city(data.campaign, school_ids={city.school_a.pk, city.school_b.pk})
    junior = figures.filter_schools(school_type="junior")
    got = city_dict(figures.city_figures(campaign=data.campaign, schools=junior))
    assert got == expected_city(data.campaign, school_ids={city.school_b.pk, data.school_e.pk})


def test_red_light_and_median_of_an_even_count(city, data):
    """Back-dated deadlines light red; a fourth closed problem makes the median the mean of two."""
    from .factories import close

    Problem.objects.filter(pk=data.problems["a_assigned"].pk).update(
        deadline=timezone.now() - dt.timedelta(hours=1)
    )
    problem = data.problems["c_assigned"]
    close(problem, teacher=city.outsider, office=city.users["office"])
    got = city_dict(figures.city_figures(campaign=data.campaign))
    assert got == expected_city(data.campaign)
    assert got["by_light"]["red"] >= 1 and got["closed"] == 4


def test_an_empty_campaign(city):
    from chuangwen.ledger.tests.factories import make_setup

    campaign = make_setup(city).campaign
    c = figures.city_figures(campaign=campaign)
    assert c.score is None and c.inspected_schools == 0 and c.problems == 0
    assert c.rectification_rate is None and c.median_days_to_close is None
    assert set(c.by_status.values()) == {0} and set(c.by_light.values()) == {0}
    assert c.schools == Unit.objects.filter(kind="school", is_active=True).count()
    assert figures.lost_points(campaign=campaign) == []
    assert all(f.rank is None for f in figures.school_figures(campaign=campaign))


# --- lost points and trend --------------------------------------------------------------------------


def expected_lost(campaign, round_=None, school_ids=None):
    counted = counted_sql(campaign, round_)
    ids = {c["id"]: school for school, c in counted.items() if school_ids is None or school in school_ids}
    per = defaultdict(lambda: {"lost": Decimal(0), "checked": set(), "losing": {}})
    for a in Answer.objects.filter(inspection_id__in=ids).select_related("standard", "inspection__school"):
        if a.result == "不适用":
            continue
        lost = a.standard.points - a.points
        e = per[a.standard_id]
        e["standard"] = a.standard
        e["lost"] += lost
        e["checked"].add(a.inspection.school_id)
        if lost > 0:
            e["losing"][a.inspection.school_id] = (
                a.inspection.school_id,
                a.inspection.school.name,
                dec(lost),
            )
    out = []
    for e in per.values():
        worst = sorted(e["losing"].values(), key=lambda w: (-w[2], w[1], w[0]))[:5]
        s = e["standard"]
        out.append(
            (s.pk, s.code, s.text, dec(s.points), dec(e["lost"]), len(e["losing"]), len(e["checked"]), worst)
        )
    out.sort(key=lambda row: (-row[4], row[1]))
    return out


def loss_tuple(s: figures.StandardLoss):
    return (
        s.standard_id,
        s.code,
        s.text,
        dec(s.points),
        s.lost,
        s.schools_losing,
        s.schools_checked,
        s.worst,
    )


def test_lost_points_equal_the_independent_computation(city, data):
    got = [loss_tuple(s) for s in figures.lost_points(campaign=data.campaign)]
    assert got == expected_lost(data.campaign)
    assert got[0][4] > 0 and any(row[5] < row[6] for row in got)
    assert [loss_tuple(s) for s in figures.lost_points(campaign=data.campaign, limit=2)] == got[:2]
    got = [loss_tuple(s) for s in figures.lost_points(campaign=data.campaign, round=data.round1)]
    assert got == expected_lost(data.campaign, data.round1)
    east = figures.filter_schools(district_id=city.district_a.pk)
    got = [loss_tuple(s) for s in figures.lost_points(campaign=data.campaign, schools=east)]
    assert got == expected_lost(data.campaign, school_ids={city.school_a.pk, city.school_b.pk})


def test_round_trend_equals_the_independent_computation(data):
    rows = Inspection.objects.filter(round__campaign=data.campaign, status="submitted").select_related(
        "round"
    )
    sums = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for i in rows:
        sums[i.round_id][0] += 0 if i.vetoed else i.obtained_points
        sums[i.round_id][1] += i.applicable_points
        sums[i.round_id][2] += 1
    rounds = sorted(Round.objects.filter(pk__in=sums), key=lambda r: (r.start_date, r.pk))
    expected = [(r.pk, r.name, r.kind, pct(sums[r.pk][0], sums[r.pk][1]), sums[r.pk][2]) for r in rounds]
    got = [
        (p.round_id, p.name, p.kind, p.score, p.inspected_schools)
        for p in figures.round_trend(campaign=data.campaign)
    ]
    assert got == expected and len(got) == 3


def test_active_campaign_is_the_latest_active_one(city, data):
    assert figures.active_campaign() == data.campaign
    later = Campaign.objects.create(
        name="下一周期",
        edition=data.campaign.edition,
        start_date=dt.date(2027, 9, 1),
        end_date=dt.date(2028, 7, 1),
    )
    assert figures.active_campaign() == later
    Campaign.objects.filter(pk=later.pk).update(status=Campaign.Status.CLOSED)
    assert figures.active_campaign() == data.campaign
    Campaign.objects.update(status=Campaign.Status.CLOSED)
    assert figures.active_campaign() is None


# --- queries ----------------------------------------------------------------------------------------


def _queries(campaign, **kwargs) -> int:
    with CaptureQueriesContext(connection) as ctx:
        figures.school_figures(campaign=campaign, **kwargs)
        figures.city_figures(campaign=campaign, **kwargs)
        figures.lost_points(campaign=campaign, **kwargs)
        figures.round_trend(campaign=campaign)
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_schools(city, data):
    from chuangwen.core.roles import Role
    from chuangwen.ledger import services as ledger

    before = _queries(data.campaign)
    more = [SchoolFactory(parent=city.district_a, name=f"新增学校{i}") for i in range(4)]
    round3 = new_round(city, data.campaign, "unannounced", "暗访督查", more)
    for school in more:
        inspect(
            data.setup,
            round3,
            school,
            city.users[Role.INSPECTOR],
            {"1.1": "不达标", "1.2": "合格", "1.3": 1, "1.4": "合格"},
        )
        ledger.problem_create(
            school=school,
            standard=data.setup.standards["1.2"],
            round_=round3,
            description="新问题",
            actor=city.users[Role.INSPECTOR],
        )
    assert _queries(data.campaign) == before
    assert before <= 18  # school_figures (twice): schools, inspections, problem tally, running deadlines
    assert {
        f.school_id: as_dict(f) for f in figures.school_figures(campaign=data.campaign)
    } == expected_schools(data.campaign)
