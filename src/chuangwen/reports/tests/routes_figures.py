"""Permission-matrix rows of the dashboards and rankings (see tests/test_permission_matrix.py).

The city dashboard, the 大屏 and the rankings (page, export, API) are for bureau roles; a school's
dashboard for bureau roles and school_a's own people (every school role holds its post on school_a).
"""

from __future__ import annotations

from tests.matrix import ALL, Route

from chuangwen.core.roles import BUREAU_ROLES

BUREAU = set(BUREAU_ROLES)

ROUTES: dict = {
    "reports:city": Route(lambda c, u: "/reports/", BUREAU),
    "reports:screen": Route(lambda c, u: "/reports/screen/", BUREAU),
    "reports:school": Route(lambda c, u: f"/reports/schools/{c.school_a.pk}/", ALL),
    "reports:rankings": Route(lambda c, u: "/reports/rankings/", BUREAU),
    "reports:rankings_export": Route(lambda c, u: "/reports/rankings.xlsx", BUREAU),
    "api:reports_dashboard": Route(lambda c, u: "/api/reports/dashboard", BUREAU, anon=401),
    "api:reports_rankings": Route(lambda c, u: "/api/reports/rankings?sort=overdue", BUREAU, anon=401),
    "api:reports_school": Route(lambda c, u: f"/api/reports/schools/{c.school_a.pk}", ALL, anon=401),
}
