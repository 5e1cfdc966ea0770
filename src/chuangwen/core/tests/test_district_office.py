"""A 创文办 held on a district (区县创文办) works on its district's schools and problems, and manages none of
the city-wide things: the index, campaigns and rounds, the ledger's rules and bulk moves, bulletins and
their 文号, the card rules, the mock evaluation, the audit log (core.access.runs_the_city; decision 0024)."""

import pytest
from django.urls import reverse

from chuangwen.core import access
from chuangwen.core.roles import Role
from chuangwen.org.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CITY_WIDE_PAGES = [
    "index:edition_create",
    "campaigns:campaign_create",
    "ledger:settings",
    "bulletins:create",
    "bulletins:settings",
    "bulletins:schedules",
    "accountability:rules",
    "reports:mock_draw",
    "core:audit_list",
]


@pytest.fixture
def district_office(city):
    user = UserFactory(username="east_office", name="东区创文办")
    MembershipFactory(user=user, unit=city.district_a, role=Role.OFFICE)
    return user


@pytest.fixture
def district_leader(city):
    user = UserFactory(username="east_leader", name="东区局领导")
    MembershipFactory(user=user, unit=city.district_a, role=Role.LEADER)
    return user


def test_the_same_role_on_the_bureau_runs_the_city_and_on_a_district_does_not(city, district_office):
    office = city.users[Role.OFFICE]
    assert access.can_manage_campaigns(office) and access.can_manage_index(office)
    assert access.can_view_audit(office) and access.can_view_audit(city.users[Role.LEADER])
    assert not access.can_manage_campaigns(district_office)
    assert not access.can_manage_index(district_office)
    assert not access.can_view_audit(district_office)
    # Their own district's units they still manage.
    assert access.can_change_unit(district_office, city.school_a)
    assert not access.can_change_unit(district_office, city.school_c)


@pytest.mark.parametrize("name", CITY_WIDE_PAGES)
def test_a_district_office_is_refused_the_city_wide_pages(client, city, district_office, name):
    client.force_login(district_office)
    response = client.get(reverse(name))
    assert response.status_code == 403, name
    assert "没有权限" in response.content.decode()
    client.force_login(city.users[Role.OFFICE])
    assert client.get(reverse(name)).status_code == 200, name


def test_a_district_leader_does_not_read_the_citys_audit_log(client, city, district_leader):
    client.force_login(district_leader)
    assert client.get(reverse("core:audit_list")).status_code == 403
    client.force_login(city.users[Role.LEADER])
    assert client.get(reverse("core:audit_list")).status_code == 200


def test_a_district_office_still_works_its_districts_ledger_and_dashboards(client, city, district_office):
    client.force_login(district_office)
    ledger = client.get(reverse("ledger:list")).content.decode()
    assert 'name="district"' in ledger and "批量处理" not in ledger and "整改规则" not in ledger
    assert client.get(reverse("reports:school", args=[city.school_a.pk])).status_code == 200
    assert client.get(reverse("reports:school", args=[city.school_c.pk])).status_code == 404
    menu = client.get("/").content.decode()
    assert reverse("core:audit_list") not in menu


def test_a_district_offices_dashboard_is_named_after_its_district(client, city, district_office):
    from chuangwen.reports.tests.factories import build

    build(city)
    client.force_login(district_office)
    html = client.get(reverse("reports:city")).content.decode()
    assert "全市得分" not in html and "所选学校得分" in html and "东区" in html
    assert city.school_a.name in html and city.school_c.name not in html
    # Another district's id does not widen the view: still their own district.
    other = client.get(reverse("reports:city") + f"?district={city.district_b.pk}").content.decode()
    assert city.school_c.name not in other and "东区" in other
