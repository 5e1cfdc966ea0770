"""Two workers racing on a SQLite *file* (the embedded mode), in a subprocess with its own database.

The in-process test database is shared-cache in-memory SQLite, which refuses concurrent writers at once
instead of waiting on the busy timeout; the race itself is tested in-process on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

SCRIPT = r"""
import json, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import django
django.setup()
from django.core.management import call_command
from django.db import connections
call_command("migrate", verbosity=0)
from chuangwen.notify import delivery
from chuangwen.notify.models import ChannelConfig, DeliveryAttempt, Outbox
from chuangwen.org.models import Unit

received, lock = [], threading.Lock()
class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with lock:
            received.append(json.loads(body)["markdown"]["content"])
        self.send_response(200); self.end_headers(); self.wfile.write(b'{"errcode":0}')
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = "http://127.0.0.1:%d/send?key=k" % server.server_address[1]
unit = Unit.objects.create(name="竞争测试局", kind="bureau", code="RACE")
config = ChannelConfig.objects.create(unit=unit, kind="wecom", settings={"url": url})
Outbox.objects.bulk_create(
    Outbox(channel="wecom", config=config, payload={"title": "m%d" % i}, dedupe_key="r%d" % i)
    for i in range(COUNT)
)
ids = list(Outbox.objects.values_list("pk", flat=True))
barrier, errors = threading.Barrier(2), []
def work(name, order):
    try:
        barrier.wait(timeout=30)
        delivery.deliver(order, worker=name)
        delivery.sweep(worker=name)
    except BaseException as exc:
        errors.append(repr(exc))
    finally:
        connections.close_all()
threads = [
    threading.Thread(target=work, args=("w1", ids)),
    threading.Thread(target=work, args=("w2", ids[::-1])),
]
[t.start() for t in threads]
[t.join(timeout=120) for t in threads]
server.shutdown()
print(json.dumps({
    "errors": errors,
    "received": received,
    "sent": Outbox.objects.filter(status="sent").count(),
    "attempts": DeliveryAttempt.objects.count(),
    "workers": sorted(set(Outbox.objects.values_list("claimed_by", flat=True))),
}))
"""


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite build only")
def test_two_workers_racing_on_a_sqlite_file_send_each_message_once(tmp_path):
    count = 30
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "CHUANGWEN_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "chuangwen.config.settings.test",
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("COUNT", str(count))],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == []
    assert len(outcome["received"]) == count == len(set(outcome["received"]))
    assert outcome["sent"] == count == outcome["attempts"]
    assert set(outcome["workers"]) <= {"w1", "w2"}
