"""Fixtures shared by every app's tests: a small city with one person per role."""

from dataclasses import dataclass

import pytest

from chuangwen.core.roles import Role

PASSWORD = "Chuangwen#2026"  # noqa: S105 (test fixture password)


@dataclass
class City:
    bureau: object
    office_dept: object
    district_a: object
    district_b: object
    school_a: object  # in district A
    school_b: object  # in district A
    school_c: object  # in district B
    users: dict  # role code -> user (school roles on school_a)
    outsider: object  # liaison of school_c


@pytest.fixture
def city(db):
    from chuangwen.org.models import Unit
    from chuangwen.org.tests.factories import (
        BureauFactory,
        DepartmentFactory,
        DistrictFactory,
        MembershipFactory,
        SchoolClassFactory,
        SchoolFactory,
        UserFactory,
    )

    bureau = BureauFactory(name="测试市教育体育局")
    dept = DepartmentFactory(parent=bureau, name="德育科")
    district_a = DistrictFactory(parent=bureau, name="东区")
    district_b = DistrictFactory(parent=bureau, name="西区")
    school_a = SchoolFactory(parent=district_a, name="东区第一小学")
    school_b = SchoolFactory(parent=district_a, name="东区实验初级中学", school_type=Unit.SchoolType.JUNIOR)
    school_c = SchoolFactory(parent=district_b, name="西区第二小学")
    for school in (school_a, school_b, school_c):
        SchoolClassFactory(school=school, name="1班", student_count=45)
        SchoolClassFactory(school=school, name="2班", student_count=58)
    holders = {
        Role.ADMIN: bureau,
        Role.LEADER: bureau,
        Role.OFFICE: bureau,
        Role.DEPT_HEAD: dept,
        Role.INSPECTOR: bureau,
        Role.SCHOOL_HEAD: school_a,
        Role.LIAISON: school_a,
        Role.ARCHIVIST: school_a,
        Role.TEACHER: school_a,
    }
    users = {}
    for role, unit in holders.items():
        user = UserFactory(username=f"{role}_user", name=f"{Role(role).label}测试")
        MembershipFactory(user=user, unit=unit, role=role)
        users[role] = user
    outsider = UserFactory(username="outsider", name="西区联络员")
    MembershipFactory(user=outsider, unit=school_c, role=Role.LIAISON)
    return City(bureau, dept, district_a, district_b, school_a, school_b, school_c, users, outsider)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: cached rows keyed by user id must not leak from one test's
    users into the next test's (ids are reused once a test's transaction is rolled back)."""
    from django.core.cache import cache

    cache.clear()
    yield
