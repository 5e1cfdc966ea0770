"""模拟测评 on a 375 px phone in headless Chromium: draw with a blank seed, read the estimate, create the
round in one tap, land on the round page with exactly the drawn schools."""

from __future__ import annotations

import pytest
from tests.e2e.conftest import PHONE
from tests.e2e.test_login_flows import assert_no_horizontal_overflow, log_in

from chuangwen.campaigns.models import Round
from chuangwen.core.roles import Role
from chuangwen.reports.tests.test_mock import build_mock_city

pytestmark = pytest.mark.browser


def test_office_draws_and_creates_the_round_on_a_phone(site, new_context, city, screenshot):
    mc = build_mock_city(city)
    page = new_context(**PHONE).new_page()
    log_in(page, site, city.users[Role.OFFICE].username)
    page.goto(site.url("/reports/mock/"))
    assert_no_horizontal_overflow(page)
    page.get_by_label("抽样学校数").fill("4")
    with page.expect_navigation():
        page.get_by_test_id("draw").click()
    page.get_by_test_id("estimate").wait_for()
    seed = int(page.get_by_test_id("seed").inner_text())
    drawn = page.get_by_test_id("drawn-school").all_inner_texts()
    assert len(drawn) == 4
    assert "精确计算" in page.get_by_test_id("method").inner_text()
    assert mc.schools["k"].name in page.get_by_test_id("unscored").inner_text()
    assert_no_horizontal_overflow(page)
    screenshot(page, "mock-evaluation-phone")

    with page.expect_navigation():
        page.get_by_role("button", name="按此抽样创建模拟测评轮次").click()
    round_ = Round.objects.order_by("-pk").first()
    assert page.url.endswith(f"/campaigns/rounds/{round_.pk}/")
    assert round_.kind == Round.Kind.MOCK and round_.sample_seed == seed and round_.sample_size == 4
    names = list(round_.schools.values_list("name", flat=True))
    assert len(names) == 4 and all(any(name in line for line in drawn) for name in names)
    assert page.get_by_test_id("school").count() == 4
    assert_no_horizontal_overflow(page)
