"""Permission-matrix rows of the accountability pages and API (see tests/test_permission_matrix.py).

The record is a 通报批评 of school_a, where the school roles hold their posts: every role sees it; only its
学校一把手 acknowledges it; only the office (and the system administrator) creates, corrects and revokes.
The matrix posts form data, which the JSON endpoints reject (400) before any role check; who may create and
acknowledge over the API is tested with JSON bodies in test_api.py.
"""

from __future__ import annotations

from tests.matrix import ALL, UNIT_MANAGERS, Route

from chuangwen.core.roles import Role


def _record(city) -> int:
    import datetime as dt

    from chuangwen.accountability.services import record_create

    return record_create(
        kind="criticise",
        unit=city.school_a,
        reason="环境卫生整改不力",
        date=dt.date(2026, 11, 20),
        actor=city.users[Role.OFFICE],
    ).pk


def _json(url, allowed=ALL, **kw):
    return Route(url, allowed, method="post", ok=400, anon=401, **kw)


ROUTES: dict[str, Route] = {
    "accountability:list": Route(lambda c, u: "/accountability/", ALL),
    "accountability:export": Route(lambda c, u: "/accountability/export.xlsx?kind=criticise", ALL),
    "accountability:create": Route(lambda c, u: "/accountability/new/", UNIT_MANAGERS),
    "accountability:rules": Route(lambda c, u: "/accountability/rules/", UNIT_MANAGERS),
    "accountability:cards": Route(lambda c, u: "/accountability/cards/", ALL),
    "accountability:card_export": Route(lambda c, u: "/accountability/cards/export.xlsx", ALL),
    "accountability:card_evaluate": Route(
        lambda c, u: "/accountability/cards/evaluate/", UNIT_MANAGERS, method="post", ok=302
    ),
    "accountability:unit": Route(lambda c, u: f"/accountability/units/{c.school_a.pk}/", ALL),
    "accountability:detail": Route(lambda c, u: f"/accountability/{_record(c)}/", ALL),
    "accountability:acknowledge": Route(
        lambda c, u: f"/accountability/{_record(c)}/acknowledge/",
        {Role.SCHOOL_HEAD},
        method="post",
        ok=302,
        data=lambda c, u: {"note": "已组织整改"},
    ),
    "accountability:revoke": Route(
        lambda c, u: f"/accountability/{_record(c)}/revoke/",
        UNIT_MANAGERS,
        method="post",
        ok=302,
        data=lambda c, u: {"revoke-reason": "误记"},
    ),
    "accountability:correct": Route(
        lambda c, u: f"/accountability/{_record(c)}/correct/",
        UNIT_MANAGERS,
        method="post",
        ok=302,
        data=lambda c, u: {
            "correct-reason": "环境卫生整改不力，多次督促未改",
            "correct-date": "2026-11-20",
            "correct-correct_reason": "补充事由",
        },
    ),
    "api:list_accountability_records": Route(lambda c, u: "/api/accountability/records", ALL, anon=401),
    "api:get_accountability_record": Route(
        lambda c, u: f"/api/accountability/records/{_record(c)}", ALL, anon=401
    ),
    "api:create_accountability_record": _json(lambda c, u: "/api/accountability/records"),
    "api:acknowledge_accountability_record": _json(
        lambda c, u: f"/api/accountability/records/{_record(c)}/acknowledge"
    ),
    "api:list_accountability_cards": Route(lambda c, u: "/api/accountability/cards", ALL, anon=401),
    "api:get_accountability_rules": Route(lambda c, u: "/api/accountability/rules", ALL, anon=401),
}
