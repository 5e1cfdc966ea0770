"""Login security: lockout by username (django-axes), its audit trail, and the production hasher."""

import datetime as dt

import pytest
import time_machine
from conftest import PASSWORD
from django.conf import settings
from django.contrib.auth import SESSION_KEY

from chuangwen.config.settings import base as base_settings
from chuangwen.core.models import AuditEvent

LOGIN_URL = "/accounts/login/"
LOCKED_TEXT = "已被锁定 30 分钟"
START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def login(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def assert_logged_in(client, response, user):
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == "/"
    assert client.session[SESSION_KEY] == str(user.pk)


def assert_refused(response):
    assert response.status_code == 200
    body = response.content.decode()
    assert "用户名或密码不正确" in body
    assert LOCKED_TEXT not in body


def assert_locked(response):
    assert response.status_code == 403
    body = response.content.decode()
    assert LOCKED_TEXT in body
    assert 'data-testid="lockout"' in body


def fail_times(client, username, n, *, ips=None):
    responses = []
    for i in range(n):
        ip = ips[i % len(ips)] if ips else "10.0.0.1"
        responses.append(login(client, username, "wrong-password-1A!", ip=ip))
    return responses


def events(event_type):
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("seq"))


def test_argon2_is_the_production_hasher():
    assert base_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_lockout_is_by_username_not_ip():
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username"]
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60


def test_good_credentials_log_in(client, city):
    user = city.users["liaison"]
    assert_logged_in(client, login(client, user.username, PASSWORD), user)


def test_wrong_password_is_refused_in_chinese(client, city):
    response = login(client, city.users["liaison"].username, "wrong")
    assert_refused(response)
    assert SESSION_KEY not in client.session


def test_five_failures_from_different_ips_lock_the_username(client, city):
    user = city.users["liaison"]
    ips = [f"10.1.0.{i}" for i in range(1, 6)]
    with time_machine.travel(START, tick=False):
        responses = fail_times(client, user.username, 5, ips=ips)
        for response in responses[:4]:
            assert_refused(response)
        assert_locked(responses[4])
        # The right password from yet another address does not get in while the lock lasts.
        assert_locked(login(client, user.username, PASSWORD, ip="10.9.9.9"))
        assert SESSION_KEY not in client.session


def test_a_locked_username_does_not_lock_others_behind_the_same_ip(client, city):
    victim, colleague = city.users["liaison"], city.users["teacher"]
    with time_machine.travel(START, tick=False):
        fail_times(client, victim.username, 5, ips=["10.2.0.1"])
        assert_locked(login(client, victim.username, PASSWORD, ip="10.2.0.1"))
        assert_logged_in(client, login(client, colleague.username, PASSWORD, ip="10.2.0.1"), colleague)


def test_four_failures_do_not_lock(client, city):
    user = city.users["liaison"]
    fail_times(client, user.username, 4)
    assert_logged_in(client, login(client, user.username, PASSWORD), user)


def test_lock_ends_after_thirty_minutes(client, city):
    user = city.users["liaison"]
    with time_machine.travel(START, tick=False) as traveller:
        fail_times(client, user.username, 5)
        traveller.shift(dt.timedelta(minutes=29))
        assert_locked(login(client, user.username, PASSWORD))
        # The attempt during the lock restarted the cool-off; 30 minutes after it the door opens.
        traveller.shift(dt.timedelta(minutes=30, seconds=1))
        assert_logged_in(client, login(client, user.username, PASSWORD), user)


def test_success_resets_the_failure_counter(client, city):
    user = city.users["liaison"]
    fail_times(client, user.username, 4)
    assert_logged_in(client, login(client, user.username, PASSWORD), user)
    client.post("/accounts/logout/")
    # Had the four earlier failures still counted, the fifth would lock the account.
    responses = fail_times(client, user.username, 4)
    for response in responses:
        assert_refused(response)
    assert_logged_in(client, login(client, user.username, PASSWORD), user)


def test_login_success_is_audited(client, city):
    user = city.users["liaison"]
    with time_machine.travel(START, tick=False):
        login(client, user.username, PASSWORD, ip="10.3.0.7")
    (event,) = events("auth.login")
    assert event.actor_id == user.pk
    assert event.actor_username == user.username
    assert event.actor_role == "创文联络员"
    assert event.ip == "10.3.0.7"
    assert event.result == AuditEvent.Result.SUCCESS
    assert event.created_at == START
    assert event.created_at.utcoffset() == dt.timedelta(0)


def test_login_failure_and_lockout_are_audited(client, city):
    user = city.users["liaison"]
    with time_machine.travel(START, tick=False):
        fail_times(client, user.username, 5, ips=["10.4.0.1", "10.4.0.2"])
    failures = events("auth.login_failed")
    assert len(failures) == 5
    assert {e.ip for e in failures} == {"10.4.0.1", "10.4.0.2"}
    for event in failures:
        assert event.actor_id is None
        assert event.actor_username == user.username
        assert event.result == AuditEvent.Result.FAILURE
        assert event.created_at == START
    (lockout,) = events("auth.lockout")
    assert lockout.actor_username == user.username
    assert lockout.ip == "10.4.0.1"  # the fifth attempt came from the first address again
    assert lockout.result == AuditEvent.Result.DENIED
    assert lockout.created_at == START
    assert not events("auth.login")


def test_unknown_username_failure_is_audited_with_the_typed_name(client, db):
    response = login(client, "nobody", "whatever-1A!", ip="10.5.0.1")
    assert_refused(response)
    (event,) = events("auth.login_failed")
    assert event.actor_username == "nobody"
    assert event.ip == "10.5.0.1"
    assert event.result == AuditEvent.Result.FAILURE


def test_inactive_user_cannot_log_in(client, city):
    user = city.users["liaison"]
    user.is_active = False
    user.save()
    response = login(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/"])
def test_login_does_not_redirect_off_site(client, city, next_url):
    user = city.users["liaison"]
    response = client.post(f"{LOGIN_URL}?next={next_url}", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
