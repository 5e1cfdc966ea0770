"""The visibility rule's two forms (joins for pages, subqueries for counting) give the same rows."""

import pytest

from chuangwen.core.roles import Role
from chuangwen.inspections import services as inspections
from chuangwen.ledger import selectors, services
from chuangwen.org.tests.factories import MembershipFactory, UserFactory

from .factories import make_problem, make_setup

pytestmark = pytest.mark.django_db


def test_both_forms_of_the_visibility_rule_agree_for_every_role(city):
    mock = make_setup(city)
    unannounced = make_setup(city, kind="unannounced")
    inspector = city.users[Role.INSPECTOR]
    make_problem(city, mock)
    make_problem(city, mock, school=city.school_c, description="西区问题", responsible=city.outsider)
    services.problem_create(
        school=city.school_b, description="东区初中，无轮次", actor=city.users[Role.OFFICE]
    )
    held = inspections.inspection_start(round_=unannounced.round, school=city.school_a, actor=inspector)
    answer = inspections.answer_save(inspection=held, standard=unannounced.standards["1.1"], result="不达标",
                                     actor=inspector)  # fmt: skip
    services.problem_create(
        school=city.school_a, description="暗访中", inspection=held, answer=answer, actor=inspector
    )
    done = inspections.inspection_start(round_=unannounced.round, school=city.school_c, actor=inspector)
    answer = inspections.answer_save(inspection=done, standard=unannounced.standards["1.2"], result="不合格",
                                     actor=inspector)  # fmt: skip
    services.problem_create(
        school=city.school_c,
        description="暗访已提交",
        inspection=done,
        answer=answer,
        actor=inspector,
        responsible=city.outsider,
    )
    inspections.inspection_submit(inspection=done, actor=inspector, partial=True)
    # A district-office inspector (reach: district A only) responsible for a problem elsewhere.
    district_inspector = UserFactory(username="district_inspector")
    MembershipFactory(user=district_inspector, unit=city.district_a, role=Role.INSPECTOR)
    users = [*city.users.values(), city.outsider, district_inspector]
    for user in users:
        joined = set(selectors.visible_problems(user).values_list("pk", flat=True))
        counted = set(selectors.visible_problems(user, counting=True).values_list("pk", flat=True))
        assert joined == counted, user.username
        assert selectors.visible_problems(user, counting=True).count() == len(joined)
    liaison = set(selectors.visible_problems(city.users[Role.LIAISON]).values_list("description", flat=True))
    assert liaison == {"操场东侧有垃圾未清理"}  # not school_c's, not school_b's, not the held one
    outsider = set(selectors.visible_problems(city.outsider).values_list("description", flat=True))
    assert outsider == {"西区问题", "暗访已提交"}
    district = set(selectors.visible_problems(district_inspector).values_list("school__name", flat=True))
    assert district == {city.school_a.name, city.school_b.name}


def test_a_bureau_role_reads_every_problem_only_while_its_bureau_is_the_only_top_unit(city):
    """The list skips the path filter for a bureau role on the city's bureau (access.reaches_every_unit);
    a second top-level unit (another city in the same install) turns the filter back on."""
    from chuangwen.core import access
    from chuangwen.org.tests.factories import BureauFactory, SchoolFactory

    setup = make_setup(city)
    make_problem(city, setup)
    office = city.users[Role.OFFICE]
    assert access.reaches_every_unit(office, selectors.BUREAU_ROLES)
    assert "org_unit" not in str(selectors.visible_problems(office).query)  # no path filter at all
    other_city = BureauFactory(name="邻市教体局", code="other-city")
    far = SchoolFactory(parent=other_city, name="邻市一中", code="other-school")
    services.problem_create(school=far, description="邻市的问题", actor=UserFactory(is_superuser=True))
    office = type(office).objects.get(pk=office.pk)  # a new request: nothing remembered
    assert not access.reaches_every_unit(office, selectors.BUREAU_ROLES)
    for counting in (False, True):
        seen = set(selectors.visible_problems(office, counting=counting).values_list("description", flat=1))
        assert "邻市的问题" not in seen and "操场东侧有垃圾未清理" in seen
    assert not access.reaches_every_unit(city.users[Role.LIAISON], selectors.BUREAU_ROLES)  # no bureau role
