"""In-app notifications and the channel settings pages, through the test client."""

from __future__ import annotations

import json
import time

import pytest

from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.notify import delivery, selectors
from chuangwen.notify.models import ChannelConfig, Notification, Outbox
from chuangwen.notify.services import notify

pytestmark = pytest.mark.django_db


def _notify(user, n=1, **kwargs):
    for i in range(n):
        notify(recipients=[user.pk], kind="problem", title=f"通知{i}", link=kwargs.get("link", "/"))


def test_unread_count_in_the_navbar_and_mark_read(client, city):
    liaison = city.users[Role.LIAISON]
    _notify(liaison, 3)
    _notify(city.users[Role.TEACHER], 2)  # someone else's
    client.force_login(liaison)
    html = client.get("/").content.decode()
    assert 'data-testid="notify-unread">3<' in html

    first = Notification.objects.filter(recipient=liaison).order_by("pk").first()
    assert client.post(f"/notify/{first.pk}/read/").status_code == 302
    first.refresh_from_db()
    assert first.read_at is not None
    assert selectors.unread_count(liaison) == 2

    page = client.get("/notify/").content.decode()
    # Unread first: the read one comes last.
    assert page.index("通知1") < page.index("通知0") and page.index("通知2") < page.index("通知0")
    assert client.post("/notify/read-all/").status_code == 302
    assert selectors.unread_count(liaison) == 0
    assert selectors.unread_count(city.users[Role.TEACHER]) == 2
    assert 'data-testid="notify-unread"' not in client.get("/").content.decode()


def test_open_marks_read_and_follows_only_local_links(client, city):
    liaison = city.users[Role.LIAISON]
    local = Notification.objects.create(recipient=liaison, title="本站", link="/org/units/")
    evil = Notification.objects.create(recipient=liaison, title="外链", link="https://evil.example/x")
    client.force_login(liaison)
    assert client.get(f"/notify/{local.pk}/")["Location"] == "/org/units/"
    assert client.get(f"/notify/{evil.pk}/")["Location"] == "/notify/"
    assert selectors.unread_count(liaison) == 0


def test_someone_elses_notification_is_404(client, city):
    other = Notification.objects.create(recipient=city.users[Role.TEACHER], title="别人的")
    client.force_login(city.users[Role.LIAISON])
    assert client.get(f"/notify/{other.pk}/").status_code == 404
    assert client.post(f"/notify/{other.pk}/read/").status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_list_query_count_does_not_grow(client, city, django_assert_max_num_queries):
    liaison = city.users[Role.LIAISON]
    client.force_login(liaison)
    _notify(liaison, 3)
    client.get("/notify/")  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get("/notify/")
    _notify(liaison, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/notify/").status_code == 200


def test_school_head_sets_a_channel_for_own_school_only(client, city):
    head = city.users[Role.SCHOOL_HEAD]
    client.force_login(head)
    page = client.get("/notify/channels/").content.decode()
    assert city.school_a.name in page and city.school_c.name not in page
    data = {
        "kind": "dingtalk",
        "name": "校群",
        "enabled": "on",
        "settings_json": json.dumps({"url": "https://oapi.dingtalk.com/robot/send?access_token=abc"}),
        "new_secret": "SECdingtalk",
    }
    response = client.post(f"/notify/channels/unit/{city.school_a.pk}/", data)
    assert response.status_code == 302
    config = ChannelConfig.objects.get(unit=city.school_a)
    assert config.secret == "SECdingtalk" and config.kind == "dingtalk"
    event = AuditEvent.objects.get(event_type="notify.channel_created")
    assert "SECdingtalk" not in json.dumps(event.data) and "abc" not in json.dumps(event.data)
    # The secret is never shown back; an empty secret field keeps it.
    edit = client.get(f"/notify/channels/{config.pk}/edit/").content.decode()
    assert "SECdingtalk" not in edit
    data["new_secret"] = ""
    data["name"] = "校群（改）"
    assert client.post(f"/notify/channels/{config.pk}/edit/", data).status_code == 302
    config.refresh_from_db()
    assert config.secret == "SECdingtalk" and config.name == "校群（改）"
    # Another school's channels are out of reach.
    assert client.get(f"/notify/channels/unit/{city.school_c.pk}/").status_code == 404
    other = ChannelConfig.objects.create(unit=city.school_c, kind="webhook", settings={"url": "http://x"})
    assert client.get(f"/notify/channels/{other.pk}/edit/").status_code == 404
    assert client.post(f"/notify/channels/{other.pk}/test/").status_code == 404


def test_bad_settings_are_refused_with_a_message(client, city):
    client.force_login(city.users[Role.OFFICE])
    url = f"/notify/channels/unit/{city.school_a.pk}/"
    response = client.post(url, {"kind": "wecom", "settings_json": "{not json"})
    assert response.status_code == 200 and "不是有效的 JSON" in response.content.decode()
    response = client.post(url, {"kind": "webhook", "settings_json": '{"url": "file:///etc/passwd"}'})
    assert "http://" in response.content.decode()
    assert not ChannelConfig.objects.exists()


def test_send_test_message_button(client, city, http_server, django_capture_on_commit_callbacks):
    office = city.users[Role.OFFICE]
    config = ChannelConfig.objects.create(
        unit=city.school_a, kind="wecom", settings={"url": f"{http_server.url}/send?key=k"}
    )
    client.force_login(office)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/notify/channels/{config.pk}/test/")
    assert response.status_code == 302
    [received] = http_server.requests
    assert "测试" in json.loads(received.body)["markdown"]["content"]
    assert Outbox.objects.get().status == Outbox.Status.SENT
    page = client.get(f"/notify/channels/unit/{city.school_a.pk}/").content.decode()
    assert "已发送" in page
    assert AuditEvent.objects.filter(event_type="notify.channel_tested").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_sweep_thread_delivers_due_messages(city, http_server):
    from chuangwen.core.management.commands import worker

    assert delivery.SweepThread in worker._loops
    config = ChannelConfig.objects.create(
        unit=city.school_a, kind="wecom", settings={"url": f"{http_server.url}/send?key=k"}
    )
    Outbox.objects.create(channel="wecom", config=config, payload={"title": "扫到了"}, dedupe_key="sweep-1")
    thread = delivery.SweepThread(interval=0.05)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not http_server.requests and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        thread.stop()
        thread.join(5)
    assert len(http_server.requests) == 1
    assert Outbox.objects.get().status == Outbox.Status.SENT


def test_dedupe_key_also_covers_in_app_only_notifications(city):
    liaison = city.users[Role.LIAISON]
    for _ in range(2):
        notify(recipients=[liaison.pk], kind="remind", title="提醒", dedupe_key="problem:1:2026-11-27")
    notify(recipients=[liaison.pk], kind="remind", title="提醒", dedupe_key="problem:1:2026-11-28")
    assert Notification.objects.filter(recipient=liaison).count() == 2


def test_admin_shows_the_outbox_but_never_a_secret(client, city):
    config = ChannelConfig.objects.create(
        unit=city.school_a, kind="dingtalk", settings={"url": "http://x"}, secret="SECadmin"
    )
    message = Outbox.objects.create(
        channel="dingtalk", config=config, payload={"title": "t"}, dedupe_key="a1"
    )
    client.force_login(city.users[Role.ADMIN])
    for url in (
        "/admin/notify/outbox/",
        f"/admin/notify/outbox/{message.pk}/change/",
        "/admin/notify/channelconfig/",
        f"/admin/notify/channelconfig/{config.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "SECadmin" not in response.content.decode()
