"""The audit chain: links, verification, tamper detection, append-only rows, the key, concurrency."""

import datetime as dt
import decimal
import io
import itertools
import json
import os
import stat
import subprocess
import sys
import threading

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.test import RequestFactory, override_settings

from chuangwen.core import audit
from chuangwen.core.audit import GENESIS, verify_chain
from chuangwen.core.models import AuditEvent, ChainHead

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def append(n: int, **kwargs) -> list[AuditEvent]:
    return [
        audit.record("test.event", object_repr=f"第{i}件", data={"i": i}, **kwargs) for i in range(1, n + 1)
    ]


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def assert_broken_at(seq: int, reason: str) -> None:
    result = verify_chain()
    assert not result.ok
    assert result.broken_seq == seq, result
    assert reason in result.reason
    with pytest.raises(CommandError) as excinfo:
        call_command("verify", stdout=io.StringIO())
    assert excinfo.value.returncode == 3
    assert f"第一个异常事件 #{seq}：" in str(excinfo.value)


def insert_raw(
    *,
    seq: int,
    prev_hash: str,
    hash_: str,
    created_at=START,
    event_type="test.event",
    actor_username="",
    data="{}",
) -> None:
    sql(
        "INSERT INTO core_auditevent (seq, created_at, actor_id, actor_username, actor_role, ip, event_type,"
        " object_type, object_id, object_repr, result, data, prev_hash, hash)"
        " VALUES (%s, %s, NULL, %s, '', NULL, %s, '', '', '', 'success', %s, %s, %s)",
        [
            seq,
            connection.ops.adapt_datetimefield_value(created_at),
            actor_username,
            event_type,
            data,
            prev_hash,
            hash_,
        ],
    )


# --- appending -------------------------------------------------------------------------------------


def test_appends_link_each_event_to_the_one_before():
    events = append(4)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in events}) == 4
    head = ChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (4, events[-1].hash)
    stored = list(AuditEvent.objects.order_by("seq").values_list("seq", "prev_hash", "hash"))
    assert stored == [(e.seq, e.prev_hash, e.hash) for e in events]


def test_an_event_records_who_what_when_where_and_the_result(city):
    user = city.users["office"]
    request = RequestFactory().post("/x", REMOTE_ADDR="10.8.0.3")
    request.user = user
    with time_machine.travel(START, tick=False):
        event = audit.record(
            "unit.update",
            request=request,
            obj=city.school_a,
            data={"changed": ["name"]},
            result=AuditEvent.Result.DENIED,
        )
    event = AuditEvent.objects.get(seq=event.seq)
    assert event.created_at == START
    assert event.created_at.utcoffset() == dt.timedelta(0)
    assert (event.actor_id, event.actor_username, event.actor_role) == (user.pk, "office_user", "创文办")
    assert event.ip == "10.8.0.3"
    assert (event.object_type, event.object_id, event.object_repr) == (
        "org.unit",
        str(city.school_a.pk),
        "东区第一小学",
    )
    assert event.result == "denied"
    assert event.data == {"changed": ["name"]}


def test_verify_passes_on_an_intact_chain():
    append(5)
    assert verify_chain() == audit.VerifyResult(True, 5)
    out = io.StringIO()
    call_command("verify", stdout=out)
    assert "审计链完整：共 5 个事件。" in out.getvalue()


def test_verify_passes_on_an_empty_chain():
    assert verify_chain().ok
    call_command("verify", stdout=io.StringIO())


def test_awkward_values_survive_the_round_trip_through_the_database():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1")
    audit.record(
        "test.values",
        request=request,
        object_repr="很长的名称" * 80,  # truncated to the column size before hashing
        username="名" * 200,
        data={
            "text": '引号"、反斜杠\\、换行\n、emoji 🏫、制表\t',
            "nested": {"z": [1, 2, {"b": None, "a": True}], "a": False},
            "floats": [2.5, 0.1, 0.1 + 0.2, -3.75, 1e-05, 1e-07, 123456.789],
            # jsonb keeps numbers as exact decimals: these come back from PostgreSQL as integers.
            "whole_floats": [2.0, -0.0, 1e16, 1e20, 1.5e300],
            "big": 2**60,
            "decimal": decimal.Decimal("98.50"),
            "when": dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
            "day": dt.date(2026, 3, 2),
        },
    )
    event = AuditEvent.objects.get()
    assert len(event.object_repr) == 255
    assert len(event.actor_username) == 150
    assert event.data["decimal"] == "98.50"
    assert event.data["whole_floats"][:3] == [2, 0, 10**16]
    assert verify_chain().ok, verify_chain().reason


@pytest.mark.parametrize(
    ("remote_addr", "stored"),
    [
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
        ("10.0.0.1", "10.0.0.1"),
    ],
)
def test_ip_addresses_are_stored_and_hashed_in_one_form(remote_addr, stored):
    audit.record("test.ip", request=RequestFactory().get("/", REMOTE_ADDR=remote_addr))
    assert AuditEvent.objects.get().ip == stored
    result = verify_chain()
    assert result.ok, result.reason


