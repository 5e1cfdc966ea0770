"""End-to-end fixtures: Debian's headless Chromium driven by Playwright against pytest-django's live server.

Never `playwright install`: the browser is the system package (`apt-get install chromium fonts-noto-cjk`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHUANGWEN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium tries to reach Google's services, and the network here is closed.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000

PHONE_WIDTH = 375
WECHAT_IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN"
)
PHONE = {
    "viewport": {"width": PHONE_WIDTH, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": WECHAT_IPHONE_UA,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def browser(django_db_setup):
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: install Debian's browser with `apt-get install chromium fonts-noto-cjk`"
        )
    from django.db import connections
    from playwright.sync_api import sync_playwright

    test_db_connections = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # Playwright's sync API keeps an event loop marked as running in this thread, so Django would
        # refuse ORM calls made here (fixtures, checks on the database) unless told they are safe...
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        # ...and would keep a second set of connections for "async" code, lacking what setting up the test
        # database put on the first (the in-memory SQLite database that the live server shares). Hand the
        # ORM the connections the test database was set up on.
        for alias, connection in test_db_connections.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser):
    """Open fresh browser contexts (no cookies shared with other tests); all are closed after the test."""
    contexts = []

    def open_context(**options):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def phone_page(new_context):
    return new_context(**PHONE).new_page()


@pytest.fixture
def desktop_page(new_context):
    return new_context(**DESKTOP).new_page()


@dataclass
class Site:
    """The live server as the browser sees it."""

    base_url: str

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


@pytest.fixture
def site(transactional_db, live_server, city):
    """The live server with the shared `city` data committed, so the server thread can read it.

    A transactional test empties every table afterwards, the audit chain head included; `audit.record`
    recreates that row when it is missing. (Serialized rollback would restore it too, but clashes with the
    content types that the flush's post_migrate recreates on PostgreSQL.)
    """
    return Site(live_server.url)


@pytest.fixture
def screenshot():
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
