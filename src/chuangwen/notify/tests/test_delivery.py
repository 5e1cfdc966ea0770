"""Delivery against a real HTTP server on loopback: every channel, retries, timeouts, races."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import urllib.parse

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from chuangwen.notify import delivery
from chuangwen.notify.models import ChannelConfig, DeliveryAttempt, Notification, Outbox
from chuangwen.notify.services import notify

from .conftest import Reply

pytestmark = pytest.mark.django_db


def _send(city, *, kind="problem", channels="default", dedupe_key="", recipients=None, capture):
    with capture(execute=True):
        return notify(
            recipients=recipients if recipients is not None else [city.users["liaison"].pk],
            unit_id=city.school_a.pk,
            kind=kind,
            title="发现问题：校门口卫生",
            body="请于今日 18:00 前整改",
            link="/ledger/problems/1/",
            channels=channels,
            dedupe_key=dedupe_key,
        )


def _config(city, kind, url, secret="", **settings):
    return ChannelConfig.objects.create(
        unit=city.school_a, kind=kind, settings={"url": url, **settings}, secret=secret
    )


def _later(seconds):
    return time_machine.travel(timezone.now() + dt.timedelta(seconds=seconds), tick=True)


def test_wecom_success_is_sent_once_on_commit(city, http_server, django_capture_on_commit_callbacks):
    _config(city, "wecom", f"{http_server.url}/cgi-bin/webhook/send?key=k1")
    [message] = _send(city, capture=django_capture_on_commit_callbacks)

    [received] = http_server.requests
    assert received.path == "/cgi-bin/webhook/send?key=k1"
    payload = json.loads(received.body)
    assert payload["msgtype"] == "markdown"
    assert "发现问题：校门口卫生" in payload["markdown"]["content"]
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT and message.sent_at and message.attempts == 1
    [attempt] = message.delivery_attempts.all()
    assert attempt.success and attempt.status_code == 200 and attempt.error == ""
    assert Notification.objects.filter(recipient=city.users["liaison"], read_at=None).count() == 1


def test_wecom_errcode_is_a_failure(city, http_server, django_capture_on_commit_callbacks):
    http_server.default = Reply(200, b'{"errcode":93000,"errmsg":"invalid webhook url"}')
    _config(city, "wecom", f"{http_server.url}/send?key=k1")
    [message] = _send(city, capture=django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Outbox.Status.FAILED
    assert "93000" in message.last_error


def test_500_then_success_on_retry_after_backoff(city, http_server, django_capture_on_commit_callbacks):
    http_server.replies = [Reply(500, b"oops")]
    _config(city, "wecom", f"{http_server.url}/send?key=k1")
    [message] = _send(city, capture=django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Outbox.Status.FAILED and message.attempts == 1
    assert message.last_error == "HTTP 500"
    assert 29 <= (message.next_attempt_at - timezone.now()).total_seconds() <= 31

    assert delivery.sweep() == 0  # not due yet: nothing sent
    assert len(http_server.requests) == 1
    with _later(31):
        assert delivery.sweep() == 1
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT and message.attempts == 2
    attempts = list(message.delivery_attempts.values_list("success", "status_code", "error"))
    assert attempts == [(False, 500, "HTTP 500"), (True, 200, "")]


def test_timeout_is_a_failed_attempt_and_retried(city, http_server, django_capture_on_commit_callbacks):
    http_server.replies = [Reply(delay=1.0)]  # longer than the 0.3 s timeout
    _config(city, "wecom", f"{http_server.url}/send?key=k1")
    [message] = _send(city, capture=django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Outbox.Status.FAILED
    [attempt] = message.delivery_attempts.all()
    assert not attempt.success and "超时" in attempt.error and attempt.status_code is None
    with _later(31):
        delivery.sweep()
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT
    assert message.delivery_attempts.count() == 2


def test_backoff_grows_and_ends_dead(city, http_server, django_capture_on_commit_callbacks):
    http_server.default = Reply(503, b"down")
    _config(city, "wecom", f"{http_server.url}/send?key=k1")
    [message] = _send(city, capture=django_capture_on_commit_callbacks)
    delays = []
    for _ in range(3):
        message.refresh_from_db()
        delays.append(round((message.next_attempt_at - message.updated_at).total_seconds()))
        with time_machine.travel(message.next_attempt_at + dt.timedelta(seconds=1), tick=True):
            delivery.sweep()
    message.refresh_from_db()
    assert delays == [30, 120, 600]
    assert message.status == Outbox.Status.DEAD and message.attempts == 4
    assert message.delivery_attempts.count() == 4 == len(http_server.requests)
    with time_machine.travel(message.updated_at + dt.timedelta(days=1), tick=True):
        assert delivery.sweep() == 0
    assert len(http_server.requests) == 4


def _dingtalk_check(secret):
    def check(received):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(received.path).query)
        timestamp, sign = query["timestamp"][0], query["sign"][0]
        digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        if sign != base64.b64encode(digest).decode():  # parse_qs has already url-decoded it
            return Reply(200, b'{"errcode":310000,"errmsg":"sign not match"}')
        if abs(int(timestamp) - timezone.now().timestamp() * 1000) > 3600_000:
            return Reply(200, b'{"errcode":310000,"errmsg":"timestamp expired"}')
        return None

    return check


def test_dingtalk_signature_verified_by_server(city, http_server, django_capture_on_commit_callbacks):
    http_server.check = _dingtalk_check("SEC-right+/=")
    _config(city, "dingtalk", f"{http_server.url}/robot/send?access_token=t1", secret="SEC-right+/=")
    [message] = _send(city, capture=django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT, message.last_error
    [received] = http_server.requests
    assert received.path.startswith("/robot/send?access_token=t1&timestamp=")
    body = json.loads(received.body)
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == "发现问题：校门口卫生"


def test_dingtalk_wrong_secret_is_refused_and_recorded(city, http_server, django_capture_on_commit_callbacks):
    http_server.check = _dingtalk_check("SEC-right")
    _config(city, "dingtalk", f"{http_server.url}/robot/send?access_token=t1", secret="SEC-wrong")
    [message] = _send(city, capture=django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Outbox.Status.FAILED
    assert "310000" in message.last_error and "SEC" not in message.last_error


def test_generic_webhook_hmac_verified(city, http_server, django_capture_on_commit_callbacks):
    secret = "whsec-123"

    def check(received):
        expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(received.headers.get("X-Chuangwen-Signature", ""), expected):
            return Reply(401, b"bad signature")
        return None

    http_server.check = check
    http_server.default = Reply(204, b"")
    _config(city, "webhook", f"{http_server.url}/hook", secret=secret)
    [message] = _send(city, capture=django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT, message.last_error
    [received] = http_server.requests
    assert received.headers["X-Chuangwen-Timestamp"].isdigit()
    assert received.headers["X-Chuangwen-Delivery"] == message.dedupe_key
    body = json.loads(received.body)
    assert body["id"] == message.pk and body["title"] == "发现问题：校门口卫生"
    assert body["unit_id"] == city.school_a.pk and body["link"] == "/ledger/problems/1/"

    # The same server refuses a body signed with another secret.
    ChannelConfig.objects.filter(pk=message.config_id).update(secret="other")
    [again] = _send(city, capture=django_capture_on_commit_callbacks)
    again.refresh_from_db()
    assert again.status == Outbox.Status.FAILED and again.last_error == "HTTP 401"


def test_sms_gateway_get_params_one_message_per_phone(city, http_server, django_capture_on_commit_callbacks):
    liaison = city.users["liaison"]
    liaison.phone = "13800001111"
    liaison.save(update_fields=["phone"])
    _config(
        city,
        "sms",
        f"{http_server.url}/sms/send",
        secret="apikey-1",
        method="GET",
        params={"mobile": "{phone}", "content": "【创文】{title}", "key": "{secret}", "x": "{unknown}"},
        phones=["13900002222"],
        success_contains='"errcode":0',
    )
    messages = _send(city, capture=django_capture_on_commit_callbacks)
    assert sorted(m.target for m in messages) == ["13800001111", "13900002222"]
    assert all(m.status == Outbox.Status.SENT for m in Outbox.objects.all())
    queries = sorted(
        (urllib.parse.parse_qs(urllib.parse.urlsplit(r.path).query) for r in http_server.requests),
        key=lambda q: q["mobile"],
    )
    assert [q["mobile"] for q in queries] == [["13800001111"], ["13900002222"]]
    assert queries[0]["content"] == ["【创文】发现问题：校门口卫生"]
    assert queries[0]["key"] == ["apikey-1"] and queries[0]["x"] == ["{unknown}"]
    assert all(r.method == "GET" for r in http_server.requests)


def test_sms_gateway_post_form_and_unconfirmed_reply(city, http_server, django_capture_on_commit_callbacks):
    http_server.default = Reply(200, b"FAIL quota")
    _config(
        city,
        "sms",
        f"{http_server.url}/sms",
        params={"to": "{phone}", "msg": "{text}"},
        phones=["13900002222"],
        to_recipients=False,
        success_contains="OK",
    )
    [message] = _send(city, capture=django_capture_on_commit_callbacks)
    [received] = http_server.requests
    assert received.method == "POST"
    form = urllib.parse.parse_qs(received.body.decode())
    assert form["to"] == ["13900002222"] and "请于今日" in form["msg"][0]
    message.refresh_from_db()
    assert message.status == Outbox.Status.FAILED and message.last_error == "网关未确认发送"


def test_email_via_locmem(city, django_capture_on_commit_callbacks):
    liaison = city.users["liaison"]
    liaison.email = "liaison@school-a.cn"
    liaison.save(update_fields=["email"])
    ChannelConfig.objects.create(unit=city.school_a, kind="email", settings={"to": ["office@edu.cn"]})
    [message] = _send(city, capture=django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT
    [email] = mail.outbox
    assert email.subject == "发现问题：校门口卫生"
    assert email.to == ["office@edu.cn", "liaison@school-a.cn"]


def test_rolled_back_transaction_sends_nothing(city, http_server, django_capture_on_commit_callbacks):
    _config(city, "wecom", f"{http_server.url}/send?key=k1")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(recipients=[city.users["liaison"].pk], unit_id=city.school_a.pk, kind="x", title="回滚")
        raise RuntimeError("the move failed")
    assert callbacks == []
    assert Outbox.objects.count() == 0 and Notification.objects.count() == 0
    assert delivery.sweep() == 0
    assert http_server.requests == []


def test_nothing_is_sent_before_commit(city, http_server, django_capture_on_commit_callbacks):
    _config(city, "wecom", f"{http_server.url}/send?key=k1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipients=[], unit_id=city.school_a.pk, kind="x", title="未提交")
    assert http_server.requests == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(http_server.requests) == 1


def test_channel_selection_disabled_and_dedupe(city, http_server, django_capture_on_commit_callbacks):
    wecom = _config(city, "wecom", f"{http_server.url}/wecom?key=k1")
    _config(city, "webhook", f"{http_server.url}/hook")
    ChannelConfig.objects.create(unit=city.school_b, kind="webhook", settings={"url": f"{http_server.url}/b"})
    assert {
        m.channel for m in _send(city, channels=["webhook"], capture=django_capture_on_commit_callbacks)
    } == {"webhook"}
    assert [m.channel for m in _send(city, channels="wecom", capture=django_capture_on_commit_callbacks)] == [
        "wecom"
    ]
    assert _send(city, channels=(), capture=django_capture_on_commit_callbacks) == []
    wecom.enabled = False
    wecom.save()
    first = _send(city, dedupe_key="problem:1:overdue", capture=django_capture_on_commit_callbacks)
    assert [m.channel for m in first] == ["webhook"]
    assert _send(city, dedupe_key="problem:1:overdue", capture=django_capture_on_commit_callbacks) == []
    assert sorted(r.path for r in http_server.requests) == ["/hook", "/hook", "/wecom?key=k1"]


def test_error_messages_never_carry_the_url_key(city, django_capture_on_commit_callbacks):
    _config(city, "wecom", "http://127.0.0.1:9/send?key=TOPSECRETKEY")  # nothing listens on port 9
    [message] = _send(city, capture=django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Outbox.Status.FAILED
    assert "连接失败" in message.last_error and "TOPSECRETKEY" not in message.last_error


def test_stale_claim_returns_to_the_queue(city, http_server):
    config = _config(city, "wecom", f"{http_server.url}/send?key=k1")
    message = Outbox.objects.create(
        channel="wecom",
        config=config,
        unit=city.school_a,
        payload={"title": "t"},
        dedupe_key="stale",
        status=Outbox.Status.SENDING,
        claimed_by="dead-worker",
        claimed_at=timezone.now(),
        attempts=1,
    )
    assert delivery.sweep() == 0  # a fresh claim is left alone
    with _later(601):
        assert delivery.sweep() == 1
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT and message.attempts == 2


def test_a_claimed_row_cannot_be_claimed_again(city):
    config = ChannelConfig.objects.create(unit=city.school_a, kind="webhook", settings={"url": "http://x"})
    message = Outbox.objects.create(channel="webhook", config=config, payload={}, dedupe_key="c1")
    assert delivery.claim(message.pk, "w1") is True
    assert delivery.claim(message.pk, "w2") is False
    message.refresh_from_db()
    assert message.claimed_by == "w1" and message.status == Outbox.Status.SENDING


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_each_message_once(city, http_server):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # Shared-cache in-memory SQLite answers concurrent writers with "table is locked" at once instead
        # of waiting; production SQLite (a WAL file with a busy timeout) and PostgreSQL queue them. CI
        # runs this test on PostgreSQL.
        pytest.skip("needs PostgreSQL or a SQLite file database")
    http_server.default = Reply(200, b'{"errcode":0}', delay=0.01)
    config = _config(city, "wecom", f"{http_server.url}/send?key=k1")
    rows = [
        Outbox(
            channel="wecom", config=config, unit=city.school_a, payload={"title": f"m{i}"}, dedupe_key=f"r{i}"
        )
        for i in range(30)
    ]
    Outbox.objects.bulk_create(rows)
    ids = list(Outbox.objects.values_list("pk", flat=True))
    barrier = threading.Barrier(2)
    errors = []

    def work(name, order):
        try:
            barrier.wait()
            delivery.deliver(order, worker=name)
            delivery.sweep(worker=name)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=("w1", ids)),
        threading.Thread(target=work, args=("w2", list(reversed(ids)))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    titles = sorted(json.loads(r.body)["markdown"]["content"] for r in http_server.requests)
    assert len(titles) == 30 == len(set(titles))
    assert Outbox.objects.filter(status=Outbox.Status.SENT).count() == 30
    assert DeliveryAttempt.objects.count() == 30
    assert set(Outbox.objects.values_list("claimed_by", flat=True)) <= {"w1", "w2"}


def test_many_email_addresses_are_split_across_messages(city, django_capture_on_commit_callbacks):
    addresses = [f"teacher{i:03d}@school-a.edu.cn" for i in range(40)]
    ChannelConfig.objects.create(unit=city.school_a, kind="email", settings={"to": addresses})
    messages = _send(city, recipients=[], capture=django_capture_on_commit_callbacks)
    assert len(messages) == 3 and all(len(m.target) <= 500 for m in messages)
    assert sorted(a for e in mail.outbox for a in e.to) == addresses
