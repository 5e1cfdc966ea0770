"""Permission-matrix rows of the mock evaluation (模拟测评): 系统管理员, 局领导 and 创文办 draw;
系统管理员 and 创文办 create the round. The city fixture has no scores, so the draws count
uninspected schools at 60."""

from __future__ import annotations

from tests.matrix import BUREAU_READ, UNIT_MANAGERS, Route


def _campaign(city):
    from chuangwen.ledger.tests.factories import make_setup

    return make_setup(city).campaign.pk


ROUTES: dict = {
    "reports:mock_draw": Route(
        lambda c, u: f"/reports/mock/?campaign={_campaign(c)}&n=2&seed=7&unscored=60", BUREAU_READ
    ),
    "reports:mock_round": Route(
        lambda c, u: "/reports/mock/round/",
        UNIT_MANAGERS,
        method="post",
        ok=302,
        data=lambda c, u: {"campaign": _campaign(c), "n": 2, "seed": 7, "threshold": 85, "unscored": 60},
    ),
    "api:mock_draw": Route(
        lambda c, u: f"/api/reports/mock/draw?campaign={_campaign(c)}&n=2&seed=7&unscored=60",
        BUREAU_READ,
        anon=401,
    ),
    # The matrix posts form data, which the JSON endpoint rejects (400) before any role check; who may
    # create is tested with JSON bodies in test_mock_api.py.
    "api:mock_create_round": Route(
        lambda c, u: "/api/reports/mock/rounds", "all", method="post", ok=400, anon=401
    ),
}
