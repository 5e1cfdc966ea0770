"""The 模拟测评 page, its one-click round and its API: what is shown, what is created, who may, bad input."""

from __future__ import annotations

import re

import pytest

from chuangwen.campaigns.models import Campaign, Round
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.org.models import Unit
from chuangwen.reports import mock

from .test_mock import build_mock_city

URL = "/reports/mock/"
ROUND_URL = "/reports/mock/round/"
API = "/api/reports/mock/draw"
API_ROUND = "/api/reports/mock/rounds"
SCHOOL_ROLES = (Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST, Role.TEACHER)


@pytest.fixture
def mc(city):
    return build_mock_city(city)


def login(client, mc, role=Role.OFFICE):
    client.force_login(mc.city.users[role])
    return mc.city.users[role]


def rounds():
    return Round.objects.count()


# --- the page --------------------------------------------------------------------------------------


def test_empty_form_defaults_to_the_active_campaign(client, mc):
    login(client, mc, Role.LEADER)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{mc.campaign.pk}" selected>' in html
    assert 'value="85"' in html and 'data-testid="estimate"' not in html


def test_blank_seed_is_drawn_and_put_in_the_address(client, mc):
    login(client, mc)
    response = client.get(URL, {"campaign": mc.campaign.pk, "n": 4, "seed": "", "threshold": 85})
    assert response.status_code == 302
    seed = int(re.search(r"seed=(\d+)", response["Location"]).group(1))
    page = client.get(response["Location"]).content.decode()
    assert f'data-testid="seed">{seed}<' in page
    expected = mock.mock_draw(campaign=mc.campaign, n=4, seed=seed, actor=mc.office)
    for school in expected.schools:
        assert school.name in page


def test_result_shows_draw_strata_estimate_and_losses(client, mc):
    login(client, mc)
    response = client.get(URL, {"campaign": mc.campaign.pk, "n": 5, "seed": 2026, "threshold": 85})
    html = response.content.decode()
    result = mock.mock_draw(campaign=mc.campaign, n=5, seed=2026, actor=mc.office)
    assert html.count('data-testid="drawn-school"') == 5
    assert html.count('data-testid="stratum"') == len(result.strata) == 4
    assert f"{result.estimate.mean:.2f}" in html
    assert f"{result.estimate.se:.2f}" in html
    assert f"{result.draw_mean:.2f}" in html
    assert "精确计算" in html and "正态" in html
    # the uninspected kindergarten is named as excluded
    assert "1 所学校本周期还没有检查得分，未纳入抽样和估计" in html and mc.schools["k"].name in html
    # the likely-losing standards link to the ledger
    top = result.likely[0]
    assert f"/ledger/?standard={top.standard_id}" in html
    assert "按此抽样创建模拟测评轮次" in html


