"""Permission-matrix rows of the inspections and ledger API (see tests/test_permission_matrix.py).

The matrix posts form data, which the JSON endpoints reject (400) before any role check; who may start,
answer, submit, correct, record and move is tested with JSON bodies in test_inspections_ledger_api.py.
The photo upload is multipart, so the matrix uploads a real photo there; the PUT of an answer sends
"{}", a complete answer for a per-occurrence standard (no occurrence found); the PUT of the ledger's rules
sends a whole set of rules as JSON text. Completing a milestone takes no body.
"""

from __future__ import annotations

import json

from tests.matrix import ALL, UNIT_MANAGERS, Route

from chuangwen.core.roles import Role

INSPECTORS = {Role.ADMIN, Role.OFFICE, Role.INSPECTOR}
PHOTO_FINDERS = {Role.ADMIN, Role.OFFICE, Role.DEPT_HEAD, Role.INSPECTOR}
SCHOOL = (Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST, Role.TEACHER)
# The responsible person (the teacher) and the school's head and liaison.
SCHOOL_SIDE = {Role.TEACHER, Role.SCHOOL_HEAD, Role.LIAISON}


def _setup(city):
    from chuangwen.ledger.tests.factories import make_setup

    return make_setup(city)


def _inspection(city, *, submitted: bool):
    """An inspection of school_a by the round's inspector; submitted with every standard answered."""
    from chuangwen.inspections import services

    setup = _setup(city)
    inspector = city.users[Role.INSPECTOR]
    inspection = services.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    if submitted:
        answers = {"1.1": ("达标", 0), "1.2": ("合格", 0), "1.3": ("", 1), "1.4": ("合格", 0)}
        for code, (result, occurrences) in answers.items():
            services.answer_save(
                inspection=inspection,
                standard=setup.standards[code],
                result=result,
                occurrences=occurrences,
                actor=inspector,
            )
        services.inspection_submit(inspection=inspection, actor=inspector)
    return inspection.pk


def _answered(city):
    """An inspection in progress with standard 1.3 answered, ready for a photo."""
    from chuangwen.inspections import services
    from chuangwen.inspections.models import Inspection

    inspection = Inspection.objects.get(pk=_inspection(city, submitted=False))
    standard = inspection.round.campaign.edition.standards.get(code="1.3")
    services.answer_save(
        inspection=inspection, standard=standard, occurrences=1, actor=city.users[Role.INSPECTOR]
    )
    return inspection.pk


def _problem(city):
    """A problem at school_a found by the inspector, assigned to the teacher who owns the standard."""
    from chuangwen.ledger.tests.factories import make_problem

    return make_problem(city, _setup(city)).pk


def _milestone(city):
    """A long-term problem at school_a, assigned to the teacher, with one milestone to complete."""
    import datetime as dt

    from django.utils import timezone

    from chuangwen.ledger.tests.factories import make_problem

    today = timezone.localdate()
    problem = make_problem(
        city,
        _setup(city),
        severity="long",
        target_date=today + dt.timedelta(days=60),
        milestones=[("场地施工", today + dt.timedelta(days=30))],
    )
    return f"/api/ledger/problems/{problem.pk}/milestones/{problem.milestones.get().pk}/done"


def _rules(city, user):
    """The whole rules as JSON text (the test client sends a string body as it is)."""
    return json.dumps(
        {
            "default_days": 5,
            "yellow_ratio": "0.3",
            "yellow_min_hours": 8,
            "remind_daily": False,
            "ladder": [{"after": 1, "roles": ["dept_head"], "label": "提醒"}],
        }
    )


def _photo(city, user):
    from chuangwen.ledger.tests.factories import noisy_jpeg

    return {"purpose": "found", "file": noisy_jpeg(7)}


def _json(url, allowed=ALL, **kw):
    return Route(url, allowed, method="post", ok=400, anon=401, **kw)


ROUTES: dict[str, Route] = {
    "api:list_inspections": Route(lambda c, u: "/api/inspections/", ALL, anon=401),
    "api:start_inspection": _json(lambda c, u: "/api/inspections/"),
    # Submitted, so the school's head, liaison and archivist see it; teachers do not see inspections.
    "api:get_inspection": Route(
        lambda c, u: f"/api/inspections/{_inspection(c, submitted=True)}",
        ALL,
        anon=401,
        extra={Role.TEACHER: 404},
    ),
    "api:save_answer": _json(lambda c, u: f"/api/inspections/{_inspection(c, submitted=False)}/answers"),
    # In progress: overseers see it but may not score (403); the school does not see it at all (404).
    "api:put_answer": Route(
        lambda c, u: f"/api/inspections/{_inspection(c, submitted=False)}/answers/1.3",
        INSPECTORS,
        method="put",
        anon=401,
        extra=dict.fromkeys(SCHOOL, 404),
    ),
    "api:add_answer_photo": Route(
        lambda c, u: f"/api/inspections/{_answered(c)}/answers/1.3/photos",
        INSPECTORS,
        method="post",
        ok=201,
        anon=401,
        data=_photo,
        extra=dict.fromkeys(SCHOOL, 404),
    ),
    "api:submit_inspection": _json(lambda c, u: f"/api/inspections/{_inspection(c, submitted=False)}/submit"),
    "api:correct_answer": _json(
        lambda c, u: f"/api/inspections/{_inspection(c, submitted=True)}/corrections"
    ),
    "api:list_problems": Route(lambda c, u: "/api/ledger/problems", ALL, anon=401),
    "api:create_problem": _json(lambda c, u: "/api/ledger/problems"),
    "api:bulk_move_problems": _json(lambda c, u: "/api/ledger/problems/bulk-moves"),
    # The teacher is the responsible person, so every role sees the problem.
    "api:get_problem": Route(lambda c, u: f"/api/ledger/problems/{_problem(c)}", ALL, anon=401),
    "api:problem_moves": Route(lambda c, u: f"/api/ledger/problems/{_problem(c)}/moves", ALL, anon=401),
    "api:move_problem": _json(lambda c, u: f"/api/ledger/problems/{_problem(c)}/moves"),
    # 发现问题 photos: the finder and the bureau's re-checkers; the leader and the school may not (403).
    "api:add_problem_photo": Route(
        lambda c, u: f"/api/ledger/problems/{_problem(c)}/photos",
        PHOTO_FINDERS,
        method="post",
        ok=201,
        anon=401,
        data=_photo,
    ),
    "api:correct_problem": _json(lambda c, u: f"/api/ledger/problems/{_problem(c)}/corrections"),
    # The problem is visible to all; only the school's side completes its milestones (403 for others).
    "api:complete_milestone": Route(lambda c, u: _milestone(c), SCHOOL_SIDE, method="post", anon=401),
    "api:get_ledger_settings": Route(lambda c, u: "/api/ledger/settings", UNIT_MANAGERS, anon=401),
    "api:put_ledger_settings": Route(
        lambda c, u: "/api/ledger/settings", UNIT_MANAGERS, method="put", anon=401, data=_rules
    ),
}
