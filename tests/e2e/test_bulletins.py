"""Bulletins in a real browser on a phone: the office generates a draft, edits it, previews and issues it
(with the confirmation page); a school head then reads it and downloads the PDF. No page is wider than
the phone. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from tests.e2e.conftest import PHONE
from tests.e2e.test_login_flows import assert_no_horizontal_overflow, log_in

from chuangwen.bulletins.models import Bulletin
from chuangwen.core.roles import Role

pytestmark = pytest.mark.browser


def test_office_issues_a_bulletin_and_a_school_reads_it(site, new_context, city, screenshot):
    from chuangwen.reports.tests.factories import build

    data = build(city)
    page = new_context(**PHONE).new_page()
    log_in(page, site, city.users[Role.OFFICE].username)

    page.goto(site.url("/bulletins/new/"))
    page.get_by_label("创建周期").select_option(str(data.campaign.pk))
    page.get_by_label("起始日期").fill("2026-09-01")
    page.get_by_label("截止日期").fill("2027-06-30")
    assert_no_horizontal_overflow(page)
    with page.expect_navigation():
        page.get_by_role("button", name="生成草稿").click()
    assert "/edit/" in page.url
    page.get_by_label("标题").fill("关于创文工作情况的通报（测试）")
    page.get_by_label("通报表扬").select_option([str(city.school_b.pk)])
    page.get_by_label("通报批评").select_option([str(city.school_a.pk)])
    assert_no_horizontal_overflow(page)
    screenshot(page, "bulletin-edit-phone")
    with page.expect_navigation():
        page.get_by_role("button", name="保存并预览").click()

    assert page.get_by_role("heading", name="关于创文工作情况的通报（测试）").count()
    assert page.locator("figure img").count() == 3
    screenshot(page, "bulletin-preview-phone")
    assert_no_horizontal_overflow(page)
    page.get_by_role("link", name="印发…").click()
    assert page.get_by_text("不能再修改或删除").count()
    screenshot(page, "bulletin-issue-phone")
    assert_no_horizontal_overflow(page)
    with page.expect_navigation():
        page.get_by_test_id("confirm-issue").click()

    bulletin = Bulletin.objects.get()
    assert bulletin.status == Bulletin.Status.ISSUED and bulletin.number
    assert page.get_by_text(bulletin.number).first.is_visible()
    screenshot(page, "bulletin-issued-phone")

    school = new_context(**PHONE, accept_downloads=True).new_page()
    log_in(school, site, city.users[Role.SCHOOL_HEAD].username)
    school.goto(site.url("/bulletins/"))
    assert school.get_by_test_id("bulletin").count() == 1
    assert_no_horizontal_overflow(school)
    school.get_by_test_id("bulletin").first.click()
    school.wait_for_url(f"**/bulletins/{bulletin.pk}/")
    assert school.get_by_role("button", name="重新印发（更正）").count() == 0
    assert_no_horizontal_overflow(school)
    with school.expect_download() as download:
        school.get_by_role("link", name="下载 PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert bulletin.number in download.value.suggested_filename
    screenshot(school, "bulletin-school-phone")
