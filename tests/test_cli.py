"""The `chuangwen` command as a new user runs it: in a subprocess, on a fresh embedded data directory."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "chuangwen.config.cli"]


def _env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        {"CHUANGWEN_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "chuangwen.config.settings.local"}
    )
    env.update(extra)
    return env


def _run(args, env, check=True):
    result = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=180, check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"chuangwen {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cw-data")
    env = _env(data_dir)
    _run(["manage", "migrate", "--noinput", "-v", "0"], env)
    _run(["manage", "collectstatic", "--noinput", "-v", "0"], env)
    return data_dir, env


def test_help_lists_the_commands():
    result = subprocess.run([*CLI, "--help"], capture_output=True, text=True, check=True)
    for command in ("serve", "demo", "worker", "createadmin", "verify", "backup", "index", "manage"):
        assert command in result.stdout


def test_createadmin_then_verify_then_tamper(migrated):
    data_dir, env = migrated
    _run(
        ["createadmin", "--username", "root1", "--name", "管理员甲"],
        {**env, "CHUANGWEN_ADMIN_PASSWORD": "Adm1n#secure"},
    )
    ok = _run(["verify"], env)
    assert "审计链完整" in ok.stdout
    db = sqlite3.connect(data_dir / "chuangwen.sqlite3")
    first = db.execute("SELECT seq FROM core_auditevent ORDER BY seq LIMIT 1").fetchone()[0]
    db.execute("UPDATE core_auditevent SET actor_username = 'someone-else' WHERE seq = ?", (first,))
    db.commit()
    db.close()
    broken = _run(["verify"], env, check=False)
    assert broken.returncode != 0
    assert f"#{first}" in broken.stderr


def test_createadmin_refuses_a_weak_password(migrated):
    _, env = migrated
    result = _run(
        ["createadmin", "--username", "weak"], {**env, "CHUANGWEN_ADMIN_PASSWORD": "123456"}, check=False
    )
    assert result.returncode != 0
    assert "密码" in result.stderr


def test_backup_sqlite_is_a_complete_copy(migrated, tmp_path):
    _, env = migrated
    target = tmp_path / "copy.sqlite3"
    _run(["backup", "--output", str(target)], env)
    copy = sqlite3.connect(target)
    tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    copy.close()
    assert {"org_unit", "accounts_user", "core_auditevent"} <= tables


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn_and_the_worker(migrated, tmp_path):
    _, env = migrated
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        assert body is not None and '"ok"' in body, "server did not answer /healthz"
        children = subprocess.run(
            ["ps", "-o", "args=", "--ppid", str(proc.pid)], capture_output=True, text=True, check=False
        ).stdout
        assert "gunicorn" in children
        assert "worker" in children
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as response:
            assert "登录" in response.read().decode()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(
                "serve did not stop on SIGTERM:\n" + (tmp_path / "serve.log").read_text()
            ) from None
        log.close()
    assert proc.returncode == 0, (tmp_path / "serve.log").read_text()
