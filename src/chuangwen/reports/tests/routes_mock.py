from __future__ import annotations

from tests.matrix import Route  # noqa: F401

ROUTES: dict = {}