@override_settings(AXES_IPWARE_PROXY_COUNT=1)
def test_a_forged_forwarded_address_is_not_stored():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="not-an-ip")
    audit.record("test.ip", request=request)
    assert AuditEvent.objects.get().ip is None
    assert verify_chain().ok


@override_settings(AXES_IPWARE_PROXY_COUNT=1)
def test_the_address_added_by_the_proxy_is_the_one_recorded():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    audit.record("test.ip", request=request)
    assert AuditEvent.objects.get().ip == "203.0.113.7"


def test_an_event_rolled_back_with_its_change_leaves_no_gap():
    append(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("test.rolled_back")
        raise RuntimeError("the change failed")
    assert ChainHead.objects.get(pk=1).last_seq == 2
    event = audit.record("test.after")
    assert event.seq == 3
    assert verify_chain().ok


def test_the_chain_restarts_cleanly_when_the_head_row_is_missing_on_an_empty_table():
    # A test-database flush (transactional tests, live servers) removes the row the migration made.
    sql("DELETE FROM core_chainhead")
    assert verify_chain().ok
    events = append(2)
    assert events[0].prev_hash == GENESIS
    assert verify_chain().ok


# --- tampering -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("object_repr", "另一件事"),
        ("actor_username", "someone_else"),
        ("result", "failure"),
        ("data", '{"i": 99}'),
        ("created_at", "2020-01-01 00:00:00"),
        ("event_type", "test.other"),
    ],
)
def test_a_changed_row_is_named(column, value):
    append(5)
    sql(f"UPDATE core_auditevent SET {column} = %s WHERE seq = 3", [value])
    assert_broken_at(3, "内容被改动")


def test_a_changed_row_with_a_hash_from_another_key_is_named():
    events = append(5)
    forged = AuditEvent.objects.get(seq=3)
    forged.object_repr = "另一件事"
    fake = audit.compute_hash(forged, key=b"guessed-key")
    sql("UPDATE core_auditevent SET object_repr = %s, hash = %s WHERE seq = 3", ["另一件事", fake])
    sql("UPDATE core_auditevent SET prev_hash = %s WHERE seq = 4", [fake])
    assert events[2].hash != fake
    assert_broken_at(3, "内容被改动")


def test_a_deleted_row_in_the_middle_is_named():
    append(5)
    sql("DELETE FROM core_auditevent WHERE seq = 3")
    assert_broken_at(3, "缺失")


def test_a_deleted_row_in_the_middle_with_renumbered_successors_is_named():
    append(5)
    sql("DELETE FROM core_auditevent WHERE seq = 3")
    sql("UPDATE core_auditevent SET seq = seq - 1 WHERE seq > 3")
    assert_broken_at(3, "前一哈希与链不符")


def test_a_deleted_first_row_is_named():
    append(3)
    sql("DELETE FROM core_auditevent WHERE seq = 1")
    assert_broken_at(1, "缺失")


def test_a_deleted_tail_row_is_named():
    append(5)
    sql("DELETE FROM core_auditevent WHERE seq = 5")
    assert_broken_at(5, "链尾被删除")


def test_a_deleted_tail_with_a_rewound_head_is_named():
    events = append(5)
    sql("DELETE FROM core_auditevent WHERE seq >= 4")
    # Without the key the head's MAC cannot be recomputed for the shorter chain.
    sql("UPDATE core_chainhead SET last_seq = 3, last_hash = %s", [events[2].hash])
    assert_broken_at(4, "审计链头被改动")


def test_all_rows_deleted_is_detected():
    append(3)
    sql("DELETE FROM core_auditevent")
    assert_broken_at(1, "链尾被删除")


def test_an_inserted_row_with_a_plausible_hash_is_named():
    events = append(5)
    insert_raw(
        seq=6,
        prev_hash=events[-1].hash,
        hash_="ab" * 32,
        actor_username="admin_user",
        event_type="user.deactivate",
    )
    assert_broken_at(6, "内容被改动或为手工插入")


def test_a_replayed_row_is_named():
    events = append(5)
    original = events[1]
    insert_raw(
        seq=6, prev_hash=events[-1].hash, hash_=original.hash, created_at=original.created_at, data='{"i": 2}'
    )
    assert_broken_at(6, "内容被改动或为手工插入")


def test_an_inserted_row_with_the_right_hash_but_no_head_update_is_named():
    events = append(5)
    forged = AuditEvent(
        seq=6,
        created_at=START,
        actor_id=None,
        actor_username="",
        actor_role="",
        ip=None,
        event_type="test.event",
        object_type="",
        object_id="",
        object_repr="",
        result="success",
        data={},
        prev_hash=events[-1].hash,
    )
    # Even someone holding the key must also forge the head; here they did not.
    insert_raw(seq=6, prev_hash=events[-1].hash, hash_=audit.compute_hash(forged))
    assert_broken_at(6, "链头之后手工插入")


