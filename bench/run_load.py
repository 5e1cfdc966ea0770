"""Load benchmark: the production server on this machine, the demo city, 32 concurrent connections.

    .venv/bin/python bench/run_load.py [--duration 10] [--warmup 2] [--connections 32]

Starts `chuangwen serve` (gunicorn, no task worker) on a free 127.0.0.1 port over a fresh data directory
(migrate, collectstatic, demo), logs in as demo users, creates API tokens, and measures throughput and
p95 latency of /ping (the baseline), the home page and /api/schools with wrk (installed from Debian if
missing; a Python client is the fallback). Prints each figure, its ratio to /ping and the error counts.
Exit status: 0 when no request failed, 1 when any did, 2 when the set-up failed. The throughput target
(each page ≥ 1/3 of /ping) is reported, not enforced. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT

VENV_BIN = Path(sys.executable).parent
CHUANGWEN = str(VENV_BIN / "chuangwen") if (VENV_BIN / "chuangwen").exists() else shutil.which("chuangwen")
PASSWORD = "Demo@2026cw"
TARGET_RATIO = 1 / 3
PROFILE_SCRIPT = Path(__file__).resolve().parent / "profile_requests.py"

WRK_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad_status = 0 end
function response(status, headers, body)
  if status ~= 200 then bad_status = bad_status + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("bad_status") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bad_status":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


class SetupError(Exception):
    """The benchmark could not be set up (exit status 2)."""


@dataclass
class Endpoint:
    label: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    marker: str = ""  # a regular expression the response must match (checked once before the load)
    baseline: bool = False
    reference: bool = False  # shown for comparison, not held to the target


@dataclass
class Result:
    endpoint: Endpoint
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    bad_status: int
    restarts: int = 0  # gunicorn workers recycled (--max-requests) during the measurement
    server_cpu_s: float | None = None  # CPU time the server's processes used during the measurement

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s / self.requests * 1000

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.bad_status


def log(message: str) -> None:
    print(message, flush=True)


def run(cmd: list[str], env: dict, *, capture: bool = False) -> str:
    done = subprocess.run(cmd, env=env, cwd=ROOT, text=True, capture_output=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SetupError(f"set-up step failed ({done.returncode}): {' '.join(cmd[1:])}")
    return done.stdout if capture else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_wrk() -> str | None:
    """wrk from Debian; `apt-get update` once and install it when missing and we may."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        log("wrk is missing: apt-get update && apt-get install -y wrk")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
        if subprocess.run([apt, "update", "-qq"], **quiet).returncode == 0:
            subprocess.run([apt, "install", "-y", "-qq", "wrk"], **quiet)
    return shutil.which("wrk")


# --- server ----------------------------------------------------------------------------------------


