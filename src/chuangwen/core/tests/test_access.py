"""Scoping (core/access.py): who sees which units, schools and classes, and who may change them."""

import pytest
from django.test import Client

from chuangwen.core import access
from chuangwen.core.access import Grant, Scope
from chuangwen.core.roles import Role
from chuangwen.org.models import SchoolClass, Unit
from chuangwen.org.tests.factories import MembershipFactory, SchoolFactory, UserFactory

BUREAU = ["admin", "leader", "office", "dept_head", "inspector"]
SCHOOL_A = ["school_head", "liaison", "archivist", "teacher"]
CLASS_EDITORS = {"admin", "office", "school_head", "liaison"}
NOT_FOUND = "对象不存在或无权访问"


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


def classes_of(*schools) -> set[int]:
    return ids(SchoolClass.objects.filter(school__in=schools))


@pytest.fixture
def district_office(city):
    """创文办 held on 东区 (a district office), not on the bureau."""
    user = UserFactory(username="district_office", name="东区创文办")
    MembershipFactory(user=user, unit=city.district_a, role=Role.OFFICE)
    return user


def user_for(city, role):
    return city.outsider if role == "outsider" else city.users[role]


# --- what each role sees ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", BUREAU)
def test_bureau_roles_see_everything(city, role):
    user = city.users[role]
    everything = ids(Unit.objects.all())
    assert len(everything) == 7
    assert ids(access.visible_units(user)) == everything
    assert ids(access.visible_schools(user)) == {city.school_a.pk, city.school_b.pk, city.school_c.pk}
    assert ids(access.visible_classes(user)) == ids(SchoolClass.objects.all())
    assert all(access.can_view_unit(user, unit) for unit in Unit.objects.all())


@pytest.mark.parametrize("role", SCHOOL_A)
def test_school_roles_see_their_own_school_only(city, role):
    user = city.users[role]
    assert names(access.visible_units(user)) == {"东区第一小学"}
    assert ids(access.visible_schools(user)) == {city.school_a.pk}
    assert ids(access.visible_classes(user)) == classes_of(city.school_a)
    assert access.can_view_unit(user, city.school_a)
    for other in (city.bureau, city.district_a, city.school_b, city.school_c):
        assert not access.can_view_unit(user, other)


def test_the_outsider_sees_school_c_only(city):
    user = city.outsider
    assert ids(access.visible_units(user)) == {city.school_c.pk}
    assert ids(access.visible_classes(user)) == classes_of(city.school_c)


def test_a_district_role_sees_its_district(city, district_office):
    expected = {city.district_a.pk, city.school_a.pk, city.school_b.pk}
    assert ids(access.visible_units(district_office)) == expected
    assert ids(access.visible_schools(district_office)) == {city.school_a.pk, city.school_b.pk}
    assert ids(access.visible_classes(district_office)) == classes_of(city.school_a, city.school_b)
    assert not access.can_view_unit(district_office, city.bureau)
    assert not access.can_view_unit(district_office, city.school_c)
    assert access.can_change_unit(district_office, city.school_b)
    assert not access.can_change_unit(district_office, city.school_c)


def test_someone_with_no_role_sees_nothing(city):
    user = UserFactory()
    assert not access.visible_units(user).exists()
    assert not access.visible_classes(user).exists()


def test_an_inactive_user_sees_nothing(city):
    user = city.users["admin"]
    user.is_active = False
    assert not access.visible_units(user).exists()
    assert access.roles_of(user) == frozenset()


def test_a_role_on_a_disabled_unit_reaches_nothing(city):
    Unit.objects.filter(pk=city.school_c.pk).update(is_active=False)
    assert not access.visible_units(city.outsider).exists()


def test_a_superuser_sees_everything(city):
    user = UserFactory(is_superuser=True)
    assert ids(access.visible_units(user)) == ids(Unit.objects.all())
    assert access.is_system_admin(user)


def test_a_new_school_in_a_district_is_seen_by_that_district_only(city, district_office):
    new = SchoolFactory(parent=city.district_b, name="西区新学校")
    assert new.pk not in ids(access.visible_units(district_office))
    assert new.pk in ids(access.visible_units(city.users["leader"]))
    assert new.pk not in ids(access.visible_units(city.outsider))


