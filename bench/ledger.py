"""Ledger benchmark: the problem list page and the Excel export with 100,000 problems over 200 schools.

    .venv/bin/python bench/ledger.py [--problems 100000] [--rounds 100] [--quick] [--keep] [--list-only]
                                     [--database-url URL]

In-process, on a fresh temporary data directory (SQLite file database, the embedded default; `migrate`
and `collectstatic`), or on an empty database given with --database-url (DATABASE_URL in the environment
is ignored, so a developer's database is never filled by accident). Builds a bureau, 6 districts, 200
schools with a liaison and a teacher each, an edition of 100 standards in an active campaign with 30
rounds of the four kinds, then problems with bulk_create in every status (closed ones with re-checker and
close time; most found in a round). Then, in the same run:

(a) the ledger list page `/ledger/` as 创文办 (Django test client: middleware, session, selector, template;
    no network), median of N requests taken in turn with the baseline's (so load hits both alike):
    with the user's list caches emptied before each request (the shared catalogue of schools and standards
    warm, as any user's view in the last minute leaves it), with every list cache emptied, and warm;
    against the trivial page
    (`/accounts/password/`: a logged-in page with the same session, base template, navigation and unread
    count, and nothing of its own) and, for reference, `/ping` (no session, no template). The same for a
    district's 创文办, whose list goes through the path filter (the city's office reaches every school
    and skips it). Query counts at 100 problems and at the full size (must be equal). When the page does
    not exist (`ledger:list` not routed) the fallback is `selectors.problem_list(user)[:50]` rendered by
    a small template, reported as such.
(b) the export of every problem (`ledger.exports.export_response`, read to the end as a download would
    be): wall time, tracemalloc peak and RSS growth (sampled every 20 ms), each in its own run, against
    exporting 10,000 rows, to show memory does not grow with rows; the plain read of the same query with
    no Excel is the baseline of the time.

Targets: list page ≤ 3× the trivial page; equal query counts; export of 100,000 rows < 30 s with flat memory.
Timings are printed, never asserted in tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from common import RssPeak, interleaved, mb, ms, setup_django, timed

WORDS = (
    "校门口五十米内公益广告缺失",
    "教室未张贴社会主义核心价值观",
    "食堂光盘行动提示牌破损",
    "操场东侧有垃圾未清理",
    "厕所无禁烟标识",
    "垃圾分类投放点只有两种桶",
    "宣传栏内容过期未更新",
    "无障碍通道被自行车占用",
    "随机询问5名学生，2名不能完整背诵核心价值观",
    "围墙有乱贴乱画",
)
MEASURES = (
    "已重新制作公益广告并张贴，落实专人每周检查",
    "已清理，值日制度上墙，班主任每日巡查",
    "已更换标识，后勤处建立巡查台帐",
    "已组织主题班会学习，次日抽查全部通过",
)


def build_city(schools: int):
    """Bureau, 6 districts, schools with a liaison and a teacher each, 创文办, 2 inspectors, 100 standards."""
    from decimal import Decimal

    from django.db import transaction

    from chuangwen.accounts.models import User
    from chuangwen.core.roles import Role
    from chuangwen.index.models import Edition, Group, Standard
    from chuangwen.org.models import Membership, Unit

    types = list(Unit.SchoolType.values)
    with transaction.atomic():
        bureau = Unit.objects.create(kind="bureau", name="基准市教育体育局", code="B0")
        districts = [
            Unit.objects.create(kind="district", name=f"第{i + 1}区", code=f"D{i}", parent=bureau)
            for i in range(6)
        ]
        office = User.objects.create_user(username="office", name="创文办")
        inspectors = [User.objects.create_user(username=f"insp{i}", name=f"督查员{i}") for i in range(2)]
        Membership.objects.create(user=office, unit=bureau, role=Role.OFFICE)
        for inspector in inspectors:
            Membership.objects.create(user=inspector, unit=bureau, role=Role.INSPECTOR)
        units, people, members = [], [], []
        for i in range(schools):
            school = Unit.objects.create(
                kind="school",
                name=f"基准第{i + 1}学校",
                code=f"S{i:05d}",
                parent=districts[i % len(districts)],
                school_type=types[i % len(types)],
                ownership="public",
            )
            liaison = User(username=f"liaison{i}", name=f"联络员{i}")
            teacher = User(username=f"teacher{i}", name=f"教师{i}")
            people += [liaison, teacher]
            members += [(liaison, school, Role.LIAISON), (teacher, school, Role.TEACHER)]
            units.append((school, teacher))
        User.objects.bulk_create(people)
        Membership.objects.bulk_create([Membership(user=u, unit=s, role=r) for u, s, r in members])
        edition = Edition.objects.create(name="基准测评体系", code="bench-ledger")
        group = Group.objects.create(edition=edition, depth=1, code="1", title="校园环境")
        Standard.objects.bulk_create(
            Standard(
                edition=edition,
                group=group,
                code=f"1.{n + 1}",
                text=f"测评标准1.{n + 1}：校园内张贴社会主义核心价值观，师生知晓率达到要求",
                points=Decimal("1.0"),
                methods=["site"],
                school_types=types,
                position=n,
            )
            for n in range(100)
        )
    Edition.objects.filter(pk=edition.pk).update(status="published")
    standards = list(Standard.objects.filter(edition=edition))
    return office, inspectors, units, standards, add_rounds(edition, units)


def add_rounds(edition, units, count: int = 30) -> list:
    """An active campaign on the edition (so the list's standard dropdown has its 100 standards) and
    `count` rounds of the four kinds over the past year, each over 60 schools (a self-check over all), so
    the round dropdown and the rounds' visibility rule have real rows. Unannounced rounds are finished."""
    from django.utils import timezone

    from chuangwen.campaigns.models import Campaign, Round, RoundSchool

    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="基准创建周期", edition=edition, start_date=today - dt.timedelta(days=365), end_date=today
    )
    kinds = list(Round.Kind.values)
    rng = random.Random(11)
    rounds, links = [], []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        start = today - dt.timedelta(days=365 - i * 12)
        finished = kind == Round.Kind.UNANNOUNCED or i < count - 4
        round_ = Round.objects.create(
            campaign=campaign,
            kind=kind,
            name=f"第{i + 1}轮{Round.Kind(kind).label}",
            start_date=start,
            end_date=start + dt.timedelta(days=7),
            status=Round.Status.FINISHED if finished else Round.Status.IN_PROGRESS,
        )
        covered = units if kind == Round.Kind.SELF else rng.sample(units, min(60, len(units)))
        links += [RoundSchool(round=round_, school=school) for school, _ in covered]
        rounds.append((round_, {school.pk for school, _ in covered}))
    RoundSchool.objects.bulk_create(links)
    return rounds


