"""Permission-matrix rows of the inspection pages (see tests/test_permission_matrix.py).

The objects belong to a mock round in progress over school_a (and school_c) with the bureau's 督查员 assigned.
An inspection in progress is invisible to the school (404); the school's head, liaison and archivist see it
once submitted, and may not change it (403).
"""

from __future__ import annotations

from tests.matrix import Route

from chuangwen.core.roles import Role

INSPECTORS = {Role.ADMIN, Role.OFFICE, Role.INSPECTOR}
OVERSEERS = {Role.ADMIN, Role.LEADER, Role.OFFICE, Role.DEPT_HEAD, Role.INSPECTOR}
SCHOOL = {Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST, Role.TEACHER}
HIDDEN = dict.fromkeys(SCHOOL, 404)  # an inspection in progress does not exist for the school


def _setup(city):
    from chuangwen.ledger.tests.factories import make_setup

    return make_setup(city)


def _inspection(city, *, result: str | None = None, submitted: bool = False):
    """An inspection of school_a (with 1.1 answered `result`, and submitted, when asked)."""
    from chuangwen.inspections import services

    setup = _setup(city)
    inspector = city.users[Role.INSPECTOR]
    inspection = services.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    if result is not None:
        services.answer_save(
            inspection=inspection, standard=setup.standards["1.1"], result=result, actor=inspector
        )
    if submitted:
        services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    return inspection, setup


def _detail(c, u):
    inspection, _ = _inspection(c)
    return f"/inspections/{inspection.pk}/"


def _start(c, u):
    setup = _setup(c)
    return f"/inspections/start/{setup.round.pk}/{c.school_a.pk}/"


def _on_answer(suffix: str, *, result: str | None = None, submitted: bool = False):
    def build(c, u):
        inspection, setup = _inspection(c, result=result, submitted=submitted)
        return f"/inspections/{inspection.pk}/answer/{setup.standards['1.1'].pk}/{suffix}"

    return build


def _submit(c, u):
    inspection, _ = _inspection(c, result="达标")
    return f"/inspections/{inspection.pk}/submit/"


def _photo(c, u):
    from chuangwen.ledger.tests.factories import jpeg

    return {"photo": jpeg()}


ROUTES: dict[str, Route] = {
    "inspections:list": Route(lambda c, u: "/inspections/", "all"),
    "inspections:start": Route(_start, INSPECTORS, method="post", ok=302),
    "inspections:detail": Route(_detail, OVERSEERS, denied=404),
    "inspections:answer": Route(
        _on_answer(""),
        INSPECTORS,
        method="post",
        ok=302,
        data=lambda c, u: {"result": "达标", "revision": "0"},
        extra=HIDDEN,
    ),
    "inspections:photo": Route(
        _on_answer("photo/", result="达标"), INSPECTORS, method="post", ok=302, data=_photo, extra=HIDDEN
    ),
    "inspections:problem": Route(
        _on_answer("problem/", result="不达标"), INSPECTORS, method="post", ok=302, extra=HIDDEN
    ),
    "inspections:submit": Route(
        _submit, INSPECTORS, method="post", ok=302, data=lambda c, u: {"partial": "1"}, extra=HIDDEN
    ),
    # After submission only the campaign office corrects; the school sees the result, the teacher does not.
    "inspections:correct": Route(
        _on_answer("correct/", result="达标", submitted=True),
        {Role.ADMIN, Role.OFFICE},
        extra={Role.TEACHER: 404},
    ),
}