def test_reach_prefixes_do_not_match_a_sibling_whose_id_starts_alike():
    scope = Scope(
        everything=False,
        grants=(
            Grant("liaison", 2, "/1/2/"),
            Grant("liaison", 23, "/1/23/"),
            Grant("teacher", 5, "/1/2/5/"),
        ),
    )
    assert scope.paths() == ["/1/2/", "/1/23/"]
    assert scope.paths(frozenset({"teacher"})) == ["/1/2/5/"]


def test_scope_is_cached_and_forgotten(city):
    user = city.users["teacher"]
    assert access.roles_of(user) == {Role.TEACHER}
    MembershipFactory(user=user, unit=city.school_a, role=Role.LIAISON)
    assert access.roles_of(user) == {Role.TEACHER}  # cached for the request
    access.forget(user)
    assert access.roles_of(user) == {Role.TEACHER, Role.LIAISON}


# --- cross-school access by id -----------------------------------------------------------------------


def foreign_targets(city):
    """Ids the school_a roles may not reach: another district's school and a sibling school."""
    return [
        (city.school_c, SchoolClass.objects.filter(school=city.school_c).first()),
        (city.school_b, SchoolClass.objects.filter(school=city.school_b).first()),
    ]


@pytest.mark.parametrize("role", [*SCHOOL_A, "outsider"])
def test_pages_of_another_school_answer_404(client, city, role):
    user = user_for(city, role)
    client.force_login(user)
    own_school = city.school_c if role == "outsider" else city.school_a
    targets = (
        [(city.school_a, SchoolClass.objects.filter(school=city.school_a).first())]
        if role == "outsider"
        else foreign_targets(city)
    )
    # The same URLs work for the user's own school, so the 404s below are about reach.
    assert client.get(f"/org/units/{own_school.pk}/").status_code == 200
    assert client.get(f"/org/schools/{own_school.pk}/classes/").status_code == 200
    for school, klass in targets:
        before = SchoolClass.objects.get(pk=klass.pk).student_count
        for url in (
            f"/org/units/{school.pk}/",
            f"/org/units/{school.pk}/edit/",
            f"/org/schools/{school.pk}/classes/",
            f"/org/schools/{school.pk}/classes/new/",
            f"/org/classes/{klass.pk}/edit/",
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            body = response.content.decode()
            assert "页面不存在" in body, url
            assert school.name not in body, url
        response = client.post(
            f"/org/classes/{klass.pk}/edit/",
            {"grade": 11, "name": "改名", "head_teacher_name": "", "student_count": 99},
        )
        assert response.status_code == 404
        assert client.post(f"/org/classes/{klass.pk}/delete/").status_code == 404
        assert SchoolClass.objects.get(pk=klass.pk).student_count == before
    # The district above one's school is not reachable either.
    assert client.get(f"/org/units/{city.district_a.pk}/").status_code == 404


@pytest.mark.parametrize("role", [*SCHOOL_A, "outsider"])
def test_api_of_another_school_answers_404(client, city, role):
    client.force_login(user_for(city, role))
    own_school = city.school_c if role == "outsider" else city.school_a
    own_class = SchoolClass.objects.filter(school=own_school).first()
    assert client.get(f"/api/schools/{own_school.pk}").status_code == 200
    assert client.get(f"/api/classes/{own_class.pk}").status_code == 200
    targets = (
        [(city.school_a, SchoolClass.objects.filter(school=city.school_a).first())]
        if role == "outsider"
        else foreign_targets(city)
    )
    for school, klass in targets:
        for url in (
            f"/api/schools/{school.pk}",
            f"/api/schools/{school.pk}/classes",
            f"/api/units/{school.pk}",
            f"/api/classes/{klass.pk}",
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            assert response.json() == {"detail": NOT_FOUND}, url
    listed = client.get("/api/classes").json()["items"]
    assert {c["school_id"] for c in listed} == {own_school.pk}


def test_a_district_role_is_refused_the_other_district(client, city, district_office):
    client.force_login(district_office)
    klass = SchoolClass.objects.filter(school=city.school_c).first()
    assert client.get(f"/org/units/{city.school_b.pk}/").status_code == 200
    assert client.get(f"/org/units/{city.school_c.pk}/").status_code == 404
    assert client.get(f"/org/classes/{klass.pk}/edit/").status_code == 404
    assert client.get(f"/api/schools/{city.school_c.pk}").status_code == 404


# --- who may change classes ------------------------------------------------------------------------


def class_edit_post(client, klass, count):
    return client.post(
        f"/org/classes/{klass.pk}/edit/",
        {
            "grade": klass.grade,
            "name": klass.name,
            "head_teacher_name": klass.head_teacher_name,
            "student_count": count,
        },
    )


@pytest.mark.parametrize("role", [*BUREAU, *SCHOOL_A])
def test_who_may_edit_school_a_classes(client, city, role):
    client.force_login(city.users[role])
    klass = SchoolClass.objects.filter(school=city.school_a).order_by("pk").first()
    get = client.get(f"/org/classes/{klass.pk}/edit/")
    post = class_edit_post(client, klass, 50)
    klass.refresh_from_db()
    if role in CLASS_EDITORS:
        assert get.status_code == 200
        assert post.status_code == 302
        assert post["Location"] == f"/org/schools/{city.school_a.pk}/classes/"
        assert klass.student_count == 50
    else:
        assert get.status_code == 403
        assert post.status_code == 403
        assert "没有权限" in post.content.decode()
        assert klass.student_count == 45


@pytest.mark.parametrize("role", ["teacher", "archivist"])
def test_teachers_and_archivists_cannot_add_or_delete_classes(client, city, role):
    client.force_login(city.users[role])
    klass = SchoolClass.objects.filter(school=city.school_a).first()
    assert client.get(f"/org/schools/{city.school_a.pk}/classes/new/").status_code == 403
    response = client.post(
        f"/org/schools/{city.school_a.pk}/classes/new/",
        {"grade": 12, "name": "9班", "head_teacher_name": "", "student_count": 40},
    )
    assert response.status_code == 403
    assert client.post(f"/org/classes/{klass.pk}/delete/").status_code == 403
    assert SchoolClass.objects.filter(school=city.school_a).count() == 2


def test_the_liaison_adds_and_deletes_classes_of_their_school(client, city):
    client.force_login(city.users["liaison"])
    response = client.post(
        f"/org/schools/{city.school_a.pk}/classes/new/",
        {"grade": 12, "name": "9班", "head_teacher_name": "李老师", "student_count": 40},
    )
    assert response.status_code == 302
    klass = SchoolClass.objects.get(school=city.school_a, name="9班")
    assert client.post(f"/org/classes/{klass.pk}/delete/").status_code == 302
    assert not SchoolClass.objects.filter(pk=klass.pk).exists()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("admin", True),
        ("office", True),
        ("leader", False),
        ("dept_head", False),
        ("inspector", False),
        ("school_head", False),
        ("liaison", False),
    ],
)
def test_who_may_edit_a_school_record(client, city, role, allowed):
    client.force_login(city.users[role])
    assert client.get(f"/org/units/{city.school_a.pk}/edit/").status_code == (200 if allowed else 403)