def add_problems(n: int, city, *, seed: int, batch: int = 5000) -> None:
    """n problems in every status over the past year, inserted in batches (bulk_create, no services)."""
    from django.db import transaction

    from chuangwen.ledger.models import Problem, Severity, Source, Status

    office, inspectors, units, standards, rounds = city
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    statuses = (
        [Status.CLOSED] * 40
        + [Status.PENDING_REVIEW] * 10
        + [Status.IN_PROGRESS] * 20
        + [Status.ASSIGNED] * 20
        + [Status.NEW] * 5
        + [Status.VOID] * 5
    )
    sources = list(Source.values)
    done = 0
    while done < n:
        rows = []
        for _ in range(min(batch, n - done)):
            school, teacher = units[rng.randrange(len(units))]
            # Seven in ten found in a round that covered the school, the rest recorded on their own.
            round_, covered = rounds[rng.randrange(len(rounds))] if rng.random() < 0.7 else (None, ())
            if school.pk not in covered:
                round_ = None
            status = rng.choice(statuses)
            found = now - dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
            assigned = found + dt.timedelta(minutes=5) if status != Status.NEW else None
            deadline = found + dt.timedelta(days=rng.choice([0, 1, 3, 5])) if assigned else None
            submitted = found + dt.timedelta(hours=rng.randrange(1, 72))
            closed = status == Status.CLOSED
            rechecked = closed or (status == Status.IN_PROGRESS and rng.random() < 0.2)
            rows.append(
                Problem(
                    school=school,
                    round=round_,
                    standard=standards[rng.randrange(len(standards))],
                    source=rng.choice(sources),
                    description=f"{rng.choice(WORDS)}（第{done + len(rows) + 1}号）" * rng.randint(1, 3),
                    found_by=inspectors[rng.randrange(len(inspectors))],
                    found_at=found,
                    severity=Severity.IMMEDIATE if rng.random() < 0.7 else Severity.DAYS,
                    deadline=deadline,
                    responsible=teacher if assigned else None,
                    status=status,
                    assigned_at=assigned,
                    assigned_by=office if assigned else None,
                    measures=rng.choice(MEASURES) if status in (Status.CLOSED, Status.PENDING_REVIEW) else "",
                    submitted_at=submitted if status in (Status.CLOSED, Status.PENDING_REVIEW) else None,
                    rechecked_by=office if rechecked else None,
                    rechecked_at=submitted + dt.timedelta(hours=2) if rechecked else None,
                    recheck_note="已整改到位" if closed else ("照片不清晰" if rechecked else ""),
                    closed_at=submitted + dt.timedelta(hours=2) if closed else None,
                    void_reason="重复登记" if status == Status.VOID else "",
                )
            )
        with transaction.atomic():
            Problem.objects.bulk_create(rows, batch_size=1000)
        done += len(rows)