class Server:
    def __init__(self, env: dict, port: int, workers: int | None, threads: int | None, log_path: Path):
        self.env, self.port, self.log_path = env, port, log_path
        self.cmd = [CHUANGWEN, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"]
        if workers:
            self.cmd += ["--workers", str(workers)]
        if threads:
            self.cmd += ["--threads", str(threads)]
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 40) -> None:
        self.log_file = out = self.log_path.open("w")
        # A new session makes the server the leader of its own process group, so stop() reaches gunicorn too.
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(f"server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise SetupError(f"server did not answer /healthz within {timeout:.0f} s; see {self.log_path}")

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by the server's process group (Linux /proc), reaped workers included."""
        if self.proc is None or not Path("/proc/self/stat").exists():
            return None
        pgid, ticks, total = os.getpgid(self.proc.pid), os.sysconf("SC_CLK_TCK"), 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:  # fields: state ppid pgrp … utime(11) stime cutime cstime
                total += sum(int(f) for f in fields[11:15])
        return total / ticks

    def log_offset(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def restarts_since(self, offset: int) -> int:
        with self.log_path.open("rb") as f:
            f.seek(offset)
            return f.read().count(b"Autorestarting worker")

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after 25 s and for anything left behind."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # started in a new session: the group id is the leader's pid
        if self.proc.poll() is None:
            os.killpg(pgid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):  # gunicorn processes that outlived their parent
            os.killpg(pgid, signal.SIGKILL)
        self.log_file.close()


def login(base: str, username: str) -> str:
    """Log in through the real login form; return the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base + "/accounts/login/", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not token:
        raise SetupError("login page has no CSRF token")
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD}
    ).encode()
    request = urllib.request.Request(base + "/accounts/login/", data=data, headers={"Referer": base + "/"})
    with opener.open(request, timeout=10) as response:
        landed = response.geturl()
    session = next((c.value for c in jar if c.name == "sessionid"), None)
    if not session or "/accounts/login" in landed:
        raise SetupError(f"login as {username} failed")
    return f"sessionid={session}"


def check(base: str, endpoint: Endpoint) -> None:
    request = urllib.request.Request(base + endpoint.path, headers=endpoint.headers)
    try:
        response = urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as exc:
        raise SetupError(f"{endpoint.label}: {endpoint.path} answered {exc.code}") from exc
    with response:
        body = response.read().decode()
        if response.status != 200 or response.geturl() != base + endpoint.path:
            raise SetupError(
                f"{endpoint.label}: expected 200 at {endpoint.path}, got {response.status} "
                f"at {response.geturl()}"
            )
    if endpoint.marker and not re.search(endpoint.marker, body):
        raise SetupError(f"{endpoint.label}: response lacks {endpoint.marker!r}")


# --- load generators -------------------------------------------------------------------------------


def wrk_run(
    wrk: str, script: Path, url: str, endpoint: Endpoint, connections: int, threads: int, seconds: float
) -> Result:
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
    ]
    for name, value in endpoint.headers.items():
        cmd += ["-H", f"{name}: {value}"]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise SetupError(f"wrk failed: {done.stdout}{done.stderr}")
    data = json.loads(line.removeprefix("WRKJSON "))
    socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return Result(
        endpoint,
        data["requests"],
        data["duration_us"] / 1e6,
        data["p50_us"] / 1000,
        data["p95_us"] / 1000,
        data["p99_us"] / 1000,
        data["max_us"] / 1000,
        socket_errors,
        data["bad_status"],
    )


async def _python_load(port: int, endpoint: Endpoint, connections: int, seconds: float) -> Result:
    """Fallback: keep-alive HTTP/1.1 connections from asyncio; slower than wrk, same measurements."""
    head = f"GET {endpoint.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in endpoint.headers.items()) + "\r\n"
    latencies: list[float] = []
    counts = {"socket": 0, "status": 0}
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        reader = writer = None
        while time.perf_counter() < stop_at:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                started = time.perf_counter()
                writer.write(head.encode())
                status_line = await reader.readline()
                status = int(status_line.split()[1])
                length, chunked, close = 0, False, False
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    name, value = name.strip().lower(), value.strip().lower()
                    length = int(value) if name == "content-length" else length
                    chunked = chunked or (name == "transfer-encoding" and "chunked" in value)
                    close = close or (name == "connection" and value == "close")
                if chunked:
                    while (size := int((await reader.readline()).split(b";")[0], 16)) > 0:
                        await reader.readexactly(size + 2)
                    await reader.readline()
                else:
                    await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                counts["status"] += status != 200
                if close:
                    writer.close()
                    writer = None
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                counts["socket"] += 1
                writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    return Result(
        endpoint,
        len(latencies),
        elapsed,
        pct(50),
        pct(95),
        pct(99),
        ordered[-1] * 1000,
        counts["socket"],
        counts["status"],
    )


# --- report ----------------------------------------------------------------------------------------


def report(results: list[Result]) -> bool:
    """Print the table; return whether every request succeeded.

    "CPU ratio" is /ping's server CPU per request over the endpoint's: the throughput ratio the server would
    show with the CPUs to itself, and steadier than req/s when other work shares the machine.
    """
    base = next(r for r in results if r.endpoint.baseline)
    base_cpu = base.cpu_ms_per_request
    log("")
    log(
        f"{'endpoint':<34} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'restarts':>8} {'CPU ms/req':>10}  {'req/s ratio':>11} {'p95 ratio':>9} {'CPU ratio':>9}  target"
    )
    met = True
    for r in results:
        rps_ratio = r.rps / base.rps if base.rps else 0.0
        p95_ratio = r.p95_ms / base.p95_ms if base.p95_ms else 0.0
        cpu = r.cpu_ms_per_request
        cpu_ratio = f"{base_cpu / cpu:9.2f}" if cpu and base_cpu else f"{'n/a':>9}"
        exempt = r.endpoint.baseline or r.endpoint.reference
        verdict = "" if exempt else ("met" if rps_ratio >= TARGET_RATIO else "missed")
        verdict = "(reference)" if r.endpoint.reference else verdict
        met = met and (exempt or rps_ratio >= TARGET_RATIO)
        log(
            f"{r.endpoint.label:<34} {r.rps:>8.1f} {r.p50_ms:>7.1f} {r.p95_ms:>7.1f} {r.p99_ms:>7.1f} "
            f"{r.errors:>6} {r.restarts:>8} {'n/a' if cpu is None else f'{cpu:.2f}':>10}  "
            f"{rps_ratio:>11.2f} {p95_ratio:>8.1f}x {cpu_ratio}  {verdict}"
        )
    log("")
    errors = sum(r.errors for r in results)
    for r in results:
        if r.errors:
            log(
                f"errors on {r.endpoint.label}: {r.socket_errors} socket errors/timeouts, "
                f"{r.bad_status} responses other than 200"
            )
    log(f"errors: {errors}")
    verdict = "MET" if met and not errors else "NOT MET"
    log(f"target (each page ≥ 1/3 of /ping's throughput, no errors): {verdict}")
    return errors == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per endpoint, not measured")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--workers", type=int, help="gunicorn processes (default: chuangwen serve's)")
    parser.add_argument(
        "--threads", type=int, help="threads per gunicorn process (default: chuangwen serve's)"
    )
    parser.add_argument(
        "--python-client", action="store_true", help="use the Python client even if wrk exists"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary data directory and server log"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the per-request query profile")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="measure only endpoints whose label contains TEXT (repeatable; /ping is always run)",
    )
    parser.add_argument("--src", type=Path, help="benchmark another source tree (e.g. a patched copy's src/)")
    args = parser.parse_args()
    if not CHUANGWEN:
        log("cannot find the chuangwen command; run with the project's .venv/bin/python")
        return 2

    wrk = None if args.python_client else ensure_wrk()
    data_dir = Path(tempfile.mkdtemp(prefix="chuangwen-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "S3_BUCKET")}
    env.update(
        {
            "CHUANGWEN_DATA_DIR": str(data_dir),
            "CHUANGWEN_DEMO": "true",
            "DJANGO_SETTINGS_MODULE": "chuangwen.config.settings.local",
            "CHUANGWEN_ACCESS_LOG": str(data_dir / "access.log"),
        }
    )
    if args.src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(args.src.resolve()), env.get("PYTHONPATH")]))
        log(f"source tree {args.src.resolve()}")
    server = Server(env, free_port(), args.workers, args.threads, data_dir / "server.log")

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        log(f"data directory {data_dir}")
        for step in (
            ["manage", "migrate", "--noinput", "-v0"],
            ["manage", "collectstatic", "--noinput", "-v0"],
            ["demo", "-v0"],
        ):
            started = time.perf_counter()
            run([CHUANGWEN, *step], env)
            log(
                f"  chuangwen {' '.join(step[:2] if step[0] == 'manage' else step[:1])}: "
                f"{time.perf_counter() - started:.1f} s"
            )
        tokens = {}
        for username in ("liaison", "office"):
            code = (
                "from chuangwen.accounts.models import User; from chuangwen.accounts.services import "
                f"token_create; print(token_create(user=User.objects.get(username='{username}'), "
                "name='负载测试')[1])"
            )
            out = run([CHUANGWEN, "manage", "shell", "-c", code], env, capture=True)
            tokens[username] = next(w for w in out.split() if w.startswith("cw_"))

        server.start()
        log(f"server {server.base}  ({' '.join(server.cmd[1:])}; {os.cpu_count()} CPUs)")
        load_before = os.getloadavg()[0]
        cookies = {username: login(server.base, username) for username in ("liaison", "office")}
        endpoints = [
            Endpoint("/ping (baseline)", "/ping", marker="pong", baseline=True),
            # The cheapest logged-in request (session + user + roles): the floor under every page.
            Endpoint(
                "/api/me as liaison (session)",
                "/api/me",
                {"Cookie": cookies["liaison"]},
                marker="liaison",
                reference=True,
            ),
            Endpoint("/  as liaison (session)", "/", {"Cookie": cookies["liaison"]}, marker="我的工作台"),
            Endpoint("/  as office (session)", "/", {"Cookie": cookies["office"]}, marker="我的工作台"),
            Endpoint(
                "/api/schools as liaison (token)",
                "/api/schools",
                {"Authorization": f"Bearer {tokens['liaison']}"},
                marker=r'"count":\s*1\b',
            ),
            Endpoint(
                "/api/schools as office (token)",
                "/api/schools",
                {"Authorization": f"Bearer {tokens['office']}"},
                marker=r'"count":\s*200\b',
            ),
            Endpoint(
                "/api/schools as office (session)",
                "/api/schools",
                {"Cookie": cookies["office"]},
                marker=r'"count":\s*200\b',
            ),
        ]
        if args.only:
            endpoints = [e for e in endpoints if e.baseline or any(t in e.label for t in args.only)]
        for endpoint in endpoints:
            check(server.base, endpoint)

        tool = f"wrk ({wrk})" if wrk else "Python asyncio client"
        log(
            f"load: {tool}, {args.connections} connections, {args.warmup:g} s warm-up + {args.duration:g} s "
            "per endpoint"
        )
        results = []
        script = data_dir / "report.lua"
        script.write_text(WRK_LUA)
        for endpoint in endpoints:
            url = server.base + endpoint.path
            for seconds, keep in ((args.warmup, False), (args.duration, True)):
                if seconds <= 0:
                    continue
                offset, cpu_before = server.log_offset(), server.cpu_seconds()
                if wrk:
                    result = wrk_run(wrk, script, url, endpoint, args.connections, args.wrk_threads, seconds)
                else:
                    result = asyncio.run(_python_load(server.port, endpoint, args.connections, seconds))
                if keep:
                    result.restarts = server.restarts_since(offset)
                    cpu_after = server.cpu_seconds()
                    if cpu_before is not None and cpu_after is not None:
                        result.server_cpu_s = cpu_after - cpu_before
                    results.append(result)
                    cpu = result.cpu_ms_per_request
                    log(
                        f"  {endpoint.label:<34} {result.rps:8.1f} req/s  p95 {result.p95_ms:6.1f} ms  "
                        f"errors {result.errors}  worker restarts {result.restarts}  "
                        f"server CPU {'n/a' if cpu is None else f'{cpu:.2f} ms'}/request"
                    )
        ok = report(results)
        log(
            f"machine load average (1 min) before/after the load: {load_before:.1f} / "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; far above the CPU count means other work "
            "shared the CPUs: compare ratios, rerun for absolute figures"
        )
        restarts = sum(r.restarts for r in results)
        if restarts:
            log(
                f"gunicorn recycled {restarts} workers (--max-requests) during the measurements; each "
                "restart re-imports the app and stalls the connections that worker held (see p99)"
            )
        server.stop()
        if not args.no_profile and PROFILE_SCRIPT.exists():
            log("")
            log("per-request profile (in-process, same database):")
            subprocess.run([sys.executable, str(PROFILE_SCRIPT)], env=env, cwd=ROOT, check=False)
        return 0 if ok else 1
    except SetupError as exc:
        log(f"set-up failed: {exc}")
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 2
    finally:
        server.stop()
        if args.keep:
            log(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
