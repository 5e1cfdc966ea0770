"""Flows a person does end to end: logging in (also on a phone in WeChat), scope, lockout, logout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from chuangwen.core.roles import Role

pytestmark = pytest.mark.browser

PASSWORD = "Chuangwen#2026"  # every user of the `city` fixture has it
WRONG_PASSWORD = "not-the-password-1"
LOGIN_PATH = re.compile(r"/accounts/login/")


def log_in(page, site, username: str, password: str = PASSWORD):
    """Fill in the login form and return the response to the form's POST."""
    page.goto(site.url("/accounts/login/"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="登录").click()
    return navigation.value


def assert_no_horizontal_overflow(page) -> None:
    viewport = page.viewport_size["width"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport + 1, f"{page.url} is {width}px wide on a {viewport}px screen"


def nav_link(page, name: str):
    return page.locator("#cw-nav").get_by_role("link", name=name, exact=True)


def units_menu_link(page, name: str):
    """A link of the 单位与管理 menu, with the menu opened (its items are hidden until then)."""
    page.get_by_test_id("nav-units").click()
    return nav_link(page, name)


def unit_table_names(page) -> list[str]:
    return page.get_by_test_id("unit-table").locator("tbody tr td:first-child a").all_inner_texts()


def test_liaison_on_phone_in_wechat_sees_only_own_school(site, city, phone_page, screenshot):
    page = phone_page
    liaison = city.users[Role.LIAISON]

    response = log_in(page, site, liaison.username)

    assert response.ok
    assert page.url == site.url("/")
    assert page.get_by_role("heading", name="我的工作台").is_visible()
    memberships = page.get_by_test_id("my-memberships")
    assert "东区第一小学" in memberships.inner_text()
    assert "创文联络员" in memberships.inner_text()
    assert_no_horizontal_overflow(page)
    screenshot(page, "mobile-workbench")

    # At 375 px the menu is collapsed behind the toggler.
    units_link = nav_link(page, "单位与学校")
    assert not units_link.is_visible()
    page.get_by_role("button", name="菜单").click()
    page.locator("#cw-nav.collapse.show").wait_for()  # the menu has finished sliding open
    screenshot(page, "mobile-menu-open")
    units_menu_link(page, "单位与学校").click()
    page.wait_for_url(site.url("/org/units/"))

    assert unit_table_names(page) == ["东区第一小学"]
    assert_no_horizontal_overflow(page)
    screenshot(page, "mobile-unit-list")

    response = page.goto(site.url(f"/org/units/{city.school_c.pk}/"))

    assert response.status in (403, 404)
    assert page.get_by_role("heading", name=re.compile("页面不存在|没有权限")).is_visible()
    assert "西区第二小学" not in page.content()
    assert_no_horizontal_overflow(page)
    screenshot(page, "mobile-other-school-refused")


def test_five_wrong_passwords_lock_the_account_but_not_the_browser(site, city, phone_page, screenshot):
    page = phone_page
    teacher = city.users[Role.TEACHER]

    for _ in range(4):
        response = log_in(page, site, teacher.username, WRONG_PASSWORD)
        assert response.status == 200
        assert page.get_by_test_id("login-error").is_visible()
        assert not page.get_by_test_id("lockout").is_visible()
    response = log_in(page, site, teacher.username, WRONG_PASSWORD)

    assert response.status == 403
    assert "锁定" in page.get_by_test_id("lockout").inner_text()
    assert_no_horizontal_overflow(page)
    screenshot(page, "mobile-lockout")

    response = log_in(page, site, teacher.username, PASSWORD)

    assert response.status == 403
    assert "锁定" in page.get_by_test_id("lockout").inner_text()
    assert LOGIN_PATH.search(page.url)
    assert page.goto(site.url("/")).ok
    assert LOGIN_PATH.search(page.url), "a locked-out user must not have a session"

    # Lockout is by username: a colleague behind the same IP, in the same browser, still gets in.
    response = log_in(page, site, city.users[Role.LIAISON].username)

    assert response.ok
    assert page.url == site.url("/")
    assert page.get_by_test_id("current-user").inner_text() == city.users[Role.LIAISON].name


def test_office_sees_every_school_but_not_user_management(site, city, desktop_page, screenshot):
    page = desktop_page

    log_in(page, site, city.users[Role.OFFICE].username)
    units_menu_link(page, "单位与学校").click()
    page.wait_for_url(site.url("/org/units/"))

    names = unit_table_names(page)
    assert {"东区第一小学", "东区实验初级中学", "西区第二小学"} <= set(names)
    assert nav_link(page, "用户管理").count() == 0
    assert nav_link(page, "系统管理").count() == 0
    screenshot(page, "desktop-unit-list-office")

    response = page.goto(site.url("/org/users/"))

    assert response.status == 403
    assert page.get_by_role("heading", name="没有权限").is_visible()


def test_office_cannot_open_the_admin(site, city, desktop_page):
    page = desktop_page
    log_in(page, site, city.users[Role.OFFICE].username)

    response, error = None, ""
    try:
        response = page.goto(site.url("/admin/"))
    except PlaywrightError as exc:  # e.g. a redirect loop between the admin's and the product's login pages
        error = exc.message.splitlines()[0]
    assert response is not None, f"/admin/ for a signed-in user without the admin role: {error}"

    # Refused (403), or shown a login page: the admin's own or the product's.
    assert response.status == 403 or re.search(r"/admin/login/|/accounts/login/", page.url)
    assert page.get_by_role("heading", name="数据管理").count() == 0


def test_system_admin_opens_user_management_and_the_admin(site, city, desktop_page):
    page = desktop_page

    log_in(page, site, city.users[Role.ADMIN].username)
    units_menu_link(page, "用户管理").click()
    page.wait_for_url(site.url("/org/users/"))

    assert page.get_by_role("heading", name="用户管理").is_visible()
    assert city.users[Role.LIAISON].username in page.get_by_test_id("user-table").inner_text()

    units_menu_link(page, "系统管理").click()
    page.wait_for_url(site.url("/admin/"))

    assert page.get_by_role("heading", name="数据管理").is_visible()


def test_logout_ends_the_session(site, city, phone_page):
    page = phone_page
    log_in(page, site, city.users[Role.SCHOOL_HEAD].username)
    assert page.url == site.url("/")

    page.get_by_role("button", name="菜单").click()
    # Wait until Bootstrap's collapse has finished opening: a click during the animation can be lost.
    page.locator("#cw-nav.collapse.show").wait_for(state="visible")
    with page.expect_navigation(url=LOGIN_PATH):
        page.get_by_role("button", name="退出").click()

    page.goto(site.url("/"))

    assert LOGIN_PATH.search(page.url)
    assert page.get_by_role("button", name="登录").is_visible()
    assert page.get_by_test_id("current-user").count() == 0
