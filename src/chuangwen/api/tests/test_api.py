"""The JSON API: documentation, authentication (session and bearer token), scoping, paging, query budgets."""

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from ninja.errors import HttpError

from chuangwen.accounts import services
from chuangwen.api.auth import session_auth
from chuangwen.core import views as core_views
from chuangwen.org.models import SchoolClass, Unit
from chuangwen.org.tests.factories import SchoolClassFactory, SchoolFactory

PROTECTED = ["/api/me", "/api/units", "/api/schools", "/api/classes"]
UNAUTHORISED = {"detail": "未登录或登录已失效"}


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def token(city):
    user = city.users["liaison"]
    _, raw = services.token_create(user=user, name="集成", actor=user)
    return raw


# --- documentation and health ----------------------------------------------------------------------


def test_openapi_and_docs_are_served(client, db):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/me", "/api/schools", "/api/classes", "/api/units/{unit_id}"} <= set(paths)
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "openapi.json" in docs.content.decode()


def test_every_write_operation_refuses_a_session_without_csrf(city):
    """Every POST/PUT/PATCH/DELETE of the API, called with a browser session but no CSRF token, is refused
    before it runs: session-authenticated writes must never be forgeable from another site."""
    import re

    from django.test import Client

    from chuangwen.api.api import api

    schema = api.get_openapi_schema()
    writes = [
        (re.sub(r"\{[^}]+\}", "1", path), method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"post", "put", "patch", "delete"}
    ]
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.users["admin"])
    for path, method in writes:
        response = getattr(client, method)(path, data="{}", content_type="application/json")
        assert response.status_code == 403, (method, path, response.status_code)
        assert "CSRF" in response.content.decode(), (method, path)


def test_healthz_answers_200_with_the_database_reachable(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_without_the_database(client, db, monkeypatch):
    class Broken:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(core_views, "connection", Broken())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "OperationalError"}


# --- authentication ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [*PROTECTED, "/api/schools/1", "/api/schools/1/classes", "/api/classes/1", "/api/units/1"]
)
def test_anonymous_requests_get_401(client, city, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response.json() == UNAUTHORISED
    assert response["WWW-Authenticate"] == "Bearer"


def test_session_auth_works_for_get(client, city):
    user = city.users["liaison"]
    client.force_login(user)
    response = client.get("/api/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": "liaison_user",
        "name": "创文联络员测试",
        "phone": user.masked_phone,
        "roles": ["liaison"],
    }


def _session_post(user, *, with_token: bool):
    """A POST carrying a logged-in session, as a browser would send it, through the API's session auth."""
    factory = RequestFactory()
    warmup = factory.get("/")
    csrf_token = get_token(warmup)
    cookie = warmup.META["CSRF_COOKIE"]
    headers = {"HTTP_X_CSRFTOKEN": csrf_token} if with_token else {}
    request = factory.post("/api/anything", data={}, content_type="application/json", **headers)
    request.COOKIES[settings.CSRF_COOKIE_NAME] = cookie
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "a-session"
    request.user = user
    return request


def test_session_auth_requires_csrf_for_unsafe_methods(city):
    user = city.users["liaison"]
    assert session_auth.csrf is True
    with pytest.raises(HttpError) as excinfo:
        session_auth(_session_post(user, with_token=False))
    assert excinfo.value.status_code == 403
    assert session_auth(_session_post(user, with_token=True)) == user


def test_bearer_token_works(city, token):
    response = Client().get("/api/me", **bearer(token))
    assert response.status_code == 200
    assert response.json()["username"] == "liaison_user"
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # no session is made for a token


def test_a_token_sees_what_its_owner_sees(city, token):
    response = Client().get("/api/schools", **bearer(token))
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["items"]] == [city.school_a.pk]


def test_a_revoked_token_gets_401(city, token):
    from chuangwen.accounts.models import ApiToken

    services.token_revoke(token=ApiToken.objects.get(), actor=city.users["liaison"])
    response = Client().get("/api/me", **bearer(token))
    assert response.status_code == 401
    assert response.json() == UNAUTHORISED


