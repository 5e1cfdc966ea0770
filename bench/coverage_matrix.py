"""Coverage-matrix benchmark: 200 schools × 100 standards, ~90 % assigned.

Times the coverage page rendered server-side (Django test client, in-process, many repetitions) and, in
the same run on the same database, the raw SQL of the same counts (applicable and owned pairs per school
and per standard, and the unowned pairs) through a plain cursor. Prints both and their ratio.

    .venv/bin/python bench/coverage_matrix.py [--schools 200] [--standards 100] [--rounds 30] [--keep]

Target (issue 3): server time under 0.5 s and within 3× the raw SQL.
Uses a fresh temporary data directory (SQLite, the embedded default); DATABASE_URL is ignored.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from common import ms, setup_django, timed


def build(schools: int, standards: int, share: float, seed: int):
    from django.db import transaction

    from chuangwen.accounts.models import User
    from chuangwen.core.roles import Role
    from chuangwen.duty import services
    from chuangwen.duty.models import SchoolAssignment
    from chuangwen.index.models import Edition, Group, Standard
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
        Membership.objects.create(user=office, unit=bureau, role=Role.OFFICE)
        people, members = [], []
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
            head = User(username=f"head{i}", name=f"校长{i}")
            people += [liaison, head]
            members.append((liaison, school, Role.LIAISON))
            members.append((head, school, Role.SCHOOL_HEAD))
        User.objects.bulk_create(people)
        Membership.objects.bulk_create([Membership(user=u, unit=s, role=r) for u, s, r in members])

        edition = Edition.objects.create(name="基准测评体系", code="bench")
        per_project = max(1, standards // 10)
        rows, position = [], 0
        for p in range(10):
            project = Group.objects.create(
                edition=edition, depth=1, code=str(p + 1), title=f"测评项目{p + 1}"
            )
            content = Group.objects.create(
                edition=edition, parent=project, depth=2, code=f"{p + 1}.1", title=f"测评内容{p + 1}.1"
            )
            for s in range(per_project):
                if position >= standards:
                    break
                applies = types if rng.random() < 0.6 else rng.sample(types, k=rng.randint(2, 5))
                rows.append(
                    Standard(
                        edition=edition,
                        group=content,
                        code=f"{p + 1}.1.{s + 1}",
                        text=f"测评标准{p + 1}.1.{s + 1}：校园内张贴社会主义核心价值观，师生知晓率达到要求",
                        points=Decimal("1.0"),
                        methods=["site"],
                        school_types=applies,
                        position=position,
                    )
                )
                position += 1
        Standard.objects.bulk_create(rows)
    Edition.objects.filter(pk=edition.pk).update(status="published")
    edition.refresh_from_db()
    result = services.assign_by_rule(edition=edition, actor=office)
    # Leave ~(1 - share) of the pairs unowned.
    ids = list(SchoolAssignment.objects.values_list("pk", flat=True))
    drop = rng.sample(ids, k=int(len(ids) * (1 - share)))
    for start in range(0, len(drop), 500):
        SchoolAssignment.objects.filter(pk__in=drop[start : start + 500]).delete()
    return office, edition, result.created - len(drop), result.applicable


RAW_SQL = {
    "per school": """
        SELECT u.id, COUNT(*) AS applicable, COUNT(a.id) AS owned
        FROM org_unit u
        JOIN index_standard s ON s.edition_id = %s
            AND EXISTS (SELECT 1 FROM json_each(s.school_types) j WHERE j.value = u.school_type)
        LEFT JOIN duty_schoolassignment a ON a.school_id = u.id AND a.standard_id = s.id
        WHERE u.kind = 'school' AND u.is_active
        GROUP BY u.id ORDER BY u.path""",
    "per standard": """
        SELECT s.id, COUNT(*) AS applicable, COUNT(a.id) AS owned
        FROM index_standard s
        JOIN org_unit u ON u.kind = 'school' AND u.is_active
            AND EXISTS (SELECT 1 FROM json_each(s.school_types) j WHERE j.value = u.school_type)
        LEFT JOIN duty_schoolassignment a ON a.school_id = u.id AND a.standard_id = s.id
        WHERE s.edition_id = %s
        GROUP BY s.id ORDER BY s.position""",
    "unowned pairs": """
        SELECT u.id, s.id
        FROM org_unit u
        JOIN index_standard s ON s.edition_id = %s
            AND EXISTS (SELECT 1 FROM json_each(s.school_types) j WHERE j.value = u.school_type)
        LEFT JOIN duty_schoolassignment a ON a.school_id = u.id AND a.standard_id = s.id
        WHERE u.kind = 'school' AND u.is_active AND a.id IS NULL
        ORDER BY u.path, s.position""",
}


RAW_READS = {
    "schools": "SELECT id, name, code, school_type FROM org_unit WHERE kind = 'school' AND is_active "
    "ORDER BY path",
    "standards": "SELECT id, code, text, group_id, school_types FROM index_standard WHERE edition_id = %s "
    "ORDER BY position, id",
    "assignments": "SELECT a.school_id, a.standard_id FROM duty_schoolassignment a "
    "JOIN index_standard s ON s.id = a.standard_id WHERE s.edition_id = %s",
}


def raw_reads(edition_id: int):
    """The three bulk reads the selector makes, as plain SQL (no counting)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in RAW_READS.values():
            cursor.execute(sql, [edition_id] if "%s" in sql else [])
            cursor.fetchall()