def test_a_tampered_head_is_detected():
    append(3)
    sql("UPDATE core_chainhead SET mac = %s", ["00" * 32])
    result = verify_chain()
    assert not result.ok
    assert "审计链头被改动" in result.reason


def test_a_missing_head_with_events_is_detected():
    append(3)
    sql("DELETE FROM core_chainhead")
    result = verify_chain()
    assert not result.ok
    assert result.reason == "审计链头缺失"
    with pytest.raises(CommandError):
        call_command("verify", stdout=io.StringIO())


# --- append-only through the ORM -------------------------------------------------------------------


def test_orm_update_and_delete_are_refused():
    (event,) = append(1)
    stored = AuditEvent.objects.get(seq=1)
    stored.object_repr = "x"
    attempts = [
        lambda: AuditEvent.objects.update(object_repr="x"),
        lambda: AuditEvent.objects.filter(seq=1).update(object_repr="x"),
        lambda: AuditEvent.objects.filter(seq=1).delete(),
        lambda: AuditEvent.objects.all().delete(),
        lambda: event.delete(),
        lambda: stored.save(),
        lambda: AuditEvent.objects.bulk_update([stored], ["object_repr"]),
        lambda: AuditEvent.objects.update_or_create(seq=1, defaults={"object_repr": "x"}),
    ]
    for attempt in attempts:
        with pytest.raises(TypeError, match="只能追加"), transaction.atomic():
            attempt()
    assert AuditEvent.objects.get(seq=1).object_repr == "第1件"
    assert verify_chain().ok


# --- the key ---------------------------------------------------------------------------------------


def test_verify_with_a_different_key_fails():
    append(3)
    with override_settings(AUDIT_KEY="a-different-key"):
        result = verify_chain()
    assert not result.ok
    assert result.broken_seq == 1
    assert verify_chain().ok


def test_the_key_is_never_stored_in_the_database(settings):
    settings.AUDIT_KEY = "a-very-recognisable-audit-key-7f3a"
    append(3)
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert "a-very-recognisable-audit-key-7f3a" not in dump.getvalue()
    assert verify_chain().ok


def test_without_a_configured_key_a_private_key_file_is_made_and_used(settings, tmp_path):
    settings.AUDIT_KEY = ""
    settings.AUDIT_KEY_FILE = tmp_path / "keys" / "audit.key"
    append(3)
    key = settings.AUDIT_KEY_FILE.read_text().strip()
    assert len(key) == 64
    assert stat.S_IMODE(settings.AUDIT_KEY_FILE.stat().st_mode) == 0o600
    assert audit.audit_key() == key.encode()
    assert verify_chain().ok
    settings.AUDIT_KEY_FILE = tmp_path / "other.key"
    assert verify_chain().broken_seq == 1


# --- concurrency -----------------------------------------------------------------------------------


THREADS, PER_THREAD = 6, 15

# Run in a separate process against a file database: the in-memory SQLite test database is shared between
# threads through shared cache, whose table locks do not wait on the busy timeout as a real file does.
SQLITE_SCRIPT = """
import json, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connections
call_command("migrate", verbosity=0)
from chuangwen.core import audit
from chuangwen.core.models import AuditEvent, ChainHead
threads, per_thread = {threads}, {per_thread}
barrier = threading.Barrier(threads)
errors = []
def work(n):
    try:
        barrier.wait(timeout=30)
        for i in range(per_thread):
            audit.record("test.concurrent", data={{"thread": n, "i": i}})
    except BaseException as exc:
        errors.append(repr(exc))
    finally:
        connections.close_all()
workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
[w.start() for w in workers]
[w.join(timeout=120) for w in workers]
result = audit.verify_chain()
print(json.dumps({{
    "errors": errors,
    "seqs": list(AuditEvent.objects.values_list("seq", flat=True)),
    "distinct_prev": AuditEvent.objects.values("prev_hash").distinct().count(),
    "head": ChainHead.objects.get(pk=1).last_seq,
    "ok": result.ok, "checked": result.checked, "reason": result.reason,
}}))
"""


def _append_concurrently() -> None:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(PER_THREAD):
                audit.record("test.concurrent", data={"thread": n, "i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite: see the test on a SQLite file below")
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_make_one_unforked_chain():
    _append_concurrently()
    total = THREADS * PER_THREAD
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, total + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == total
    assert ChainHead.objects.get(pk=1).last_seq == total
    assert verify_chain() == audit.VerifyResult(True, total)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite build only")
def test_concurrent_appends_on_a_sqlite_file_make_one_unforked_chain(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chain.sqlite3'}",
        "CHUANGWEN_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "chuangwen.config.settings.test",
    }
    script = SQLITE_SCRIPT.format(threads=THREADS, per_thread=PER_THREAD)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    total = THREADS * PER_THREAD
    assert outcome["errors"] == []
    assert outcome["seqs"] == list(range(1, total + 1))
    assert outcome["distinct_prev"] == total
    assert outcome["head"] == total
    assert (outcome["ok"], outcome["checked"]) == (True, total), outcome["reason"]
