"""Who sees which inspection (role × round kind × status), and the round page's per-school actions."""

import pytest

from chuangwen.core.roles import Role
from chuangwen.inspections import selectors, services
from chuangwen.ledger.tests.factories import make_setup

pytestmark = pytest.mark.django_db

BUREAU_SEE = {Role.ADMIN, Role.LEADER, Role.OFFICE, Role.DEPT_HEAD, Role.INSPECTOR}
SCHOOL_READERS = {Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST}


def _inspection(city, kind: str, submitted: bool):
    setup = make_setup(city, kind=kind)
    inspector = city.users[Role.INSPECTOR]
    inspection = services.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    services.answer_save(
        inspection=inspection, standard=setup.standards["1.1"], result="达标", actor=inspector
    )
    if submitted:
        services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    return inspection


@pytest.mark.parametrize("kind", ["mock", "unannounced", "follow_up"])
@pytest.mark.parametrize("submitted", [False, True])
@pytest.mark.parametrize("role", [r.value for r in Role])
def test_visibility_by_role_kind_and_status(city, kind, submitted, role):
    inspection = _inspection(city, kind, submitted)
    expected = role in BUREAU_SEE or (submitted and role in SCHOOL_READERS)
    seen = selectors.visible_inspections(city.users[role]).filter(pk=inspection.pk).exists()
    assert seen == expected
    # The liaison of another school never sees it.
    assert not selectors.visible_inspections(city.outsider).filter(pk=inspection.pk).exists()


def test_an_unassigned_inspector_does_not_see_the_rounds_inspections(city):
    from chuangwen.org.tests.factories import MembershipFactory, UserFactory

    inspection = _inspection(city, "unannounced", submitted=False)
    other = UserFactory(username="other_inspector")
    MembershipFactory(user=other, unit=city.bureau, role=Role.INSPECTOR)
    assert not selectors.visible_inspections(other).exists()
    assert list(selectors.visible_inspections(city.users[Role.INSPECTOR])) == [inspection]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_round_actions_follow_may_inspect(city, role):
    setup = make_setup(city)
    user = city.users[role]
    schools = [city.school_a, city.school_c]
    actions = selectors.round_actions(user, setup.round, schools)
    for school in schools:
        may = services.may_inspect(user, setup.round, school)
        assert (actions[school.pk][0] == "start") == may