# --- Django admin ----------------------------------------------------------------------------------


def test_admin_is_open_to_system_administrators(client, city):
    client.force_login(city.users["admin"])
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "创文平台 · 系统管理" in response.content.decode()


def walk(client, url, hops=6):
    """GET url and follow redirects by hand (the test client raises on a cycle), returning every answer."""
    answers = []
    for _ in range(hops):
        response = client.get(url)
        answers.append((url, response))
        if response.status_code != 302:
            break
        url = response["Location"]
    return answers


def staff_client(city, role):
    user = city.users[role]
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["office", "leader", "liaison"])
@pytest.mark.parametrize("url", ["/admin/", "/admin/accounts/user/", "/admin/core/auditevent/"])
def test_admin_is_closed_to_staff_who_are_not_system_administrators(city, role, url):
    client = staff_client(city, role)
    for hop, response in walk(client, url):
        assert response.status_code in (302, 403), hop
        assert "创文平台 · 系统管理" not in response.content.decode(), hop


def test_admin_answers_403_to_a_signed_in_user_without_the_role(city):
    answers = walk(staff_client(city, "office"), "/admin/")
    assert answers[-1][1].status_code == 403, [(url, r.status_code) for url, r in answers]


def test_admin_sends_anonymous_visitors_to_a_login_page(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "login" in response["Location"]
