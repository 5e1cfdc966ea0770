"""Reports benchmark: the city dashboard and the rankings over a city of 200 schools × 3 years.

    .venv/bin/python bench/reports.py [--schools 200] [--years 3] [--problems 60000] [--rounds 15] [--quick]
                                      [--database-url URL] [--keep]

In-process, on a fresh temporary data directory (SQLite file database, the embedded default), or on an
EMPTY database given with --database-url (DATABASE_URL in the environment is ignored). Builds a bureau,
6 districts, 200 schools of every type, an edition of 100 standards (1 point each), and one campaign per
year (the last one active) with four rounds each — 自查 and 模拟测评 and 暗访督查 over every school,
跟踪督查 over half — every inspection submitted with an answer per standard (mostly 达标, some 基本达标 /
不达标 / 不适用, rarely a failed negative-list item), scores computed as the inspection service does; and
problems in every status spread over the years (most found in a round). Bulk inserts, no services.

Then, in the same process and the same run, median of N requests taken in turn (the dashboard's cases and
the rankings' cases as two groups, each with its raw SQL and the trivial page):
- `/reports/` (city dashboard) and `/reports/rankings/` as 创文办, through the Django test client
  (middleware, session, figures, template); the dashboard also with its cached responsibility coverage
  made stale before each request (as after any change of responsibilities), and as the 大屏's API call;
- the raw SQL of the same aggregates (one cursor, hand-written: latest counted inspection per school with a
  window function, problems per school, by status, open rows for the lights, the median, lost points by
  standard and by standard × school, the round trend; for the rankings the first two), fetched to the end;
- the figures alone (`reports.figures`, no view, no template), to show where the page's time goes;
- the trivial logged-in page (`/accounts/password/`) for reference.
Ratios page ÷ raw SQL are printed; the issue's target is within 2×. Query counts at the full size.
The figures read per-school problem counts from the problem tally (decision 0022), rebuilt after the bulk
load; the raw SQL counts from the ledger itself, and the run checks both give the same numbers.
Timings are printed, never asserted in tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from common import interleaved, ms, setup_django, timed

TWO = Decimal("0.01")


def build(schools: int, years: int, problems: int, seed: int):
    from django.db import transaction
    from django.utils import timezone

    from chuangwen.accounts.models import User
    from chuangwen.campaigns.models import Campaign, Round, RoundSchool
    from chuangwen.core.roles import Role
    from chuangwen.index.models import Edition, Group, ScoringKind, Standard
    from chuangwen.inspections.models import Answer, Inspection
    from chuangwen.ledger.models import Problem, Severity, Source, Status
    from chuangwen.org.models import Membership, Unit

    rng = random.Random(seed)
    types = list(Unit.SchoolType.values)
    with transaction.atomic():
        bureau = Unit.objects.create(kind="bureau", name="基准市教育体育局", code="B0")
        districts = [
            Unit.objects.create(kind="district", name=f"第{i + 1}区", code=f"D{i}", parent=bureau)
            for i in range(6)
        ]
        office = User.objects.create_user(username="office", name="创文办")
        inspector = User.objects.create_user(username="insp", name="督查员")
        Membership.objects.create(user=office, unit=bureau, role=Role.OFFICE)
        Membership.objects.create(user=inspector, unit=bureau, role=Role.INSPECTOR)
        units = [
            Unit.objects.create(
                kind="school",
                name=f"基准第{i + 1}学校",
                code=f"S{i:05d}",
                parent=districts[i % len(districts)],
                school_type=types[i % len(types)],
                ownership="public",
            )
            for i in range(schools)
        ]
        edition = Edition.objects.create(name="基准测评体系", code="bench-reports")
        group = Group.objects.create(edition=edition, depth=1, code="1", title="校园环境")
        Standard.objects.bulk_create(
            Standard(
                edition=edition,
                group=group,
                code=f"1.{n + 1}",
                text=f"测评标准1.{n + 1}：校园内张贴社会主义核心价值观，师生知晓率达到要求",
                points=Decimal("1.00"),
                methods=["site"],
                school_types=types,
                scoring_kind=ScoringKind.GRADE,
                negative_list=n == 99,
                position=n,
            )
            for n in range(100)
        )
    Edition.objects.filter(pk=edition.pk).update(status="published")
    standards = list(Standard.objects.filter(edition=edition).order_by("position"))

    today = timezone.localdate()
    now = timezone.now()
    campaigns = []
    answers_total = 0
    results = (
        [("达标", Decimal("1.00"))] * 80 + [("基本达标", Decimal("0.60"))] * 10 + [("不达标", Decimal(0))] * 8
    )
    results += [("不适用", Decimal(0))] * 2
    for y in range(years):
        start = today - dt.timedelta(days=365 * (years - y))
        end = start + dt.timedelta(days=364)
        campaign = Campaign.objects.create(
            name=f"基准创建周期{y + 1}",
            edition=edition,
            start_date=start,
            end_date=end,
            status=Campaign.Status.ACTIVE if y == years - 1 else Campaign.Status.CLOSED,
        )
        rounds = []
        for k, (kind, share) in enumerate(
            [
                (Round.Kind.SELF, 1),
                (Round.Kind.MOCK, 1),
                (Round.Kind.UNANNOUNCED, 1),
                (Round.Kind.FOLLOW_UP, 2),
            ]
        ):
            r_start = start + dt.timedelta(days=60 + 80 * k)
            round_ = Round.objects.create(
                campaign=campaign,
                kind=kind,
                name=f"{y + 1}年第{k + 1}轮{Round.Kind(kind).label}",
                start_date=r_start,
                end_date=r_start + dt.timedelta(days=10),
                status=Round.Status.FINISHED,
            )
            covered = units[::share]
            RoundSchool.objects.bulk_create([RoundSchool(round=round_, school=s) for s in covered])
            submitted_at = dt.datetime.combine(r_start, dt.time(10), tzinfo=dt.UTC)
            with transaction.atomic():
                inspections = Inspection.objects.bulk_create(
                    [
                        Inspection(
                            round=round_,
                            school=s,
                            started_by=inspector,
                            status=Inspection.Status.SUBMITTED,
                            submitted_at=submitted_at + dt.timedelta(minutes=i),
                            submitted_by=inspector,
                        )
                        for i, s in enumerate(covered)
                    ]
                )
                rows = []
                for inspection in inspections:
                    applicable = obtained = Decimal(0)
                    vetoed = False
                    for standard in standards:
                        result, points = rng.choice(results)
                        if standard.negative_list and result not in ("达标", "不适用"):
                            result, points = (
                                ("不达标", Decimal(0)) if rng.random() < 0.02 else ("达标", Decimal(1))
                            )
                        if standard.negative_list and result == "不适用":
                            result, points = "达标", Decimal(1)
                        rows.append(
                            Answer(
                                inspection=inspection,
                                standard=standard,
                                result=result,
                                fraction=points,
                                points=points,
                                answered_by=inspector,
                                answered_at=submitted_at,
                            )
                        )
                        if result != "不适用":
                            applicable += standard.points
                            obtained += points
                            vetoed = vetoed or (standard.negative_list and points < 1)
                    raw = (obtained / applicable * 100).quantize(TWO, ROUND_HALF_UP)
                    inspection.applicable_points, inspection.obtained_points = applicable, obtained
                    inspection.raw_score, inspection.vetoed = raw, vetoed
                    inspection.score = Decimal("0.00") if vetoed else raw
                Answer.objects.bulk_create(rows, batch_size=5000)
                answers_total += len(rows)
                Inspection.objects.bulk_update(
                    inspections, ["applicable_points", "obtained_points", "raw_score", "score", "vetoed"], 500
                )
            rounds.append(round_)
        campaigns.append((campaign, rounds, start))

    statuses = [Status.CLOSED] * 45 + [Status.PENDING_REVIEW] * 10 + [Status.IN_PROGRESS] * 15
    statuses += [Status.ASSIGNED] * 20 + [Status.NEW] * 5 + [Status.VOID] * 5
    sources = list(Source.values)
    done = 0
    while done < problems:
        batch = []
        for _ in range(min(5000, problems - done)):
            campaign, rounds, start = campaigns[rng.randrange(len(campaigns))]
            school = units[rng.randrange(len(units))]
            round_ = rounds[rng.randrange(len(rounds))] if rng.random() < 0.75 else None
            found = dt.datetime.combine(start, dt.time(2), tzinfo=dt.UTC) + dt.timedelta(
                minutes=rng.randrange(364 * 24 * 60)
            )
            found = min(found, now - dt.timedelta(hours=1))
            status = rng.choice(statuses)
            assigned = found + dt.timedelta(minutes=5) if status != Status.NEW else None
            closed_at = (
                found + dt.timedelta(hours=rng.randrange(2, 24 * 20)) if status == Status.CLOSED else None
            )
            batch.append(
                Problem(
                    school=school,
                    round=round_,
                    standard=standards[rng.randrange(len(standards))],
                    source=round_.kind if round_ else rng.choice(sources[4:]),
                    description=f"基准问题{done + len(batch) + 1}",
                    found_by=inspector,
                    found_at=found,
                    severity=Severity.DAYS,
                    deadline=found + dt.timedelta(days=rng.choice([1, 3, 5, 30, 400])) if assigned else None,
                    status=status,
                    assigned_at=assigned,
                    assigned_by=office if assigned else None,
                    closed_at=closed_at,
                    rechecked_by=office if closed_at else None,
                    rechecked_at=closed_at,
                )
            )
        with transaction.atomic():
            Problem.objects.bulk_create(batch, batch_size=1000)
        done += len(batch)
    return office, campaigns[-1][0], answers_total


# --- the raw SQL baseline ----------------------------------------------------------------------------


def raw_queries(campaign, *, dashboard: bool, now: dt.datetime | None = None) -> list[tuple[str, list]]:
    """The same aggregates as the figures, written by hand (table names from the models), counted from the
    ledger itself (not from the problem tally the figures read)."""
    from chuangwen.campaigns.models import Round
    from chuangwen.inspections.models import Answer, Inspection
    from chuangwen.ledger.models import Problem
    from chuangwen.org.models import Unit

    i, r, u = Inspection._meta.db_table, Round._meta.db_table, Unit._meta.db_table
    p, a = Problem._meta.db_table, Answer._meta.db_table
    s = "index_standard"
    start = dt.datetime.combine(campaign.start_date, dt.time.min, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    end = start + dt.timedelta(days=(campaign.end_date - campaign.start_date).days + 1)
    latest = f"""
        SELECT id, school_id, score, obtained_points, applicable_points, vetoed FROM (
          SELECT i.id, i.school_id, i.score, i.obtained_points, i.applicable_points, i.vetoed,
                 ROW_NUMBER() OVER (PARTITION BY i.school_id ORDER BY i.submitted_at DESC, i.id DESC) AS n
          FROM {i} i JOIN {r} r ON r.id = i.round_id JOIN {u} u ON u.id = i.school_id
          WHERE r.campaign_id = %s AND r.kind <> 'self' AND i.status = 'submitted' AND u.is_active
        ) t WHERE n = 1"""
    in_campaign = f"""({p}.round_id IN (SELECT id FROM {r} WHERE campaign_id = %s)
        OR ({p}.round_id IS NULL AND {p}.found_at >= %s AND {p}.found_at < %s))"""
    params = [campaign.pk, start, end]
    queries = [
        (f"SELECT id, name, school_type, parent_id FROM {u} WHERE kind = 'school' AND is_active", []),
        (latest, [campaign.pk]),
        (
            f"""SELECT school_id, SUM(CASE WHEN status <> 'void' THEN 1 ELSE 0 END),
                SUM(CASE WHEN status NOT IN ('closed', 'void') THEN 1 ELSE 0 END),
                SUM(CASE WHEN status IN ('assigned', 'in_progress') AND deadline < %s THEN 1 ELSE 0 END),
                SUM(CASE WHEN status = 'closed' THEN 1 ELSE 0 END)
                FROM {p} WHERE {in_campaign} GROUP BY school_id""",
            [now or dt.datetime.now(dt.UTC), *params],
        ),
    ]
    if not dashboard:
        return queries
    queries += [
        (f"SELECT status, COUNT(*) FROM {p} WHERE {in_campaign} GROUP BY status", params),
        (
            f"SELECT status, deadline, assigned_at, found_at FROM {p} "
            f"WHERE {in_campaign} AND status NOT IN ('closed', 'void')",
            params,
        ),
        (f"SELECT COUNT(*) FROM {p} WHERE {in_campaign} AND status = 'closed'", params),
        (
            f"SELECT found_at, closed_at FROM {p} WHERE {in_campaign} AND status = 'closed' "
            f"ORDER BY closed_at - found_at LIMIT 2 OFFSET %s",
            [*params, 0],
        ),
        (
            f"""SELECT a.standard_id, SUM(s.points - a.points), COUNT(*),
                SUM(CASE WHEN a.points < s.points THEN 1 ELSE 0 END)
                FROM {a} a JOIN {s} s ON s.id = a.standard_id
                WHERE a.inspection_id IN (SELECT id FROM ({latest}) l) AND a.result <> '不适用'
                GROUP BY a.standard_id""",
            [campaign.pk],
        ),
        (
            f"""SELECT a.standard_id, i.school_id, s.points - a.points FROM {a} a
                JOIN {s} s ON s.id = a.standard_id JOIN {i} i ON i.id = a.inspection_id
                WHERE a.inspection_id IN (SELECT id FROM ({latest}) l) AND a.result <> '不适用'
                AND a.points < s.points""",
            [campaign.pk],
        ),
        (
            f"""SELECT i.round_id, SUM(i.applicable_points),
                SUM(CASE WHEN i.vetoed THEN 0 ELSE i.obtained_points END), COUNT(*)
                FROM {i} i JOIN {r} r ON r.id = i.round_id WHERE r.campaign_id = %s AND i.status = 'submitted'
                GROUP BY i.round_id""",
            [campaign.pk],
        ),
    ]
    return queries


def run_raw(queries) -> int:
    from django.db import connection

    rows = 0
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(sql, params)
            rows += len(cursor.fetchall())
    return rows


def check_same(campaign) -> None:
    """The figures the pages show (from the problem tally) equal the raw SQL's counts from the ledger."""
    from django.db import connection

    from chuangwen.reports import figures

    now = dt.datetime.now(dt.UTC)
    _, latest, problems = raw_queries(campaign, dashboard=False, now=now)
    with connection.cursor() as cursor:
        cursor.execute(*latest)
        # SQLite hands decimals back as floats: compared as the page shows them, to 2 places
        scores = {row[1]: Decimal(str(row[2])).quantize(TWO) for row in cursor.fetchall()}
        cursor.execute(*problems)
        counts = {row[0]: tuple(int(n) for n in row[1:]) for row in cursor.fetchall()}
    shown = figures.school_figures(campaign=campaign, now=now)
    for f in shown:
        assert (f.problems, f.open_problems, f.overdue, f.closed) == counts.get(f.school_id, (0, 0, 0, 0)), f
        assert f.score == scores.get(f.school_id), f
    print(f"checked: the figures of {len(shown)} schools equal the raw SQL's")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--problems", type=int, default=60_000)
    parser.add_argument("--rounds", type=int, default=15, help="requests measured per case")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="40 schools, 1 year, 3,000 problems, 5 rounds")
    parser.add_argument("--database-url", help="an EMPTY database to use instead of a temporary SQLite file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args()
    if args.quick:
        args.schools, args.years, args.problems, args.rounds = 40, 1, 3_000, 5

    data_dir = Path(tempfile.mkdtemp(prefix="chuangwen-bench-reports-"))
    try:
        started = time.perf_counter()
        setup_django(data_dir, database_url=args.database_url, collectstatic=True)
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from chuangwen.inspections.models import Answer
        from chuangwen.ledger.models import Problem
        from chuangwen.org.models import Unit
        from chuangwen.reports import figures, tally

        if Problem.objects.exists() or Answer.objects.exists():
            print("the database already holds data: give an empty one", file=sys.stderr)
            return 2
        office, campaign, answers = build(args.schools, args.years, args.problems, args.seed)
        # The bulk load bypassed the models' save(), so the problem tally is counted once, as after any
        # bulk write (decision 0022).
        tally_started = time.perf_counter()
        tally_rows = tally.rebuild()
        tally_seconds = time.perf_counter() - tally_started
        with connection.cursor() as cursor:  # as autovacuum leaves a live database (bench/ledger.py too)
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        in_campaign = figures.problems_of(campaign=campaign).count()
        print(f"database: {connection.vendor}")
        print(
            f"set-up: {args.schools} schools × {args.years} years, {answers:,} answers, "
            f"{Problem.objects.count():,} problems ({in_campaign:,} in the active campaign); "
            f"{time.perf_counter() - started:.1f} s"
        )
        print(f"problem tally rebuilt from the ledger: {tally_rows:,} rows in {tally_seconds:.2f} s")
        check_same(campaign)

        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(office)

        def page(url):
            def get():
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            return get

        for url in ("/reports/", "/reports/rankings/"):
            with CaptureQueriesContext(connection) as ctx:
                page(url)()
            print(f"queries {url}: {len(ctx.captured_queries)}")

        dash_sql = raw_queries(campaign, dashboard=True)
        rank_sql = raw_queries(campaign, dashboard=False)

        def dash_figures():
            rows = figures.school_figures(campaign=campaign)
            figures.city_from_rows(rows, campaign=campaign, narrowed=False)
            figures.round_trend(campaign=campaign)
            figures.lost_points(campaign=campaign, limit=10)

        from chuangwen.duty.selectors import bump_my_duties

        dashboard_page = page("/reports/")

        def dashboard_cold():
            bump_my_duties()  # responsibilities changed: the cached coverage is stale
            dashboard_page()

        trivial = page("/accounts/password/")
        # Two groups, each interleaved with its own baseline and the trivial page: the dashboard's
        # requests (~10× the rankings' work) disturb whatever runs right after them (allocator, caches),
        # which would be charged to the rankings page and not to its raw SQL.
        groups = {
            "dashboard": {
                "dashboard page": dashboard_page,
                "dashboard page, coverage recomputed": dashboard_cold,
                "dashboard page without coverage (API, coverage=false)": page(
                    "/api/reports/dashboard?coverage=false"
                ),
                "dashboard figures only": dash_figures,
                "dashboard raw SQL": lambda: run_raw(dash_sql),
                "trivial page /accounts/password/": trivial,
            },
            "rankings": {
                "rankings page": page("/reports/rankings/"),
                "rankings figures only": lambda: figures.school_figures(campaign=campaign),
                "rankings raw SQL": lambda: run_raw(rank_sql),
                "trivial page /accounts/password/": trivial,
            },
        }
        median: dict[str, float] = {}
        for group, cases in groups.items():
            samples = interleaved(cases, args.rounds)
            median |= {name if group == "dashboard" else f"{name} ": ms(s) for name, s in samples.items()}
        width = max(len(n) for n in median)
        print(f"\nmedian of {args.rounds} requests each, interleaved within each group:")
        for name, value in median.items():
            print(f"  {name:<{width}}  {value:8.1f} ms")
        print("\nratios against the raw SQL of the same aggregates (target ≤ 2×):")
        for name, base in (
            ("dashboard page", "dashboard raw SQL"),
            ("dashboard page, coverage recomputed", "dashboard raw SQL"),
            ("dashboard page without coverage (API, coverage=false)", "dashboard raw SQL"),
            ("dashboard figures only", "dashboard raw SQL"),
            ("rankings page ", "rankings raw SQL "),
            ("rankings figures only ", "rankings raw SQL "),
        ):
            print(f"  {name:<{width}}  {median[name] / median[base]:5.1f}×")
        schools = list(Unit.objects.filter(kind="school").values_list("pk", flat=True)[: args.rounds])
        recount = timed(lambda: [tally.recount_school(pk) for pk in schools], 3)
        print(
            f"\nwrite side: a problem saved or deleted recounts its school's tally rows, "
            f"{ms(recount) / len(schools):.1f} ms a school (median over {len(schools)} schools × 3)"
        )
        assert not tally.verify(), "the tally differs from the ledger"
        return 0
    finally:
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
