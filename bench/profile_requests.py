"""Per-request profile of the benchmarked pages: SQL queries, writes, CPU and wall time in-process.

CPU time (time.process_time) is the figure to compare on a shared machine: wall time includes waiting
for other processes.

Run by run_load.py against the benchmark's data directory (the environment names it); can also be run
on its own: `CHUANGWEN_DATA_DIR=… .venv/bin/python bench/profile_requests.py [-v]` after `chuangwen demo`.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chuangwen.config.settings.local")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from chuangwen.accounts.models import User  # noqa: E402
from chuangwen.accounts.services import token_create  # noqa: E402

ROUNDS = 100
WRITES = ("INSERT", "UPDATE", "DELETE")


def profile(label: str, client: Client, path: str, headers: dict, verbose: bool) -> None:
    client.get(path, headers=headers)  # warm caches and the session's "last seen"
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, (label, response.status_code)
    queries = [q["sql"] for q in ctx.captured_queries]
    writes = [q for q in queries if q.lstrip().upper().startswith(WRITES)]
    sql_seconds = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds[0] += time.perf_counter() - started

    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(ROUNDS):
        with connection.execute_wrapper(timed):
            client.get(path, headers=headers)
    per_request = (time.perf_counter() - started) / ROUNDS * 1000
    cpu = (time.process_time() - cpu_started) / ROUNDS * 1000
    sql_ms = sql_seconds[0] / ROUNDS * 1000
    print(
        f"  {label:<34} {len(queries):>2} queries, {len(writes)} writes  {cpu:6.2f} ms CPU  "
        f"{per_request:6.2f} ms wall  {sql_ms:5.2f} ms in SQL  {len(response.content):>6} bytes"
    )
    if verbose:
        for sql in queries:
            print(f"      {sql[:220]}")


def main() -> None:
    verbose = "-v" in sys.argv
    host = {"HTTP_HOST": "127.0.0.1"}
    anonymous = Client(**host)
    profile("/ping", anonymous, "/ping", {}, verbose)
    for username in ("liaison", "office"):
        user = User.objects.get(username=username)
        client = Client(**host)
        client.force_login(user)
        profile(f"/  as {username} (session)", client, "/", {}, verbose)
        _, raw = token_create(user=user, name="profile")
        profile(
            f"/api/schools as {username} (token)",
            anonymous,
            "/api/schools",
            {"Authorization": f"Bearer {raw}"},
            verbose,
        )
        profile(f"/api/schools as {username} (session)", client, "/api/schools", {}, verbose)


if __name__ == "__main__":
    main()