def test_leader_sees_the_draw_but_no_create_button(client, mc):
    login(client, mc, Role.LEADER)
    html = client.get(URL, {"campaign": mc.campaign.pk, "n": 3, "seed": 1, "threshold": 85}).content.decode()
    assert 'data-testid="estimate"' in html
    assert "按此抽样创建模拟测评轮次" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n": 0}, "抽样学校数必须至少为 1"),
        ({"n": -2}, "抽样学校数必须至少为 1"),
        ({"n": "abc"}, "抽样学校数必须是正整数"),
        ({"n": 11}, "抽样学校数不能超过可抽样的学校数（10 所）"),
        ({"n": 3, "seed": "abc"}, "随机种子必须是整数"),
        ({"n": 3, "seed": "-5"}, "随机种子不能为负数"),
        ({"n": 3, "threshold": "x"}, "达标线必须是 0～100 的数字"),
        ({"n": 3, "unscored": "101"}, "未检查学校计分不能大于 100"),
        ({"n": 3, "campaign": "999999"}, "请选择一个创建周期"),
    ],
)
def test_bad_input_on_the_page(client, mc, params, message):
    login(client, mc)
    data = {"campaign": mc.campaign.pk, "seed": 1, "threshold": 85, **params}
    response = client.get(URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'data-testid="estimate"' not in html


# --- the one-click round ---------------------------------------------------------------------------


def test_one_click_round_has_exactly_the_drawn_schools(client, mc):
    login(client, mc)
    result = mock.mock_draw(campaign=mc.campaign, n=6, seed=4242, actor=mc.office)
    before = rounds()
    response = client.post(
        ROUND_URL, {"campaign": mc.campaign.pk, "n": 6, "seed": 4242, "threshold": 85, "unscored": ""}
    )
    assert rounds() == before + 1
    round_ = Round.objects.order_by("-pk").first()
    assert response.status_code == 302 and response["Location"] == f"/campaigns/rounds/{round_.pk}/"
    assert round_.kind == Round.Kind.MOCK
    assert round_.campaign == mc.campaign
    assert round_.sample_seed == 4242 and round_.sample_size == 6
    assert sorted(round_.schools.values_list("pk", flat=True)) == sorted(s.school_id for s in result.schools)
    assert round_.sample_strata == result.strata_record
    assert "4242" in round_.name
    event = AuditEvent.objects.filter(event_type="round.create").order_by("-pk").first()
    assert event.data["sample_seed"] == 4242


def test_one_click_round_counting_uninspected_schools(client, mc):
    login(client, mc, Role.ADMIN)
    result = mock.mock_draw(campaign=mc.campaign, n=11, seed=5, unscored_value=60, actor=mc.office)
    response = client.post(
        ROUND_URL, {"campaign": mc.campaign.pk, "n": 11, "seed": 5, "threshold": 85, "unscored": "60"}
    )
    assert response.status_code == 302
    round_ = Round.objects.order_by("-pk").first()
    assert sorted(round_.schools.values_list("pk", flat=True)) == sorted(s.school_id for s in result.schools)
    assert mc.schools["k"] in round_.schools.all()


def test_page_button_posts_what_the_page_shows(client, mc):
    """The hidden fields of the button carry the page's campaign, n, seed and treatment."""
    login(client, mc)
    html = client.get(
        URL, {"campaign": mc.campaign.pk, "n": 4, "seed": 31, "threshold": 85, "unscored": "50"}
    ).content.decode()
    form = re.search(r'<form method="post" action="/reports/mock/round/".*?</form>', html, re.S).group(0)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    assert fields["n"] == "4" and fields["seed"] == "31" and fields["campaign"] == str(mc.campaign.pk)
    assert fields["unscored"] == "50"
    drawn = mock.mock_draw(campaign=mc.campaign, n=4, seed=31, unscored_value=50, actor=mc.office)
    assert fields["schools"] == ",".join(str(s.school_id) for s in drawn.schools)
    client.post(ROUND_URL, fields)
    round_ = Round.objects.order_by("-pk").first()
    assert sorted(round_.schools.values_list("pk", flat=True)) == sorted(s.school_id for s in drawn.schools)


def test_one_click_refuses_when_the_draw_is_no_longer_what_was_shown(client, mc):
    """The page sends the schools it showed; if the same seed now draws others (a school got its first
    score, one was closed), nothing is created and the user is asked to draw again."""
    login(client, mc)
    shown = mock.mock_draw(campaign=mc.campaign, n=3, seed=9, actor=mc.office)
    ids = [s.school_id for s in shown.schools]
    data = {"campaign": mc.campaign.pk, "n": 3, "seed": 9, "threshold": 85}
    before = rounds()
    # a school of the shown draw is closed since: the same seed now draws from another frame
    Unit.objects.filter(pk=ids[0]).update(is_active=False)
    response = client.post(ROUND_URL, {**data, "schools": ",".join(map(str, ids))})
    assert "请重新抽样" in response.content.decode()
    assert rounds() == before
    response = client.post(ROUND_URL, {**data, "schools": "1,x"})
    assert "抽中学校的记录无效" in response.content.decode()
    assert rounds() == before
    payload = {"n": 3, "seed": 9, "school_ids": ids}
    response = client.post(API_ROUND, payload, content_type="application/json")
    assert response.status_code == 422 and "请重新抽样" in str(response.json()["detail"])
    assert rounds() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"n": 0, "seed": 1}, "抽样学校数必须至少为 1"),
        ({"n": 11, "seed": 1}, "不能超过可抽样的学校数"),
        ({"n": "x", "seed": 1}, "抽样学校数必须是正整数"),
        ({"n": 3, "seed": "abc"}, "随机种子必须是整数"),
        ({"n": 3, "seed": ""}, "请先抽样"),
    ],
)
def test_bad_one_click_creates_nothing(client, mc, data, message):
    login(client, mc)
    before = rounds()
    response = client.post(ROUND_URL, {"campaign": mc.campaign.pk, "threshold": 85, **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert rounds() == before


def test_closed_campaign_creates_nothing(client, mc):
    login(client, mc)
    Campaign.objects.filter(pk=mc.campaign.pk).update(status=Campaign.Status.CLOSED)
    html = client.get(URL, {"campaign": mc.campaign.pk, "n": 3, "seed": 1, "threshold": 85}).content.decode()
    assert "按此抽样创建模拟测评轮次" not in html and "已结束" in html
    before = rounds()
    response = client.post(ROUND_URL, {"campaign": mc.campaign.pk, "n": 3, "seed": 1, "threshold": 85})
    assert "已结束" in response.content.decode()
    assert rounds() == before


# --- permissions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [*SCHOOL_ROLES, Role.INSPECTOR, Role.DEPT_HEAD])
def test_others_may_not_draw_or_create(client, mc, role):
    login(client, mc, role)
    params = {"campaign": mc.campaign.pk, "n": 3, "seed": 1, "threshold": 85}
    assert client.get(URL, params).status_code == 403
    assert client.get(API, params).status_code == 403
    before = rounds()
    assert client.post(ROUND_URL, params).status_code == 403
    payload = {"campaign_id": mc.campaign.pk, "n": 3, "seed": 1}
    assert client.post(API_ROUND, payload, content_type="application/json").status_code == 403
    assert rounds() == before


def test_leader_may_not_create(client, mc):
    login(client, mc, Role.LEADER)
    before = rounds()
    params = {"campaign": mc.campaign.pk, "n": 3, "seed": 1, "threshold": 85}
    assert client.post(ROUND_URL, params).status_code == 403
    payload = {"campaign_id": mc.campaign.pk, "n": 3, "seed": 1}
    assert client.post(API_ROUND, payload, content_type="application/json").status_code == 403
    assert rounds() == before


# --- the API ---------------------------------------------------------------------------------------


def test_api_draw_matches_the_service(client, mc):
    login(client, mc, Role.LEADER)
    response = client.get(API, {"n": 5, "seed": 77, "threshold": "90"})
    assert response.status_code == 200
    body = response.json()
    result = mock.mock_draw(campaign=mc.campaign, n=5, seed=77, threshold=90, actor=mc.office)
    assert body["campaign_id"] == mc.campaign.pk  # the active campaign by default
    assert body["seed"] == 77 and body["n"] == 5 and body["population"] == 10
    assert [s["school_id"] for s in body["schools"]] == [s.school_id for s in result.schools]
    assert body["estimate"]["mean"] == pytest.approx(result.estimate.mean)
    assert body["estimate"]["se"] == pytest.approx(result.estimate.se)
    assert body["estimate"]["p_below"] == pytest.approx(result.estimate.p_below)
    assert body["draw_mean"] == pytest.approx(result.draw_mean)
    assert {s["school_type"]: (s["drawn"], s["population"]) for s in body["strata"]} == {
        s.school_type: (s.drawn, s.population) for s in result.strata
    }
    assert [s["school_id"] for s in body["unscored"]] == [mc.schools["k"].pk]
    assert [s["standard_id"] for s in body["likely"]] == [s.standard_id for s in result.likely]
    assert "精确计算" in body["method"]


def test_api_blank_seed_is_returned_and_reproduces(client, mc):
    login(client, mc)
    first = client.get(API, {"n": 4}).json()
    again = client.get(API, {"n": 4, "seed": first["seed"]}).json()
    assert [s["school_id"] for s in first["schools"]] == [s["school_id"] for s in again["schools"]]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"n": 0}, "n", "至少为 1"),
        ({"n": 11}, "n", "不能超过"),
        ({"n": "abc"}, "n", "正整数"),
        ({"n": 3, "seed": "abc"}, "seed", "随机种子必须是整数"),
        ({"n": 3, "threshold": "abc"}, "threshold", "达标线"),
    ],
)
def test_api_bad_input(client, mc, params, field, message):
    login(client, mc)
    response = client.get(API, params)
    assert response.status_code == 422
    assert message in " ".join(response.json()["detail"][field])


