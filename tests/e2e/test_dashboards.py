"""The dashboards in a real browser: the city dashboard and the 大屏 draw their ECharts charts and show the
figures; a school head sees their own school's dashboard and gets the 404 page for another school.
Screenshots go to test-artifacts/screenshots/ (kept by CI as artifacts)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import PHONE
from tests.e2e.test_login_flows import assert_no_horizontal_overflow, log_in

from chuangwen.core.roles import Role
from chuangwen.ledger import services as ledger

pytestmark = pytest.mark.browser

SCREEN = {"viewport": {"width": 1920, "height": 1080}}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}


def assert_charts_drawn(page, expected: int) -> None:
    """Every chart container holds an ECharts canvas with a real size."""
    charts = page.get_by_test_id("chart")
    assert charts.count() == expected
    for i in range(expected):
        canvas = charts.nth(i).locator("canvas").first
        canvas.wait_for()
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, f"chart {i} is {box}"


def test_city_dashboard_and_screen_draw_their_charts(site, new_context, city, screenshot):
    from chuangwen.ledger.models import OPEN_STATUSES, Status
    from chuangwen.reports import figures
    from chuangwen.reports.tests.factories import build

    data = build(city)
    c = figures.city_figures(campaign=data.campaign)

    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, site, city.users[Role.LEADER].username)
    page.goto(site.url("/reports/"))
    assert page.get_by_test_id("kpi-score").inner_text() == f"{c.score:.2f}"
    # 待整改: the ledger's 未销号（待整改） (待交办, 已交办, 整改中), 待复核 shown apart.
    todo = sum(n for status, n in c.by_status.items() if status in OPEN_STATUSES)
    assert page.get_by_test_id("kpi-open").inner_text() == str(todo)
    assert page.get_by_test_id("kpi-review").inner_text() == str(c.by_status.get(Status.PENDING_REVIEW, 0))
    assert page.get_by_test_id("kpi-overdue").inner_text() == str(c.overdue)
    assert_charts_drawn(page, page.get_by_test_id("chart").count())
    assert page.get_by_test_id("chart").count() >= 7
    worst = figures.lost_points(campaign=data.campaign, limit=1)[0]
    assert (
        page.get_by_test_id("lost-table")
        .locator(f"a[href='/ledger/?standard={worst.standard_id}&campaign={data.campaign.pk}']")
        .count()
    )
    screenshot(page, "dashboard-city")

    phone = new_context(**PHONE).new_page()
    log_in(phone, site, city.users[Role.OFFICE].username)
    phone.goto(site.url("/reports/"))
    assert_charts_drawn(phone, phone.get_by_test_id("chart").count())
    assert_no_horizontal_overflow(phone)
    screenshot(phone, "dashboard-city-phone")

    for name, options in (("dashboard-screen-1080p", SCREEN), ("dashboard-screen-laptop", LAPTOP)):
        screen = new_context(**options).new_page()
        log_in(screen, site, city.users[Role.LEADER].username)
        screen.goto(site.url("/reports/screen/"))
        assert_charts_drawn(screen, 6)
        score = screen.locator("[data-kpi=score]")
        assert score.inner_text() == f"{c.score:.2f}"
        assert screen.locator("[data-kpi=overdue]").inner_text() == str(c.overdue)
        assert screen.get_by_test_id("clock").inner_text().count(":") == 2
        assert_no_horizontal_overflow(screen)
        screenshot(screen, name)

    # The 大屏 refreshes itself from the API: a problem voided meanwhile leaves the open count at once
    # (the refresh is run now rather than waiting its minute).
    open_before = screen.locator("[data-kpi=open]").inner_text()
    ledger.problem_move(
        problem=data.problems["b_new"], code="void", actor=city.users[Role.OFFICE], reason="重复"
    )
    with screen.expect_response(lambda r: "/api/reports/dashboard" in r.url and r.status == 200):
        screen.evaluate("window.CWScreen.refresh()")
    expect(screen.locator("[data-kpi=open]")).to_have_text(str(int(open_before) - 1))
    assert_charts_drawn(screen, 6)


def test_school_head_sees_only_their_own_school(site, new_context, city, screenshot):
    from chuangwen.reports import figures
    from chuangwen.reports.tests.factories import build

    data = build(city)
    mine = figures.school_figures(campaign=data.campaign, schools=[city.school_a.pk], hide_embargoed=True)[0]
    page = new_context(**PHONE).new_page()
    log_in(page, site, city.users[Role.SCHOOL_HEAD].username)
    page.goto(site.url(f"/reports/schools/{city.school_a.pk}/"))
    assert city.school_a.name in page.get_by_test_id("school-name").inner_text()
    assert page.get_by_test_id("kpi-score").inner_text() == f"{mine.score:.2f}"
    assert page.get_by_test_id("kpi-rank").inner_text().startswith(str(mine.rank))
    assert_charts_drawn(page, 2)
    assert_no_horizontal_overflow(page)
    screenshot(page, "dashboard-school-head")

    response = page.goto(site.url(f"/reports/schools/{city.school_c.pk}/"))
    assert response.status == 404
    assert city.school_c.name not in page.content()
    response = page.goto(site.url("/reports/"))
    assert response.status == 403
