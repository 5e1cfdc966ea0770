"""Sessions: idle and absolute time-outs, logout, and ending every session of a deactivated user."""

import datetime as dt

import pytest
import time_machine
from conftest import PASSWORD
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client

from chuangwen.accounts import services
from chuangwen.accounts.models import ApiToken, UserSession
from chuangwen.core.models import AuditEvent

START = dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC)
TIMEOUT_TEXT = "登录已超时，请重新登录"


def login(client, user, password=PASSWORD):
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302, response.content.decode()[:300]
    return response


def sessions_of(user) -> list[str]:
    """Server sessions (in the session table itself) that authenticate this user."""
    return [s.session_key for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk)]


def assert_sent_to_login(response, next_url="/"):
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={next_url}"


def test_active_session_survives_requests_within_the_idle_limit(client, city):
    user = city.users["liaison"]
    with time_machine.travel(START, tick=False) as traveller:
        login(client, user)
        for _ in range(4):
            traveller.shift(dt.timedelta(minutes=29))
            assert client.get("/").status_code == 200


def test_idle_session_is_logged_out_with_a_message(client, city):
    user = city.users["liaison"]
    with time_machine.travel(START, tick=False) as traveller:
        login(client, user)
        assert client.get("/").status_code == 200
        traveller.shift(dt.timedelta(minutes=30, seconds=1))
        response = client.get("/org/units/")
        assert_sent_to_login(response, "/org/units/")
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert TIMEOUT_TEXT in page.content.decode()
        assert SESSION_KEY not in client.session
        # Not just this request: the session stays ended.
        assert_sent_to_login(client.get("/"))
    expired = AuditEvent.objects.get(event_type="auth.session_expired")
    assert expired.actor_id == user.pk
    assert expired.data == {"reason": "idle"}


def test_session_ends_after_twelve_hours_even_when_active(client, city):
    user = city.users["liaison"]
    limit = settings.SESSION_ABSOLUTE_TIMEOUT
    assert limit == dt.timedelta(hours=12)
    with time_machine.travel(START, tick=False) as traveller:
        login(client, user)
        elapsed = dt.timedelta(0)
        step = dt.timedelta(minutes=20)
        while elapsed + step <= limit:
            traveller.shift(step)
            elapsed += step
            assert client.get("/").status_code == 200, f"logged out early, after {elapsed}"
        assert elapsed == limit  # still in at exactly 12 hours
        traveller.shift(dt.timedelta(seconds=1))
        response = client.get("/")
        assert_sent_to_login(response)
        assert TIMEOUT_TEXT in client.get(response["Location"]).content.decode()
    expired = AuditEvent.objects.get(event_type="auth.session_expired")
    assert expired.data == {"reason": "absolute"}


def test_expired_session_on_the_api_answers_401_json(client, city):
    user = city.users["liaison"]
    with time_machine.travel(START, tick=False) as traveller:
        login(client, user)
        assert client.get("/api/me").status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get("/api/me")
        assert response.status_code == 401
        assert response.json() == {"detail": TIMEOUT_TEXT}


def test_logout_ends_the_server_session(client, city):
    user = city.users["liaison"]
    login(client, user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert sessions_of(user) == [cookie]
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert sessions_of(user) == []
    assert not UserSession.objects.filter(user=user).exists()
    # Someone who copied the old cookie gets nothing from it.
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert_sent_to_login(replay.get("/"))
    assert replay.get("/api/me").status_code == 401
    assert AuditEvent.objects.filter(event_type="auth.logout", actor_id=user.pk).count() == 1


def test_logout_by_get_is_not_allowed(client, city):
    login(client, city.users["liaison"])
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "engine", ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"]
)
def test_deactivation_ends_every_session_and_revokes_tokens(city, settings, engine):
    settings.SESSION_ENGINE = engine  # cached_db is what Redis deployments use
    user, admin = city.users["liaison"], city.users["admin"]
    phone, laptop = Client(), Client()
    login(phone, user)
    login(laptop, user)
    _, raw = services.token_create(user=user, name="对接", actor=user)
    assert phone.get("/").status_code == 200
    assert laptop.get("/").status_code == 200
    assert len(sessions_of(user)) == 2
    assert Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    services.user_deactivate(user=user, actor=admin)

    assert sessions_of(user) == []
    assert not UserSession.objects.filter(user=user).exists()
    assert_sent_to_login(phone.get("/"))
    assert_sent_to_login(laptop.get("/"))
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    event = AuditEvent.objects.get(event_type="user.deactivate")
    assert event.actor_id == admin.pk
    assert event.object_id == str(user.pk)
    assert event.data == {"sessions_ended": 2}


def test_deactivation_leaves_other_users_sessions_alone(city):
    user, other = city.users["liaison"], city.users["teacher"]
    mine, theirs = Client(), Client()
    login(mine, user)
    login(theirs, other)
    services.user_deactivate(user=user, actor=city.users["admin"])
    assert theirs.get("/").status_code == 200
    assert len(sessions_of(other)) == 1


def test_deactivation_ends_a_session_whose_key_changed_with_a_password_change(client, city):
    user = city.users["liaison"]
    login(client, user)
    new_password = "Another#Pass2026"
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # still logged in under the new key
    services.user_deactivate(user=user, actor=city.users["admin"])
    assert sessions_of(user) == []
    assert_sent_to_login(client.get("/"))


@pytest.mark.parametrize(
    "engine", ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"]
)
def test_end_sessions_logs_out_everywhere_but_keeps_the_account(city, settings, engine):
    settings.SESSION_ENGINE = engine  # with cached_db the cached copy must go too
    user = city.users["liaison"]
    a, b = Client(), Client()
    login(a, user)
    login(b, user)
    assert services.user_end_sessions(user=user, actor=city.users["admin"]) == 2
    assert sessions_of(user) == []
    assert_sent_to_login(a.get("/"))
    login(a, user)
    assert a.get("/").status_code == 200
