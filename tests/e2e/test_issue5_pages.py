"""The dashboards, bulletins and accountability pages on a 375 px phone (WeChat's browser): every main page
opens for the roles that use it, fits the screen (tables scroll inside their own box), and a number on the
dashboard leads to a ledger list showing as many problems."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from tests.e2e.conftest import PHONE
from tests.e2e.test_login_flows import assert_no_horizontal_overflow, log_in

from chuangwen.core.roles import Role

pytestmark = pytest.mark.browser


@pytest.fixture
def issue5(city):
    """The reports factory's campaign, an issued bulletin of its first mock round, and a 约谈 of school A."""
    from chuangwen.accountability.models import Kind
    from chuangwen.accountability.services import record_create
    from chuangwen.bulletins import services as bulletins
    from chuangwen.reports.tests.factories import build

    data = build(city)
    office = city.users[Role.OFFICE]
    bulletin = bulletins.bulletin_create(campaign=data.campaign, round=data.round1, actor=office)
    bulletin = bulletins.bulletin_issue(bulletin=bulletin, actor=office)
    talk = record_create(
        kind=Kind.TALK,
        unit=city.school_a,
        reason="逾期问题未整改，约谈学校主要负责人",
        date=timezone.localdate(),
        actor=office,
        talk_at=timezone.now() + dt.timedelta(days=1),
        talk_place="局三楼会议室",
    )
    return {"data": data, "bulletin": bulletin, "talk": talk}


def _visit(page, site, path: str) -> None:
    response = page.goto(site.url(path))
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    assert_no_horizontal_overflow(page)


def test_office_pages_fit_a_phone(site, new_context, city, issue5, screenshot):
    page = new_context(**PHONE).new_page()
    log_in(page, site, city.users[Role.OFFICE].username)
    bulletin, talk = issue5["bulletin"], issue5["talk"]
    for path in (
        "/reports/",
        "/reports/rankings/",
        f"/reports/schools/{city.school_a.pk}/",
        "/reports/mock/",
        "/bulletins/",
        "/bulletins/new/",
        f"/bulletins/{bulletin.pk}/",
        "/bulletins/schedules/",
        "/accountability/",
        "/accountability/new/",
        "/accountability/cards/",
        "/accountability/rules/",
        f"/accountability/{talk.pk}/",
    ):
        _visit(page, site, path)
    screenshot(page, "issue5-office-talk-phone")


def test_school_head_pages_fit_a_phone_and_other_schools_are_hidden(site, new_context, city, issue5):
    page = new_context(**PHONE).new_page()
    log_in(page, site, city.users[Role.SCHOOL_HEAD].username)
    bulletin, talk = issue5["bulletin"], issue5["talk"]
    for path in (
        f"/reports/schools/{city.school_a.pk}/",
        "/bulletins/",
        f"/bulletins/{bulletin.pk}/",
        "/accountability/",
        f"/accountability/{talk.pk}/",
    ):
        _visit(page, site, path)
    # The 约谈 waits for this head's acknowledgement.
    assert page.get_by_role("button", name=re.compile("确认")).count() >= 1
    # Another school's dashboard and the city dashboard: a Chinese 404 / 403 page, not the data.
    other = page.goto(site.url(f"/reports/schools/{city.school_b.pk}/"))
    assert other.status == 404 and "页面不存在" in page.content()
    assert_no_horizontal_overflow(page)
    city_page = page.goto(site.url("/reports/"))
    assert city_page.status == 403 and "没有权限" in page.content()


def test_dashboard_numbers_lead_to_ledger_lists_of_that_many(site, new_context, city, issue5):
    """待整改 and 逾期 on the city dashboard, tapped on a phone: the ledger list (filtered by the campaign)
    says 共 N 条 for the same N."""
    page = new_context(**PHONE).new_page()
    log_in(page, site, city.users[Role.OFFICE].username)
    for testid in ("kpi-open", "kpi-overdue"):
        page.goto(site.url("/reports/"))
        link = page.get_by_test_id(testid).locator("a")
        shown = int(link.inner_text())
        link.click()
        page.wait_for_url(re.compile(r"/ledger/"))
        body = page.locator("main").inner_text()
        found = re.search(r"共 (\d+) 条", body)
        listed = int(found.group(1)) if found else 0
        assert listed == shown, (testid, page.url)
        assert f"campaign={issue5['data'].campaign.pk}" in page.url
        assert_no_horizontal_overflow(page)
