"""Every URL pattern × every role (and anonymous) in one table.

A URL pattern that is missing from ROUTES fails `test_every_url_pattern_is_in_the_matrix`, so a new
page or endpoint cannot ship without deciding who may use it. Apps add their rows in
`chuangwen/<app>/tests/routes.py` (a `ROUTES` dict of `tests.matrix.Route`). Objects used here belong
to school_a, where the school roles hold their posts; cross-school access is covered by
`test_cross_school_*`.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from chuangwen.core.roles import Role

from .matrix import ANON, BUREAU_READ, CLASS_MANAGERS, IMPORTERS, ROLES, UNIT_MANAGERS, Route


def _class_a(city):
    return city.school_a.classes.order_by("pk").first()


def _own_token(city, user):
    from chuangwen.accounts.services import token_create

    token, _ = token_create(user=user, name="matrix")
    return f"/accounts/tokens/{token.pk}/revoke/"


def _own_batch(city, user):
    """An import batch of the user's own (batches are private to their uploader)."""
    from chuangwen.org.models import ImportBatch

    return ImportBatch.objects.create(kind="classes", uploaded_by=user, original_name="matrix.xlsx").pk


def _membership(city, user):
    return city.outsider.memberships.first().pk


ROUTES: dict[str, Route] = {
    "core:home": Route(lambda c, u: "/", "all"),
    "core:healthz": Route(lambda c, u: "/healthz", "all", anon=200),
    "core:ping": Route(lambda c, u: "/ping", "all", anon=200),
    "core:audit_list": Route(lambda c, u: "/audit/", BUREAU_READ),
    # A logged-in user asking for the login page is sent on to the workbench.
    "accounts:login": Route(lambda c, u: "/accounts/login/", "all", ok=302, anon=200),
    "accounts:logout": Route(lambda c, u: "/accounts/logout/", "all", method="post", ok=302, anon=302),
    "accounts:password_change": Route(lambda c, u: "/accounts/password/", "all"),
    "accounts:token_list": Route(lambda c, u: "/accounts/tokens/", "all"),
    "accounts:token_revoke": Route(_own_token, "all", method="post", ok=302),
    "org:unit_list": Route(lambda c, u: "/org/units/", "all"),
    "org:unit_create": Route(lambda c, u: "/org/units/new/", UNIT_MANAGERS),
    "org:unit_detail": Route(lambda c, u: f"/org/units/{c.school_a.pk}/", "all"),
    "org:unit_edit": Route(lambda c, u: f"/org/units/{c.school_a.pk}/edit/", UNIT_MANAGERS),
    "org:class_list": Route(lambda c, u: "/org/classes/", "all"),
    "org:school_classes": Route(lambda c, u: f"/org/schools/{c.school_a.pk}/classes/", "all"),
    "org:class_create": Route(lambda c, u: f"/org/schools/{c.school_a.pk}/classes/new/", CLASS_MANAGERS),
    "org:class_edit": Route(lambda c, u: f"/org/classes/{_class_a(c).pk}/edit/", CLASS_MANAGERS),
    "org:class_delete": Route(
        lambda c, u: f"/org/classes/{_class_a(c).pk}/delete/", CLASS_MANAGERS, method="post", ok=302
    ),
    "org:user_list": Route(lambda c, u: "/org/users/", {Role.ADMIN}),
    "org:user_create": Route(lambda c, u: "/org/users/new/", {Role.ADMIN}),
    "org:user_detail": Route(lambda c, u: f"/org/users/{c.outsider.pk}/", {Role.ADMIN}),
    "org:user_grant": Route(
        lambda c, u: f"/org/users/{c.outsider.pk}/roles/",
        {Role.ADMIN},
        method="post",
        ok=302,
        data=lambda c, u: {"unit": c.school_c.pk, "role": Role.ARCHIVIST},
    ),
    "org:user_revoke": Route(
        lambda c, u: f"/org/users/{c.outsider.pk}/roles/{_membership(c, u)}/revoke/",
        {Role.ADMIN},
        method="post",
        ok=302,
    ),
    "org:user_set_active": Route(
        lambda c, u: f"/org/users/{c.outsider.pk}/active/",
        {Role.ADMIN},
        method="post",
        ok=302,
        data=lambda c, u: {"active": "0"},
    ),
    "org:user_password": Route(
        lambda c, u: f"/org/users/{c.outsider.pk}/password/",
        {Role.ADMIN},
        method="post",
        ok=302,
        data=lambda c, u: {"password": "Xq7#mountain-river"},
    ),
    "org:user_end_sessions": Route(
        lambda c, u: f"/org/users/{c.outsider.pk}/sessions/end/", {Role.ADMIN}, method="post", ok=302
    ),
    "org:import_start": Route(lambda c, u: "/org/import/", IMPORTERS),
    "org:import_preview": Route(lambda c, u: f"/org/import/{_own_batch(c, u)}/", IMPORTERS),
    "org:import_apply": Route(
        lambda c, u: f"/org/import/{_own_batch(c, u)}/apply/", IMPORTERS, method="post", ok=302
    ),
    "org:import_discard": Route(
        lambda c, u: f"/org/import/{_own_batch(c, u)}/discard/", IMPORTERS, method="post", ok=302
    ),
    "org:import_template": Route(lambda c, u: "/org/import/template/classes.xlsx", IMPORTERS),
    "org:school_export": Route(lambda c, u: "/org/schools/export.xlsx", "all"),
    "org:class_export": Route(lambda c, u: "/org/classes/export.xlsx", "all"),
    "api:openapi-json": Route(lambda c, u: "/api/openapi.json", "all", anon=200),
    "api:openapi-view": Route(lambda c, u: "/api/docs", "all", anon=200),
    "api:api-root": Route(lambda c, u: "/api/", set(), denied=404, anon=404),
    "api:me": Route(lambda c, u: "/api/me", "all", anon=401),
    "api:list_units": Route(lambda c, u: "/api/units", "all", anon=401),
    "api:get_unit": Route(lambda c, u: f"/api/units/{c.school_a.pk}", "all", anon=401),
    "api:list_schools": Route(lambda c, u: "/api/schools", "all", anon=401),
    "api:get_school": Route(lambda c, u: f"/api/schools/{c.school_a.pk}", "all", anon=401),
    "api:list_school_classes": Route(lambda c, u: f"/api/schools/{c.school_a.pk}/classes", "all", anon=401),
    "api:list_classes": Route(lambda c, u: "/api/classes", "all", anon=401),
    "api:get_class": Route(lambda c, u: f"/api/classes/{_class_a(c).pk}", "all", anon=401),
    # The Django admin: only system administrators get past its login page.
    "admin:*": Route(lambda c, u: "/admin/", {Role.ADMIN}, denied=302),
}


