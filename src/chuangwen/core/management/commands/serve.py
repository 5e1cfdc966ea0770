"""`chuangwen serve`: gunicorn (never runserver) and, when embedded, the task worker beside it."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


def default_workers() -> int:
    return int(os.environ.get("WEB_CONCURRENCY", 0)) or max(2, (os.cpu_count() or 1) * 2)


class Command(BaseCommand):
    help = "启动生产级 Web 服务（gunicorn）；嵌入模式（SQLite）下同时启动后台任务进程。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("CHUANGWEN_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--workers", type=int, default=default_workers(), help="Web 进程数")
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", 4)))
        worker = parser.add_mutually_exclusive_group()
        worker.add_argument(
            "--with-worker",
            dest="with_worker",
            action="store_true",
            default=None,
            help="同时启动后台任务进程（SQLite 嵌入模式下默认）",
        )
        worker.add_argument(
            "--no-worker",
            dest="with_worker",
            action="store_false",
            help="不启动后台任务进程（生产环境另行运行 chuangwen worker）",
        )

    def handle(self, *args, host, port, workers, threads, with_worker, **options):
        embedded = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        if with_worker is None:
            with_worker = embedded
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
        # Recycle workers now and then (leaks), not every few seconds: 5000 meant a restart every ~2 s at
        # 2,500 req/s, each one re-importing the app while the connections that worker held waited.
        max_requests = int(os.environ.get("WEB_MAX_REQUESTS", 50000))
        web_cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "chuangwen.config.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            # Import the app once in the master, so a recycled worker is a cheap fork.
            "--preload",
            "--max-requests",
            str(max_requests),
            "--max-requests-jitter",
            str(max_requests // 10),
            "--graceful-timeout",
            "20",
            "--timeout",
            "120",
            "--access-logfile",
            os.environ.get("CHUANGWEN_ACCESS_LOG", "-"),
        ]
        children: list[subprocess.Popen] = [subprocess.Popen(web_cmd, env=env)]  # noqa: S603
        if with_worker:
            worker_cmd = [sys.executable, "-m", "chuangwen.config.cli", "worker", "--no-startup-delay"]
            children.append(subprocess.Popen(worker_cmd, env=env))  # noqa: S603
        worker_state = "已启动" if with_worker else "未启动"
        self.stdout.write(f"创文平台已启动：http://{host}:{port}/  （后台任务进程：{worker_state}）")

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        exit_code = 0
        while True:
            for child in children:
                code = child.poll()
                if code is not None:
                    if not stopping:
                        self.stderr.write(f"子进程 {child.args[2:4]} 退出（{code}），正在停止全部进程")
                        exit_code = code or 1
                    stop(None, None)
                    for other in children:
                        try:
                            other.wait(timeout=25)
                        except subprocess.TimeoutExpired:
                            other.kill()
                    sys.exit(exit_code)
            time.sleep(0.5)
