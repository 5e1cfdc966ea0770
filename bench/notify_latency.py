"""Notification latency: from assigning a problem (交办) to the school's webhook receiving the message.

    .venv/bin/python bench/notify_latency.py [--runs 100] [--quick] [--keep]

On a fresh temporary data directory (SQLite, the embedded default; DATABASE_URL and REDIS_URL are
ignored): a school with a teacher and a liaison, 创文办 on the bureau, and a generic webhook channel
(ChannelConfig kind "webhook", with a signing secret) on the school pointing at a real HTTP server on
127.0.0.1 (http.server in a thread of this process). The delivery path is the production one:
`chuangwen worker` runs as a separate process, exactly as `chuangwen serve` starts it in embedded mode
(the django-tasks database queue polled every second, plus the outbox sweep every 5 s as a safety net).

Each run records a problem (not assigned, untimed), waits a random 0.05–0.5 s (so runs do not fall into
step with the worker's polling), then times `services.problem_move(code="assign")` in a transaction
until the webhook receives the signed POST for that problem: transaction and commit (the outbox row and
the queued task are written in it), then the queue and the HTTP send. Prints median, p95 and maximum.

Target: median ≤ 2 s from the move to the school's webhook.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import ms, percentile, setup_django

SECRET = "bench-webhook-secret"


class Receiver:
    """A webhook receiver on loopback: records when each problem's message arrives, checks signatures."""

    def __init__(self):
        self.arrivals: dict[int, float] = {}
        self.bad_signatures = 0
        self.posts = 0
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                at = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(self.headers.get("X-Chuangwen-Signature", ""), expected)
                link = json.loads(body or b"{}").get("link", "")
                with receiver.arrived:
                    receiver.posts += 1
                    receiver.bad_signatures += not signed
                    if link.startswith("/ledger/") and link.rstrip("/").split("/")[-1].isdigit():
                        receiver.arrivals.setdefault(int(link.rstrip("/").split("/")[-1]), at)
                    receiver.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, problem_id: int, timeout: float) -> float | None:
        with self.arrived:
            self.arrived.wait_for(lambda: problem_id in self.arrivals, timeout=timeout)
            return self.arrivals.get(problem_id)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def build(url: str):
    from django.db import transaction

    from chuangwen.accounts.models import User
    from chuangwen.core.roles import Role
    from chuangwen.notify.models import ChannelConfig
    from chuangwen.org.models import Membership, Unit

    with transaction.atomic():
        bureau = Unit.objects.create(kind="bureau", name="基准市教育体育局", code="B0")
        district = Unit.objects.create(kind="district", name="东区", code="D0", parent=bureau)
        school = Unit.objects.create(
            kind="school",
            name="东区第一小学",
            code="S0",
            parent=district,
            school_type="primary",
            ownership="public",
        )
        office = User.objects.create_user(username="office", name="创文办")
        teacher = User.objects.create_user(username="teacher", name="王老师")
        liaison = User.objects.create_user(username="liaison", name="李联络员")
        Membership.objects.create(user=office, unit=bureau, role=Role.OFFICE)
        Membership.objects.create(user=teacher, unit=school, role=Role.TEACHER)
        Membership.objects.create(user=liaison, unit=school, role=Role.LIAISON)
        ChannelConfig.objects.create(
            unit=school, kind="webhook", name="学校平台", settings={"url": url}, secret=SECRET
        )
    return school, office, teacher


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    """`chuangwen worker` as `chuangwen serve` starts it beside gunicorn in embedded mode."""
    command = [sys.executable, "-m", "chuangwen.config.cli", "worker", "--no-startup-delay"]
    return subprocess.Popen(
        command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def one_run(receiver: Receiver, school, office, teacher, n: int, timeout: float):
    from django.db import transaction

    from chuangwen.ledger import services

    problem = services.problem_create(
        school=school, description=f"操场东侧有垃圾未清理（第{n}次）", actor=office, assign=False
    )
    started = time.perf_counter()
    with transaction.atomic():
        services.problem_move(problem=problem, code="assign", actor=office, responsible=teacher)
    committed = time.perf_counter()
    arrived = receiver.wait_for(problem.pk, timeout)
    if arrived is None:
        return None
    return committed - started, arrived - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=30.0, help="give up on one message after (s)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="20 runs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args()
    if args.quick:
        args.runs = 20
    rng = random.Random(args.seed)
    data_dir = Path(tempfile.mkdtemp(prefix="chuangwen-bench-notify-"))
    receiver = Receiver()
    worker = None
    try:
        env = setup_django(data_dir)
        school, office, teacher = build(receiver.url)
        worker = start_worker(env, data_dir / "worker.log")
        # Warm-up: the worker is up once the first message arrives (imports, migrations check).
        warm = one_run(receiver, school, office, teacher, 0, timeout=60)
        if warm is None:
            print(f"the worker delivered nothing within 60 s; see {data_dir / 'worker.log'}", file=sys.stderr)
            args.keep = True
            return 2
        commits, totals, lost = [], [], 0
        for n in range(1, args.runs + 1):
            time.sleep(rng.uniform(0.05, 0.5))
            result = one_run(receiver, school, office, teacher, n, timeout=args.timeout)
            if result is None:
                lost += 1
                continue
            commits.append(result[0])
            totals.append(result[1])
        if not totals:
            print("no message arrived", file=sys.stderr)
            return 1
        median = statistics.median(totals)
        print(
            f"{len(totals)} of {args.runs} assignments delivered to the webhook "
            f"({lost} not within {args.timeout:g} s); {receiver.posts} POSTs received, "
            f"{receiver.bad_signatures} with a bad signature"
        )
        print(f"{'':<34}{'median':>9}{'p95':>9}{'max':>9}")
        for label, samples in (
            ("move + commit (in the request)", commits),
            ("move → webhook received", totals),
            ("  of which queue + send", [t - c for t, c in zip(totals, commits, strict=True)]),
        ):
            print(
                f"{label:<34}{ms(samples):>7.0f}ms{percentile(samples, 95) * 1000:>7.0f}ms"
                f"{max(samples) * 1000:>7.0f}ms"
            )
        ok = median <= 2 and not lost and not receiver.bad_signatures
        print(f"target (median ≤ 2 s, nothing lost): {'met' if ok else 'NOT met'}")
        print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        return 0 if ok else 1
    finally:
        if worker is not None:
            stop_worker(worker)
        receiver.close()
        if args.keep:
            print(f"data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
