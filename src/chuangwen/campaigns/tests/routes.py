"""Permission-matrix rows of the campaigns pages and API (see tests/test_permission_matrix.py)."""

from __future__ import annotations

from tests.matrix import ALL, UNIT_MANAGERS, Route


def _campaign(city):
    from chuangwen.campaigns.models import Campaign

    from .factories import make_campaign

    return Campaign.objects.filter(name="矩阵创建周期").first() or make_campaign(city, name="矩阵创建周期")


def _round(city):
    """An announced round over school_a, so every role that reaches school_a may see it."""
    from .factories import make_round

    return make_round(city, campaign=_campaign(city)).pk


ROUTES: dict[str, Route] = {
    "campaigns:round_list": Route(lambda c, u: "/campaigns/", ALL),
    "campaigns:campaign_create": Route(lambda c, u: "/campaigns/new/", UNIT_MANAGERS),
    "campaigns:round_create": Route(lambda c, u: f"/campaigns/{_campaign(c).pk}/rounds/new/", UNIT_MANAGERS),
    "campaigns:round_detail": Route(lambda c, u: f"/campaigns/rounds/{_round(c)}/", ALL),
    "campaigns:round_inspectors": Route(
        lambda c, u: f"/campaigns/rounds/{_round(c)}/inspectors/", UNIT_MANAGERS
    ),
    "campaigns:round_transition": Route(
        lambda c, u: f"/campaigns/rounds/{_round(c)}/transition/",
        UNIT_MANAGERS,
        method="post",
        ok=302,
        data=lambda c, u: {"to": "in_progress"},
    ),
    "campaigns:round_follow_up": Route(
        lambda c, u: f"/campaigns/rounds/{_round(c)}/follow-up/", UNIT_MANAGERS
    ),
    "api:list_campaigns": Route(lambda c, u: "/api/campaigns/", ALL, anon=401),
    "api:list_rounds": Route(lambda c, u: "/api/campaigns/rounds", ALL, anon=401),
    "api:get_round": Route(lambda c, u: f"/api/campaigns/rounds/{_round(c)}", ALL, anon=401),
    # The matrix posts form data, which the JSON endpoints refuse (400) before any permission check;
    # who may write is tested in test_api_writes.py.
    "api:create_round": Route(lambda c, u: "/api/campaigns/rounds", ALL, method="post", ok=400, anon=401),
    "api:set_round_inspectors": Route(
        lambda c, u: f"/api/campaigns/rounds/{_round(c)}/inspectors", ALL, method="put", ok=422, anon=401
    ),
    "api:transition_round": Route(
        lambda c, u: f"/api/campaigns/rounds/{_round(c)}/transition", ALL, method="post", ok=400, anon=401
    ),
}
