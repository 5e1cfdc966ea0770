"""The browser fixtures of tests/e2e, for this app's end-to-end test (test_e2e.py)."""

from tests.e2e.conftest import browser, new_context, screenshot, site  # noqa: F401