def test_api_creates_the_round(client, mc):
    login(client, mc)
    drawn = client.get(API, {"n": 4, "seed": 808}).json()
    response = client.post(
        API_ROUND, {"n": 4, "seed": 808, "name": "接口模拟测评"}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    round_ = Round.objects.get(pk=body["id"])
    assert round_.name == "接口模拟测评" and round_.kind == Round.Kind.MOCK
    assert body["school_ids"] == sorted(s["school_id"] for s in drawn["schools"])
    assert sorted(round_.schools.values_list("pk", flat=True)) == body["school_ids"]
    assert body["sample_seed"] == 808 and body["sample_strata"] == round_.sample_strata


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"n": 0, "seed": 1}, "n"), ({"n": 99, "seed": 1}, "n"), ({"n": 3, "seed": "abc"}, "seed")],
)
def test_api_bad_round_creates_nothing(client, mc, payload, field):
    login(client, mc)
    before = rounds()
    response = client.post(API_ROUND, payload, content_type="application/json")
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert rounds() == before


def test_page_queries_do_not_grow_with_the_draw(client, mc, django_assert_max_num_queries):
    """The draw, the estimate and the losses read in a fixed number of queries (no per-school loop)."""
    login(client, mc)
    client.get(URL, {"campaign": mc.campaign.pk, "n": 2, "seed": 1, "threshold": 85})
    with django_assert_max_num_queries(25):
        client.get(URL, {"campaign": mc.campaign.pk, "n": 10, "seed": 1, "threshold": 85})
