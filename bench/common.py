"""What the benchmarks share: Django set up on a fresh data directory, samples taken in turn, and the
units they are printed in. Imported by the scripts of this folder as `from common import …` (a script's
own folder is first on sys.path).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def setup_django(
    data_dir: Path | None = None,
    *,
    database_url: str | None = None,
    settings: str = "chuangwen.config.settings.local",
    migrate: bool = True,
    collectstatic: bool = False,
) -> dict[str, str]:
    """Set Django up in this process on `data_dir` (SQLite there, the embedded default) or on the EMPTY
    database `database_url`; DATABASE_URL and REDIS_URL from the environment are ignored so a developer's
    database or cache is never filled by accident. Returns the environment for a subprocess (a worker,
    a server) that must see the same set-up."""
    env = {"DJANGO_SETTINGS_MODULE": settings, "PYTHONPATH": str(SRC)}
    if data_dir is not None:
        env["CHUANGWEN_DATA_DIR"] = str(data_dir)
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import django

    django.setup()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", verbosity=0)
    if collectstatic:
        call_command("collectstatic", interactive=False, verbosity=0)
    return {**os.environ, **env}


# --- timing ----------------------------------------------------------------------------------------


def timed(fn, rounds: int, *, before=None, warmup: bool = True) -> list[float]:
    """Samples (seconds) of fn(); `before` runs ahead of each call, outside the timing."""
    if warmup:
        fn()
    samples = []
    for _ in range(rounds):
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def interleaved(cases: dict, rounds: int) -> dict[str, list[float]]:
    """Samples of several callables taken in turn (a, b, c, a, b, c, …) so that the machine's load at any
    moment weighs on each alike and their ratios hold on a busy machine. `cases` maps a name to fn, or
    to (fn, before) where `before` runs ahead of each call outside the timing. One warm-up call each."""
    pairs = {name: case if isinstance(case, tuple) else (case, None) for name, case in cases.items()}
    samples: dict[str, list[float]] = {name: [] for name in pairs}
    for fn, _ in pairs.values():
        fn()
    for _ in range(rounds):
        for name, (fn, before) in pairs.items():
            if before is not None:
                before()
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    return samples


def ms(samples: list[float]) -> float:
    """The median of samples in seconds, in milliseconds."""
    return statistics.median(samples) * 1000


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank p-th percentile (p95 of 100 samples is the 95th smallest)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# --- memory ----------------------------------------------------------------------------------------


def rss() -> int:
    """This process's resident memory in bytes (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssPeak(threading.Thread):
    """Samples the process's resident memory every 20 ms while in use; `.growth` = peak − value at start."""

    def __init__(self):
        super().__init__(daemon=True)
        self.start_rss = rss()
        self.peak = self.start_rss
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(0.02):
            self.peak = max(self.peak, rss())

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.join()
        self.peak = max(self.peak, rss())

    @property
    def growth(self) -> int:
        return self.peak - self.start_rss


def mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"
