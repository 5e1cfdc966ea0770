"""Permission-matrix rows of the reports pages (see tests/test_permission_matrix.py)."""

from __future__ import annotations

from tests.matrix import Route  # noqa: F401

ROUTES: dict = {}