# --- (a) the list page -------------------------------------------------------------------------------

FALLBACK_TEMPLATE = """<table>{% for p in rows %}<tr><td>{{ p.number }}</td><td>{{ p.school.name }}</td>
<td>{{ p.description|truncatechars:60 }}</td><td>{{ p.standard.code }}</td>
<td>{{ p.get_status_display }}</td><td>{{ p.responsible.name }}</td>
<td>{{ p.found_at|date:"Y-m-d H:i" }}</td><td>{{ p.deadline|date:"Y-m-d H:i" }}</td>
</tr>{% endfor %}</table>"""


class ListPage:
    """`/ledger/` through the test client if the page exists, else the selector's first 50 rendered."""

    def __init__(self, office):
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        self.office = office
        self.client = Client(HTTP_HOST="127.0.0.1")
        self.client.force_login(office)
        self.reason = ""
        try:
            self.url = reverse("ledger:list")
        except NoReverseMatch:
            self.url, self.reason = None, "ledger:list is not routed"
        if self.url:
            response = self.client.get(self.url)
            if response.status_code != 200:
                self.url, self.reason = None, f"/ledger/ answered {response.status_code}"
        self.label = (
            f"ledger list page {self.url}"
            if self.url
            else f"FALLBACK (selectors.problem_list()[:50] rendered; {self.reason})"
        )

    def __call__(self) -> int:
        if self.url:
            response = self.client.get(self.url)
            assert response.status_code == 200, response.status_code
            return len(response.content)
        from django.template import Context, Template

        from chuangwen.ledger import selectors

        rows = list(selectors.problem_list(user=self.office)[:50])
        return len(Template(FALLBACK_TEMPLATE).render(Context({"rows": rows})))

    def queries(self) -> list[str]:
        """The SQL of one request with nothing cached, right after another (so a once-a-minute session
        refresh is not counted as the page's own)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self()
        forget_list_caches(self.office)
        with CaptureQueriesContext(connection) as captured:
            self()
        return [q["sql"] for q in captured.captured_queries]


TRIVIAL = "/accounts/password/"
_OFFICE: list = []  # the measured user, for forget_list_caches


def forget_list_caches(user=None) -> None:
    """Drop the user's cached dropdowns and every cached total (ledger/listing.py), as after a problem
    changed and the user's minute is up. The shared catalogue of schools and standards and the display
    settings stay: any user's view in the last minute keeps them warm. Other caches (sessions, the holiday
    calendar) stay as a running server has them."""
    from chuangwen.ledger import listing

    listing.forget(user or _OFFICE[0])


def forget_all_list_caches(user=None) -> None:
    """forget_list_caches and the shared parts too (the catalogue, the ledger's display settings): what the
    first view after a school, standard or campaign changed pays, or a process's first view of the minute."""
    from django.core.cache import cache

    from chuangwen.ledger import listing
    from chuangwen.ledger.models import LedgerSettings

    forget_list_caches(user)
    cache.delete_many([listing.CATALOGUE_KEY, LedgerSettings._cache_key()])


def problem_changed() -> None:
    """What any problem's save does to the list's caches: the totals go stale, the dropdowns stay."""
    from chuangwen.ledger import listing

    listing.problems_changed()


def district_user():
    """创文办 held on the first district (reach: that district's schools only)."""
    from chuangwen.accounts.models import User
    from chuangwen.core.roles import Role
    from chuangwen.org.models import Membership, Unit

    district = Unit.objects.filter(kind="district").order_by("pk").first()
    user = User.objects.create_user(username="district_office", name="区创文办")
    Membership.objects.create(user=user, unit=district, role=Role.OFFICE)
    return user


def district_page_rows(user) -> int:
    from chuangwen.ledger import selectors

    return selectors.visible_problems(user, counting=True).count()


def count_diagnosis(office, rounds: int) -> dict:
    """The list's COUNT as the page runs it (the visibility rule with subqueries, capped at COUNT_CAP + 1
    rows), against the same rule with joins counted in full (what the page did first)."""
    from chuangwen.ledger import selectors
    from chuangwen.ledger.listing import COUNT_CAP

    counted = selectors.problem_list(user=office, counting=True)
    joined = selectors.problem_list(user=office)
    rows = joined.count()
    assert rows == counted.count(), (rows, counted.count())
    return {
        "rows": rows,
        "cap": COUNT_CAP,
        "page": ms(timed(lambda: counted.order_by().values("pk")[: COUNT_CAP + 1].count(), rounds)),
        "joined": ms(timed(joined.count, rounds)),
    }


# --- (b) the export ----------------------------------------------------------------------------------


def export(queryset) -> int:
    """The real download path: export_response, its body read to the end (as Django would send it)."""
    from chuangwen.ledger.exports import export_response

    response = export_response(queryset)
    size = sum(len(chunk) for chunk in response.streaming_content)
    response.close()
    return size


def plain_read(queryset) -> int:
    """The baseline: the same values query read to the end, nothing written."""
    from chuangwen.ledger.exports import CHUNK_SIZE, FIELDS

    return sum(1 for _ in queryset.values(*FIELDS).iterator(chunk_size=CHUNK_SIZE))


def measure_export(queryset, label: str) -> dict:
    """Time, RSS growth and tracemalloc peak, each in its own run (sampling and tracing slow Python down)."""
    import gc

    gc.collect()
    started = time.perf_counter()
    size = export(queryset)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    rows = plain_read(queryset)
    read_seconds = time.perf_counter() - started
    gc.collect()
    with RssPeak() as peak:
        export(queryset)
    gc.collect()
    tracemalloc.start()
    export(queryset)
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "label": label,
        "rows": rows,
        "size": size,
        "seconds": seconds,
        "read": read_seconds,
        "traced": traced,
        "rss": peak.growth,
        "rss_peak": peak.peak,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="the export compared against (rows)")
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10,000 problems, 5,000 compared, 10 rounds")
    parser.add_argument("--database-url", help="an EMPTY database to use instead of a temporary SQLite file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument("--list-only", action="store_true", help="measure the list page only, not the export")
    args = parser.parse_args()
    if args.quick:
        args.problems, args.small, args.rounds = 10_000, 5_000, 10
    first = 100

    data_dir = Path(tempfile.mkdtemp(prefix="chuangwen-bench-ledger-"))
    try:
        started = time.perf_counter()
        setup_django(data_dir, database_url=args.database_url, collectstatic=True)
        from django.db import connection
        from django.db.models import Count
        from django.test import Client

        from chuangwen.ledger import selectors
        from chuangwen.ledger.models import Problem

        if Problem.objects.exists():
            print("the database already holds problems: give an empty one", file=sys.stderr)
            return 2
        city = build_city(args.schools)
        office = city[0]
        _OFFICE.append(office)
        add_problems(first, city, seed=args.seed)
        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        page = ListPage(office)
        print(f"measuring: {page.label}")
        small_queries = page.queries()
        small_page = timed(page, args.rounds, before=forget_list_caches)

        built = time.perf_counter()
        add_problems(args.problems - first, city, seed=args.seed + 1)
        total = Problem.objects.count()
        print(
            f"set-up: {args.schools} schools, {total:,} problems "
            f"(bulk insert {time.perf_counter() - built:.1f} s; "
            f"whole set-up {time.perf_counter() - started:.1f} s)"
        )
        # Fresh planner statistics, as a live database has them (autovacuum / `chuangwen` maintenance):
        # without them PostgreSQL sorted all rows for the first page (0.5 s instead of 8 ms).
        # On PostgreSQL also the visibility map that autovacuum keeps after bulk inserts (PG 13+ vacuums on
        # inserts): without it the district's count could not use an index-only scan (22 ms instead of 4).
        if connection.vendor in ("sqlite", "postgresql"):
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

        # (a) list page against /ping, same run, same client settings.
        ping_client = Client(HTTP_HOST="127.0.0.1")
        assert ping_client.get("/ping").status_code == 200

        # The trivial page: a logged-in page with the same base template, session, navigation and
        # unread count as every page, and nothing of its own (the password form).
        trivial_client = Client(HTTP_HOST="127.0.0.1")
        trivial_client.force_login(office)
        assert trivial_client.get(TRIVIAL).status_code == 200
        big_queries = page.queries()
        size = page()
        # A district's 创文办 (a bureau role held on a district reaches that district only): the list with
        # the path filter, which the city's office (whole city) skips.
        district_office = district_user()
        district_page = ListPage(district_office)
        district_queries = district_page.queries()
        # In turn: the trivial page, the list with its caches emptied, the same list again (caches warm).
        taken = interleaved(
            {
                "ping": (lambda: ping_client.get("/ping"), None),
                "trivial": (lambda: trivial_client.get(TRIVIAL), None),
                "cold": (page, forget_list_caches),
                "all cold": (page, forget_all_list_caches),
                "changed": (page, problem_changed),
                "warm": (page, None),
                "district cold": (district_page, lambda: forget_list_caches(district_office)),
                "district all cold": (district_page, lambda: forget_all_list_caches(district_office)),
                "district warm": (district_page, None),
            },
            args.rounds,
        )
        ping, trivial, big_page, big_warm = (taken[k] for k in ("ping", "trivial", "cold", "warm"))
        ratio = ms(big_page) / ms(trivial)
        print(
            f"\n(a) {page.label}, as 创文办 (whole city), median of {args.rounds}; "
            "the user's list caches empty"
        )
        print(f"  /ping (no session, no page)   {ms(ping):8.2f} ms")
        print(f"  {TRIVIAL} (trivial page)  {ms(trivial):8.2f} ms   (baseline)")
        print(
            f"  list at {first:>7,} problems      {ms(small_page):8.2f} ms   {len(small_queries)} queries   "
            f"(reference)"
        )
        print(
            f"  list at {total:>7,} problems      {ms(big_page):8.2f} ms   {len(big_queries)} queries   "
            f"{size / 1024:.0f} KB   min {min(big_page) * 1000:.1f} max {max(big_page) * 1000:.1f}"
        )
        print(
            f"  ratio list / trivial page: {ratio:.1f}× "
            f"(target ≤ 3×: {'met' if ratio <= 3 else 'NOT met'}); "
            f"list / ping: {ms(big_page) / ms(ping):.0f}×; "
            f"queries {first} vs {total:,}: {len(small_queries)} vs {len(big_queries)}: "
            f"{'met' if len(small_queries) == len(big_queries) else 'NOT met'}"
        )
        print(
            f"  list at {total:>7,} problems, caches warm (same user again within the minute, "
            f"no problem changed): {ms(big_warm):.2f} ms = {ms(big_warm) / ms(trivial):.1f}× the trivial page"
        )
        every = taken["all cold"]
        print(
            f"  list at {total:>7,} problems, every list cache empty (the shared catalogue of schools and "
            f"standards too: once a minute per process): {ms(every):.2f} ms = "
            f"{ms(every) / ms(trivial):.1f}× the trivial page"
        )
        changed = taken["changed"]
        print(
            f"  list at {total:>7,} problems, right after a problem changed (total recounted, dropdowns "
            f"cached): {ms(changed):.2f} ms = {ms(changed) / ms(trivial):.1f}× the trivial page"
        )
        print(f"  list {total:,} / list {first}: {ms(big_page) / ms(small_page):.1f}×  (what the data adds)")
        district_rows = district_page_rows(district_office)
        for label, key in (
            ("user's caches empty", "district cold"),
            ("every list cache empty", "district all cold"),
            ("caches warm", "district warm"),
        ):
            print(
                f"  as a district's 创文办 ({district_rows:,} problems in reach, path filter), {label}: "
                f"{ms(taken[key]):.2f} ms = {ms(taken[key]) / ms(trivial):.1f}× the trivial page; "
                f"{len(district_queries)} queries"
            )
        counted = count_diagnosis(district_office, args.rounds)
        print(
            f"  the district's COUNT (subqueries, capped at {counted['cap'] + 1:,} rows): "
            f"{counted['page']:.1f} ms; "
            f"its {counted['rows']:,} rows counted with the joins instead: {counted['joined']:.1f} ms"
        )
        if len(small_queries) != len(big_queries):
            shapes = {q[:80] for q in small_queries}, {q[:80] for q in big_queries}
            for sql in sorted(shapes[0] ^ shapes[1]):
                print(f"    only at one size: {sql}")

        if args.list_only:
            return 0
        # (b) export: everything, and a slice of `small` rows (the first schools' problems).
        everything = selectors.problem_list(user=office)
        schools = [school.pk for school, _ in city[2]]
        share, subset = 0, []
        counts = dict(Problem.objects.values_list("school_id").order_by().annotate(n=Count("pk")))
        for pk in schools:
            if share >= args.small:
                break
            subset.append(pk)
            share += counts.get(pk, 0)
        part = selectors.problem_list(user=office).filter(school_id__in=subset)
        small = measure_export(part, "small")
        big = measure_export(everything, "all")
        print(
            "\n(b) export (export_response, body read to the end); baseline = the same query read, no Excel"
        )
        print(
            f"  {'rows':>8}{'xlsx':>10}{'time':>9}{'read':>8}{'× read':>8}"
            f"{'traced peak':>13}{'RSS growth':>12}{'RSS peak':>10}"
        )
        for r in (small, big):
            print(
                f"  {r['rows']:>8,}{mb(r['size']):>10}{r['seconds']:>8.1f}s{r['read']:>7.2f}s"
                f"{r['seconds'] / r['read']:>8.1f}{mb(r['traced']):>13}{mb(r['rss']):>12}"
                f"{r['rss_peak'] / 1024 / 1024:>7.0f} MB"
            )
        rows_ratio = big["rows"] / small["rows"]
        print(
            f"  rows ×{rows_ratio:.1f}: time ×{big['seconds'] / small['seconds']:.1f}, "
            f"traced peak ×{big['traced'] / small['traced']:.2f}, "
            f"RSS growth {mb(small['rss'])} → {mb(big['rss'])}"
        )
        ok = big["seconds"] < 30 and big["traced"] < 2 * small["traced"]
        print(
            f"  target (all rows < 30 s, memory flat): {'met' if ok else 'NOT met'} "
            f"({big['rows'] / big['seconds']:,.0f} rows/s)"
        )
        print(
            f"\nmachine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        return 0
    finally:
        if args.keep:
            print(f"data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
