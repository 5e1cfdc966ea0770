"""Permission-matrix rows of the ledger pages (see tests/test_permission_matrix.py).

The problem is found at school_a by the inspector and assigned to its standard's owner, the teacher; so
every role on the bureau and school_a may see it, and only some may act on it.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from tests.matrix import ALL, UNIT_MANAGERS, Route

from chuangwen.core.roles import Role

SCHOOL_SIDE = {Role.TEACHER, Role.SCHOOL_HEAD, Role.LIAISON}
RECORDERS = {Role.ADMIN, Role.OFFICE, Role.DEPT_HEAD, Role.INSPECTOR, Role.SCHOOL_HEAD, Role.LIAISON}


def _problem(city, **kwargs):
    from .factories import make_problem

    return make_problem(city, **kwargs)


def _long_milestone(city):
    today = timezone.localdate()
    problem = _problem(
        city,
        severity="long",
        target_date=today + dt.timedelta(days=60),
        milestones=[("场地施工", today + dt.timedelta(days=30))],
    )
    return problem.milestones.first().pk


def _photo(city, user):
    from .factories import noisy_jpeg

    return {"purpose": "after", "photo": noisy_jpeg(7)}


ROUTES: dict[str, Route] = {
    "ledger:list": Route(lambda c, u: "/ledger/", ALL),
    "ledger:export": Route(lambda c, u: "/ledger/export.xlsx?status=open", ALL),
    "ledger:create": Route(lambda c, u: "/ledger/new/", RECORDERS),
    "ledger:settings": Route(lambda c, u: "/ledger/settings/", UNIT_MANAGERS),
    "ledger:detail": Route(lambda c, u: f"/ledger/{_problem(c).pk}/", ALL),
    # A refused batch is still a redirect back to the list with the refusal; others may not batch at all.
    "ledger:bulk": Route(
        lambda c, u: "/ledger/bulk/",
        UNIT_MANAGERS,
        method="post",
        ok=302,
        data=lambda c, u: {"ids": [_problem(c).pk], "code": "assign"},
    ),
    "ledger:move": Route(
        lambda c, u: f"/ledger/{_problem(c).pk}/move/void/",
        UNIT_MANAGERS,
        method="post",
        ok=302,
        data=lambda c, u: {"void-reason": "重复登记"},
    ),
    "ledger:photo": Route(
        lambda c, u: f"/ledger/{_problem(c).pk}/photo/", SCHOOL_SIDE, method="post", ok=302, data=_photo
    ),
    "ledger:correct": Route(
        lambda c, u: f"/ledger/{_problem(c).pk}/correct/",
        UNIT_MANAGERS | SCHOOL_SIDE,
        method="post",
        ok=302,
        data=lambda c, u: {"responsible": c.users[Role.LIAISON].pk, "reason": "改由联络员负责"},
    ),
    "ledger:milestone_done": Route(
        lambda c, u: f"/ledger/milestones/{_long_milestone(c)}/done/", SCHOOL_SIDE, method="post", ok=302
    ),
}