def test_an_inactive_users_token_gets_401(city, token):
    user = city.users["liaison"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert Client().get("/api/me", **bearer(token)).status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer ", "Bearer cw_not-a-real-token", "Token {raw}", "{raw}", "Basic {raw}"]
)
def test_malformed_or_unknown_tokens_get_401(city, token, header):
    response = Client().get("/api/me", HTTP_AUTHORIZATION=header.format(raw=token))
    assert response.status_code == 401


# --- scoping and paging -----------------------------------------------------------------------------


def test_lists_are_scoped(client, city):
    client.force_login(city.users["liaison"])
    schools = client.get("/api/schools").json()
    assert schools["count"] == 1
    assert [s["name"] for s in schools["items"]] == ["东区第一小学"]
    units = client.get("/api/units").json()
    assert [u["id"] for u in units["items"]] == [city.school_a.pk]
    classes = client.get("/api/classes").json()
    assert classes["count"] == 2
    assert {c["school_id"] for c in classes["items"]} == {city.school_a.pk}
    assert client.get(f"/api/classes?school={city.school_c.pk}").json() == {"items": [], "count": 0}


def test_bureau_lists_cover_the_city(client, city):
    client.force_login(city.users["leader"])
    assert client.get("/api/schools").json()["count"] == 3
    assert client.get("/api/units").json()["count"] == 7
    assert client.get("/api/classes").json()["count"] == 6
    large = client.get("/api/classes?large_only=true").json()
    assert large["count"] == 3
    assert {c["size_flag"] for c in large["items"]} == {"大班额"}


def test_lists_are_paginated(client, city):
    for n in range(101):
        SchoolFactory(parent=city.district_b, name=f"分页学校{n:03d}")
    client.force_login(city.users["leader"])
    first = client.get("/api/schools").json()
    second = client.get("/api/schools?page=2").json()
    assert first["count"] == second["count"] == 104
    assert len(first["items"]) == 100
    assert len(second["items"]) == 4
    seen = [s["id"] for s in first["items"] + second["items"]]
    assert len(set(seen)) == 104
    assert set(seen) == set(Unit.objects.filter(kind="school").values_list("pk", flat=True))


def test_an_unknown_id_and_a_forbidden_one_look_the_same(client, city):
    client.force_login(city.users["liaison"])
    missing = client.get("/api/schools/999999")
    forbidden = client.get(f"/api/schools/{city.school_c.pk}")
    assert missing.status_code == forbidden.status_code == 404
    assert missing.json() == forbidden.json() == {"detail": "对象不存在或无权访问"}


def test_a_school_id_that_is_not_a_school_answers_404(client, city):
    client.force_login(city.users["leader"])
    assert client.get(f"/api/schools/{city.district_a.pk}").status_code == 404
    assert client.get(f"/api/units/{city.district_a.pk}").status_code == 200


# --- query budgets ----------------------------------------------------------------------------------


def _count(client, url, **extra) -> int:
    client.get(url, **extra)  # warm: the first request may refresh the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(city, schools=25, classes_each=3):
    for n in range(schools):
        school = SchoolFactory(parent=city.district_a, name=f"扩充学校{n}")
        for _ in range(classes_each):
            SchoolClassFactory(school=school)


@pytest.mark.parametrize(
    "url", ["/api/schools", "/api/classes", "/api/units", "/api/schools/{school_a}/classes"]
)
def test_list_queries_do_not_grow_with_rows_session(client, city, url, django_assert_max_num_queries):
    url = url.format(school_a=city.school_a.pk)
    client.force_login(city.users["leader"])
    small = _count(client, url)
    _grow(city)
    for _ in range(5):
        SchoolClassFactory(school=city.school_a)
    assert SchoolClass.objects.count() > 80
    large = _count(client, url)
    assert large == small, (small, large)
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/api/schools", "/api/classes"])
def test_list_queries_do_not_grow_with_rows_token(city, url, django_assert_max_num_queries):
    user = city.users["leader"]
    _, raw = services.token_create(user=user, name="集成", actor=user)
    client = Client()
    small = _count(client, url, **bearer(raw))
    _grow(city)
    large = _count(client, url, **bearer(raw))
    assert large == small, (small, large)
    with django_assert_max_num_queries(4):
        assert client.get(url, **bearer(raw)).status_code == 200