def raw_counts(edition_id: int):
    from django.db import connection

    with connection.cursor() as cursor:
        out = {}
        for name, sql in RAW_SQL.items():
            cursor.execute(sql, [edition_id])
            out[name] = cursor.fetchall()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--standards", type=int, default=100)
    parser.add_argument("--share", type=float, default=0.9, help="share of applicable pairs assigned")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="chuangwen-bench-coverage-"))
    try:
        started = time.perf_counter()
        setup_django(data_dir, collectstatic=True)
        office, edition, owned, applicable = build(args.schools, args.standards, args.share, args.seed)
        print(
            f"set-up: {args.schools} schools × {args.standards} standards, {applicable} applicable pairs, "
            f"{owned} owned ({100 * owned / applicable:.1f} %) in {time.perf_counter() - started:.1f} s"
        )

        from django.db import connection
        from django.test import Client

        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(office)
        url = f"/duty/coverage/?edition={edition.pk}"
        client.get(url)
        queries = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url)
        assert response.status_code == 200, response.status_code
        from chuangwen.duty.selectors import coverage

        matrix = coverage(user=office, edition=edition)
        assert f"{matrix.percent:.1f}%" in response.content.decode()

        raw = raw_counts(edition.pk)
        # The page and the raw SQL must agree before their times are compared.
        assert [(s.id, s.applicable, s.owned) for s in matrix.schools] == [
            tuple(r) for r in raw["per school"]
        ]
        assert [(s.id, s.applicable, s.owned) for s in matrix.standards] == [
            tuple(r) for r in raw["per standard"]
        ]
        assert [(s.id, c.id) for s, c in matrix.unowned] == [tuple(r) for r in raw["unowned pairs"]]

        page = timed(lambda: client.get(url), args.rounds)
        sql = timed(lambda: raw_counts(edition.pk), args.rounds)
        reads = timed(lambda: raw_reads(edition.pk), args.rounds)
        page_ms, sql_ms = ms(page), ms(sql)
        print(
            f"coverage page: {len(queries)} queries, {len(response.content) / 1024:.0f} KB, "
            f"median {page_ms:.1f} ms (min {min(page) * 1000:.1f}, max {max(page) * 1000:.1f}) "
            f"over {args.rounds} requests"
        )
        print(
            f"raw SQL of the same counts (3 queries): median {sql_ms:.1f} ms "
            f"(min {min(sql) * 1000:.1f}, max {max(sql) * 1000:.1f})"
        )
        reads_ms = ms(reads)
        print(
            f"raw SQL of the selector's 3 bulk reads (no counting): median {reads_ms:.1f} ms "
            f"(page is {page_ms / reads_ms:.1f}× this)"
        )
        ratio = page_ms / sql_ms if sql_ms else float("inf")
        ok = page_ms < 500 and ratio <= 3
        print(
            f"ratio page / raw SQL: {ratio:.2f}×  → target (< 500 ms and ≤ 3×): {'met' if ok else 'NOT met'}"
        )
        return 0
    finally:
        if args.keep:
            print(f"data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