for _app in apps.get_app_configs():
    if _app.name.startswith("chuangwen."):
        try:
            _module = importlib.import_module(f"{_app.name}.tests.routes")
        except ModuleNotFoundError as exc:
            if exc.name != f"{_app.name}.tests.routes":
                raise
            continue
        _clash = set(_module.ROUTES) & set(ROUTES)
        assert not _clash, f"{_app.name}.tests.routes repeats rows: {sorted(_clash)}"
        ROUTES.update(_module.ROUTES)


def _url_names(patterns, namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if ns == "admin":
                yield "admin:*"
                continue
            yield from _url_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern):
            yield f"{namespace}:{p.name}" if namespace else str(p.name)


def test_every_url_pattern_is_in_the_matrix():
    names = set(_url_names(get_resolver().url_patterns))
    missing = sorted(names - set(ROUTES))
    stale = sorted(set(ROUTES) - names)
    assert not missing, f"URL patterns without a row in the permission matrix: {missing}"
    assert not stale, f"rows in the permission matrix for URL patterns that no longer exist: {stale}"


def _expected(route: Route, role: str) -> int:
    if role == ANON:
        return route.anon
    if role in route.extra:
        return route.extra[role]
    allowed = route.allowed == "all" or role in route.allowed
    return route.ok if allowed else route.denied


@pytest.mark.parametrize("role", [*ROLES, ANON])
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_permission_matrix(client, city, name, role):
    route = ROUTES[name]
    user = None if role == ANON else city.users[role]
    if user is not None:
        client.force_login(user)
    url = route.url(city, user or city.users[Role.ADMIN])
    data = route.data(city, user) if route.data else {}
    response = getattr(client, route.method)(url, data)
    expected = _expected(route, role)
    assert response.status_code == expected, (
        f"{route.method.upper()} {url} as {role}: expected {expected}, got {response.status_code}"
    )
    if role == ANON and expected == 302:
        assert "/login/" in response["Location"]


CROSS_SCHOOL_PAGES = [
    lambda c: f"/org/units/{c.school_a.pk}/",
    lambda c: f"/org/schools/{c.school_a.pk}/classes/",
    lambda c: f"/org/classes/{_class_a(c).pk}/edit/",
    lambda c: f"/api/schools/{c.school_a.pk}",
    lambda c: f"/api/units/{c.school_a.pk}",
    lambda c: f"/api/schools/{c.school_a.pk}/classes",
    lambda c: f"/api/classes/{_class_a(c).pk}",
]


@pytest.mark.parametrize("build", CROSS_SCHOOL_PAGES)
def test_cross_school_rows_are_invisible(client, city, build):
    """The liaison of school_c asks for school_a's rows by id: 404, as if they did not exist."""
    client.force_login(city.outsider)
    response = client.get(build(city))
    assert response.status_code == 404
