"""Permission-matrix rows of the bulletins pages and API (see tests/test_permission_matrix.py).

Bulletins are drafted and issued by 创文办 and 系统管理员; an issued bulletin addressed to every school
is read by every role (the school roles hold their posts on school_a, one of the schools in scope);
drafts are theirs alone.
"""

from __future__ import annotations

from tests.matrix import ALL, UNIT_MANAGERS, Route


def _draft(city):
    from .factories import make_draft

    return make_draft(city).pk


def _issued(city):
    from .factories import make_issued

    return make_issued(city).pk


def _schedule(city):
    from .factories import make_schedule

    return make_schedule(city).pk


def _json(url, allowed=ALL, **kw):
    return Route(url, allowed, method="post", ok=400, anon=401, **kw)


ROUTES: dict[str, Route] = {
    "bulletins:list": Route(lambda c, u: "/bulletins/", ALL),
    "bulletins:create": Route(lambda c, u: "/bulletins/new/", UNIT_MANAGERS),
    "bulletins:detail": Route(lambda c, u: f"/bulletins/{_issued(c)}/", ALL),
    "bulletins:edit": Route(lambda c, u: f"/bulletins/{_draft(c)}/edit/", UNIT_MANAGERS),
    "bulletins:refresh": Route(
        lambda c, u: f"/bulletins/{_draft(c)}/refresh/", UNIT_MANAGERS, method="post", ok=302
    ),
    "bulletins:issue": Route(lambda c, u: f"/bulletins/{_draft(c)}/issue/", UNIT_MANAGERS),
    "bulletins:reissue": Route(
        lambda c, u: f"/bulletins/{_issued(c)}/reissue/", UNIT_MANAGERS, method="post", ok=302
    ),
    "bulletins:delete": Route(
        lambda c, u: f"/bulletins/{_draft(c)}/delete/", UNIT_MANAGERS, method="post", ok=302
    ),
    "bulletins:docx": Route(lambda c, u: f"/bulletins/{_issued(c)}/docx/", ALL),
    "bulletins:pdf": Route(lambda c, u: f"/bulletins/{_issued(c)}/pdf/", ALL),
    "bulletins:schedules": Route(lambda c, u: "/bulletins/schedules/", UNIT_MANAGERS),
    "bulletins:schedule_toggle": Route(
        lambda c, u: f"/bulletins/schedules/{_schedule(c)}/toggle/", UNIT_MANAGERS, method="post", ok=302
    ),
    "bulletins:settings": Route(lambda c, u: "/bulletins/settings/", UNIT_MANAGERS),
    "api:list_bulletins": Route(lambda c, u: "/api/bulletins/", ALL, anon=401),
    # Form-encoded bodies are refused (400) before anything else; the JSON tests check the roles.
    "api:create_bulletin": _json(lambda c, u: "/api/bulletins/"),
    "api:get_bulletin": Route(lambda c, u: f"/api/bulletins/{_issued(c)}", ALL, anon=401),
    "api:issue_bulletin": Route(
        lambda c, u: f"/api/bulletins/{_draft(c)}/issue", UNIT_MANAGERS, method="post", anon=401
    ),
    "api:download_bulletin_docx": Route(lambda c, u: f"/api/bulletins/{_issued(c)}/docx", ALL, anon=401),
    "api:download_bulletin_pdf": Route(lambda c, u: f"/api/bulletins/{_issued(c)}/pdf", ALL, anon=401),
}
