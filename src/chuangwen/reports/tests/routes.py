"""Permission-matrix rows of the reports pages (see tests/test_permission_matrix.py): dashboards and
rankings in routes_figures.py, the mock evaluation in routes_mock.py."""

from __future__ import annotations

from .routes_figures import ROUTES as FIGURES
from .routes_mock import ROUTES as MOCK

ROUTES: dict = {**FIGURES, **MOCK}
