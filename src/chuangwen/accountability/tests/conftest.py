"""Browser fixtures for this app's end-to-end test (test_e2e.py), built on tests/e2e.

tests/e2e/conftest.py's Chromium is session-scoped and lives in a `sync_playwright()` context, and
Playwright allows only one such context per thread. So `browser` here reuses that session browser when it
is already running in this process, and otherwise starts one of its own for this test only (closed after
it, before tests/e2e would start theirs). Moving test_e2e.py under tests/e2e/ would make this file
unnecessary.
"""

from __future__ import annotations

import asyncio

import pytest
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, new_context, screenshot, site  # noqa: F401


def _fixturedefs(manager, name: str):
    """The FixtureDefs registered under `name` (pytest keeps them in a private table whose name changed
    between versions; nothing is found if it changes again, and the test then skips instead of failing)."""
    for attr in ("_arg2fixturedefs", "_arg2nodeid2fixturedefs", "_arg2node2fixturedefs"):
        table = getattr(manager, attr, None)
        if not table or name not in table:
            continue
        entry = table[name]
        for defs in entry.values() if isinstance(entry, dict) else [entry]:
            yield from defs


def _running_e2e_browser(request):
    for fixturedef in _fixturedefs(request._fixturemanager, "browser"):
        cached = getattr(fixturedef, "cached_result", None)
        if str(getattr(fixturedef, "baseid", "")).endswith("tests/e2e") and cached and cached[0]:
            return cached[0]
    return None


@pytest.fixture
def browser(request, django_db_setup):
    shared = _running_e2e_browser(request)
    if shared is not None:
        yield shared
        return
    if asyncio._get_running_loop() is not None:
        pytest.skip("another Playwright instance runs in this thread")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's browser with `apt-get install chromium`")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    test_db_connections = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # As in tests/e2e/conftest.py: the ORM may be used beside Playwright's loop, on the same connections.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        for alias, connection in test_db_connections.items():
            connections[alias] = connection
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
