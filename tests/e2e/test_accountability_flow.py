"""In the browser: the office records a 约谈 on a desktop; the school head, on a phone, finds it on the
school's history page and acknowledges it; every accountability page fits a 375 px screen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_login_flows import assert_no_horizontal_overflow, log_in

from chuangwen.accountability.models import Kind, Record
from chuangwen.core.roles import Role

pytestmark = pytest.mark.browser


def test_office_records_a_talk_and_the_head_acknowledges_on_a_phone(site, new_context, city, screenshot):
    from chuangwen.accountability import cards
    from chuangwen.accountability.models import CardRules

    CardRules.objects.create(pk=1, start_date=timezone.localdate() - dt.timedelta(days=40))
    cards.cards_evaluate()

    office = new_context(**DESKTOP).new_page()
    log_in(office, site, city.users[Role.OFFICE].username)
    office.goto(site.url("/accountability/new/"))
    office.get_by_label("单位").select_option(str(city.school_a.pk))
    office.get_by_label("类别").select_option("talk")
    office.get_by_label("事由").fill("本月逾期问题较多，约谈校长")
    office.get_by_label("约谈时间").fill("2026-11-25T09:30")
    office.get_by_label("约谈地点").fill("局三楼会议室")
    with office.expect_navigation():
        office.get_by_role("button", name="登记并通知该单位").click()
    record = Record.objects.get()
    assert record.kind == Kind.TALK and office.url.endswith(f"/accountability/{record.pk}/")

    head = new_context(**PHONE).new_page()
    log_in(head, site, city.users[Role.SCHOOL_HEAD].username)
    head.goto(site.url(f"/org/units/{city.school_a.pk}/"))
    head.get_by_test_id("accountability-link").click()
    head.wait_for_url(f"**/accountability/units/{city.school_a.pk}/")
    assert_no_horizontal_overflow(head)
    screenshot(head, "accountability-unit-phone")
    head.get_by_role("link", name=record.number).click()
    head.wait_for_url(f"**/accountability/{record.pk}/")
    assert_no_horizontal_overflow(head)
    head.get_by_label("确认意见").fill("按时参加约谈")
    with head.expect_navigation():
        head.get_by_role("button", name="确认已阅知").click()
    assert "按时参加约谈" in head.get_by_test_id("acknowledgement").inner_text()
    screenshot(head, "accountability-detail-phone")
    record.refresh_from_db()
    assert record.acknowledged_by == city.users[Role.SCHOOL_HEAD]

    for path in ("/accountability/", "/accountability/cards/"):
        head.goto(site.url(path))
        assert_no_horizontal_overflow(head)
    office_phone = new_context(**PHONE).new_page()
    log_in(office_phone, site, city.users[Role.OFFICE].username)
    for path in (
        "/accountability/",
        "/accountability/cards/",
        "/accountability/rules/",
        "/accountability/new/",
    ):
        office_phone.goto(site.url(path))
        assert_no_horizontal_overflow(office_phone)
    office_phone.goto(site.url(f"/accountability/{record.pk}/"))
    assert_no_horizontal_overflow(office_phone)
    screenshot(office_phone, "accountability-detail-office-phone")
