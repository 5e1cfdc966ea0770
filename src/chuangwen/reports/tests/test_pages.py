"""The dashboard pages, the rankings, their export and the API through the test client: what they show
equals reports.figures (itself checked against independent computations in test_figures), who may see
what, bad filters, empty states, and query budgets that do not grow with the number of schools."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.ledger import services as ledger
from chuangwen.org.models import Unit
from chuangwen.org.tests.factories import SchoolFactory
from chuangwen.reports import figures, rankings
from chuangwen.reports.selectors import filters_for

from .factories import build, inspect, new_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(city):
    return build(city)


def login(client, city, role=Role.OFFICE):
    client.force_login(city.users[role])
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- city dashboard ---------------------------------------------------------------------------------


def test_city_dashboard_shows_the_figures(client, city, data):
    c = figures.city_figures(campaign=data.campaign)
    page = login(client, city).get("/reports/")
    assert page.status_code == 200
    html = text(page)
    assert f'data-testid="kpi-score">{c.score:.2f}<' in html
    assert f"{c.inspected_schools}<small" in html and f"/ {c.schools}</small>" in html
    todo = sum(n for key, n in c.by_status.items() if key in ("new", "assigned", "in_progress"))
    of = f"campaign={data.campaign.pk}"
    assert f'?status=open&amp;{of}" title="在问题台帐中查看（未销号（待整改））">{todo}</a>' in html
    assert (
        f'?status=pending_review&amp;{of}" data-testid="kpi-review">{c.by_status["pending_review"]}</a>'
        in html
    )
    assert f"未销号共 {c.open_problems}" in html
    assert f'?overdue=1&amp;{of}">{c.overdue}</a>' in html
    assert f"{c.rectification_rate:.1f}%" in html and f"{c.median_days_to_close:.1f}" in html
    for loss in figures.lost_points(campaign=data.campaign, limit=10):
        assert f'href="/ledger/?standard={loss.standard_id}&amp;{of}"' in html
        for school_id, _, _ in loss.worst:
            assert f'href="/reports/schools/{school_id}/"' in html
    for f in figures.school_figures(campaign=data.campaign):
        assert f'href="/reports/schools/{f.school_id}/">{f.name}</a>' in html
    # The charts' data travels as JSON next to them; ECharts is loaded on this page only.
    assert 'id="dashboard-data"' in html and "vendor/echarts/echarts.min.js" in html
    assert "echarts" not in text(client.get("/ledger/"))


def _kpi_links(html: str) -> dict[str, tuple[str, int]]:
    """{kpi: (link, number shown)} of the dashboard's problem numbers that link to the ledger."""
    found = {}
    for testid in ("kpi-open", "kpi-review", "kpi-overdue"):
        m = re.search(
            rf'data-testid="{testid}">\s*<a href="([^"]+)"[^>]*>(\d+)</a>'
            rf'|<a href="([^"]+)" data-testid="{testid}">(\d+)</a>',
            html,
        )
        if m:
            href, number = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            found[testid] = (href.replace("&amp;", "&"), int(number))
    return found


def _ledger_rows(client, href: str) -> int:
    found = re.search(r"共 (\d+) 条", text(client.get(href)))
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("role", [Role.OFFICE, Role.SCHOOL_HEAD])
@pytest.mark.parametrize("by_round", [False, True])
def test_dashboard_problem_numbers_equal_the_ledger_rows_their_links_show(client, city, data, role, by_round):
    """待整改 (the ledger's 未销号（待整改）: without 待复核), 待复核 and 逾期 on the city and the school
    dashboards: following the link (the ledger filtered by the campaign, and the round when chosen) lists
    exactly that many problems. The factory's problem found before the campaign is in the ledger but in
    neither the figure nor the list the link opens."""
    login(client, city, role)
    query = f"?round={data.round1.pk}" if by_round else ""
    page = "/reports/" if role == Role.OFFICE else f"/reports/schools/{city.school_a.pk}/"
    html = text(client.get(page + query))
    links = _kpi_links(html)
    assert {"kpi-open", "kpi-overdue"} <= set(links), html
    for testid, (href, number) in links.items():
        assert "status=open" in href if testid == "kpi-open" else True
        assert f"campaign={data.campaign.pk}" in href
        assert ("round=" in href) == by_round
        assert _ledger_rows(client, href) == number, (testid, href)
    if role == Role.OFFICE and not by_round:  # without the campaign filter the ledger lists one more
        href, number = links["kpi-open"]
        assert _ledger_rows(client, href.replace(f"campaign={data.campaign.pk}", "")) > number


@pytest.mark.parametrize("narrowing", ["district", "school_type", "both"])
def test_dashboard_numbers_narrowed_to_a_district_or_type_link_to_as_many_ledger_rows(
    client, city, data, narrowing
):
    """Narrowed to a district, a school type or both, the numbers link to the ledger list narrowed the
    same way (its 区县 and 学校类型 filters) and that list shows as many rows."""
    params = {
        "district": {"district": city.district_a.pk},
        "school_type": {"school_type": city.school_a.school_type},
        "both": {"district": city.district_a.pk, "school_type": city.school_a.school_type},
    }[narrowing]
    query = "&".join(f"{k}={v}" for k, v in params.items())
    html = text(login(client, city).get(f"/reports/?{query}"))
    links = _kpi_links(html)
    assert {"kpi-open", "kpi-overdue"} <= set(links), html
    for testid, (href, number) in links.items():
        for key, value in {**params, "campaign": data.campaign.pk}.items():
            assert f"{key}={value}" in href, (testid, href)
        assert _ledger_rows(client, href) == number, (testid, href)
    # The western district's numbers are not the eastern district's list.
    west = text(client.get(f"/reports/?district={city.district_b.pk}"))
    assert all(f"district={city.district_b.pk}" in href for href, _ in _kpi_links(west).values())


def test_city_dashboard_by_district_type_and_round(client, city, data):
    login(client, city)
    html = text(client.get(f"/reports/?district={city.district_a.pk}"))
    east = figures.city_figures(
        campaign=data.campaign, schools=figures.filter_schools(district_id=city.district_a.pk)
    )
    assert f'data-testid="kpi-score">{east.score:.2f}<' in html
    assert city.school_a.name in html and city.school_c.name not in html
    html = text(client.get(f"/reports/?district={city.bureau.pk}"))  # 市直: the schools under the bureau
    assert data.school_d.name in html and city.school_a.name not in html and "· 市直" in html
    rows = client.get(f"/api/reports/rankings?district={city.bureau.pk}").json()
    assert [r["id"] for r in rows] == [data.school_d.pk]
    html = text(client.get("/reports/?school_type=junior"))
    assert city.school_b.name in html and city.school_a.name not in html
    html = text(client.get(f"/reports/?round={data.round1.pk}"))
    r1 = figures.city_figures(campaign=data.campaign, round=data.round1)
    assert f'data-testid="kpi-score">{r1.score:.2f}<' in html


def test_bad_filters_are_dropped_not_crashing(client, city, data):
    login(client, city)
    other = build(city)  # a second campaign: its round does not belong to the first
    everything = figures.city_figures(campaign=data.campaign)
    for query in (
        "campaign=abc&round=-1&district=x&school_type=castle",
        f"campaign={data.campaign.pk}&round={other.round1.pk}",
        f"campaign={data.campaign.pk}&district={city.school_a.pk}",
        "campaign=999999999999999999999",
    ):
        page = client.get(f"/reports/?{query}")
        assert page.status_code == 200, query
    html = text(client.get(f"/reports/?campaign={data.campaign.pk}&round={other.round1.pk}"))
    assert f'data-testid="kpi-score">{everything.score:.2f}<' in html


def test_empty_states(client, city):
    login(client, city)
    html = text(client.get("/reports/"))
    assert "还没有创建周期" in html and "echarts" not in html
    assert "还没有创建周期" in text(client.get("/reports/screen/"))
    assert "还没有创建周期，暂无排名" in text(client.get("/reports/rankings/"))
    from chuangwen.ledger.tests.factories import make_setup

    make_setup(city)
    html = text(client.get("/reports/"))
    assert 'data-testid="no-inspection"' in html and "还没有提交的检查" in html
    assert 'data-testid="kpi-score">—<' in html


def test_school_roles_are_refused_the_city_pages(client, city, data):
    for role in (Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST, Role.TEACHER):
        login(client, city, role)
        for url in ("/reports/", "/reports/screen/", "/reports/rankings/", "/reports/rankings.xlsx"):
            assert client.get(url).status_code == 403, (role, url)
        assert client.get("/api/reports/dashboard").status_code == 403


def test_a_district_bureau_role_sees_its_district_only(client, city, data):
    from chuangwen.org.tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username="west_office")
    MembershipFactory(user=user, unit=city.district_b, role=Role.OFFICE)
    client.force_login(user)
    html = text(client.get("/reports/"))
    assert city.school_c.name in html and city.school_a.name not in html
    assert client.get(f"/reports/schools/{city.school_a.pk}/").status_code == 404
    assert client.get(f"/reports/schools/{city.school_c.pk}/").status_code == 200
    rows = client.get("/api/reports/rankings").json()
    assert {r["id"] for r in rows} == {city.school_c.pk, data.school_e.pk}


# --- the 大屏 ----------------------------------------------------------------------------------------


def test_screen_refreshes_from_the_api(client, city, data):
    html = text(login(client, city, Role.LEADER).get("/reports/screen/"))
    assert 'data-api="/api/reports/dashboard?coverage=false' in html and 'data-refresh="60"' in html
    assert 'id="dashboard-data"' in html and "reports/screen.js" in html
    api = client.get("/api/reports/dashboard?coverage=false").json()
    assert api["coverage"] is None
    assert api["city"]["score"] == float(figures.city_figures(campaign=data.campaign).score)


# --- school dashboard -------------------------------------------------------------------------------


def test_school_dashboard_for_its_own_people_and_404_elsewhere(client, city, data):
    for role in (Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST, Role.TEACHER):
        login(client, city, role)
        assert client.get(f"/reports/schools/{city.school_a.pk}/").status_code == 200
        for other in (city.school_b, city.school_c, data.school_d):
            assert client.get(f"/reports/schools/{other.pk}/").status_code == 404
            assert client.get(f"/api/reports/schools/{other.pk}").status_code == 404
    client.force_login(city.outsider)
    assert client.get(f"/reports/schools/{city.school_a.pk}/").status_code == 404
    login(client, city, Role.INSPECTOR)
    for school in (city.school_a, data.school_d, data.school_e):
        assert client.get(f"/reports/schools/{school.pk}/").status_code == 200
    assert client.get(f"/reports/schools/{city.district_a.pk}/").status_code == 404
    assert client.get("/reports/schools/999999/").status_code == 404


def test_school_dashboard_compares_with_city_and_type(client, city, data):
    rows = figures.school_figures(campaign=data.campaign)
    mine = next(f for f in rows if f.school_id == city.school_a.pk)
    primary = [f for f in rows if f.school_type == "primary"]
    html = text(login(client, city, Role.SCHOOL_HEAD).get(f"/reports/schools/{city.school_a.pk}/"))
    assert f'data-testid="kpi-score">{mine.score:.2f}<' in html
    assert f"{figures.weighted_score(rows):.2f}" in html and f"{figures.weighted_score(primary):.2f}" in html
    assert f'data-testid="kpi-rank">{mine.rank}<small' in html
    assert f"第 {mine.rank_in_type} / {sum(1 for f in primary if f.rank)}" in html
    assert (
        f'overdue=1&amp;campaign={data.campaign.pk}&amp;school={city.school_a.pk}">{mine.overdue}</a>' in html
    )
    api = client.get(f"/api/reports/schools/{city.school_a.pk}").json()
    assert api["school"]["score"] == float(mine.score) and api["school"]["rank"] == mine.rank
    assert api["city_average"] == float(figures.weighted_score(rows))
    city_trend = figures.round_trend(campaign=data.campaign)
    own = {
        p.round_id: p.score for p in figures.round_trend(campaign=data.campaign, schools=[city.school_a.pk])
    }
    assert [(p["id"], p["city"], p["mine"]) for p in api["trend"]] == [
        (p.round_id, float(p.score), float(own[p.round_id]) if p.round_id in own else None)
        for p in city_trend
    ]
    assert len(api["open_list"]) == mine.open_problems  # every problem not closed or void, 待复核 included
    # Lost points of school_d: only its own answers.
    login(client, city)
    api = client.get(f"/api/reports/schools/{data.school_d.pk}").json()
    assert {s["code"] for s in api["lost"]} == {"1.3", "1.4"}
    assert [p["mine"] is None for p in api["trend"]] == [
        True,
        True,
        False,
    ]  # in the second mock round only  # only the standards it lost points on
    assert all(w["id"] == data.school_d.pk for s in api["lost"] for w in s["worst"])


def test_school_dashboard_lists_unowned_standards_and_tasks(client, city, data):
    import datetime as dt

    from chuangwen.duty.models import Task

    Task.objects.create(
        school=city.school_a,
        standard=data.setup.standards["1.2"],
        title="更换公益广告",
        due_date=dt.date(2026, 1, 5),
    )
    html = text(login(client, city, Role.LIAISON).get(f"/reports/schools/{city.school_a.pk}/"))
    assert "更换公益广告" in html and "逾期" in html
    html = text(login(client, city).get(f"/reports/schools/{city.school_c.pk}/"))
    assert "尚未落实责任人的标准 4 项" in html


def test_school_people_do_not_count_problems_an_unannounced_round_holds_back(client, city, data):
    round3 = new_round(city, data.campaign, "unannounced", "暗访", [city.school_a, city.school_c])
    # Another school of the round is done: the round now has a score, which school_a must not see.
    inspect(
        data.setup,
        round3,
        city.school_c,
        city.users[Role.INSPECTOR],
        {"1.1": "达标", "1.2": "合格", "1.3": 0, "1.4": "合格"},
    )
    from chuangwen.inspections import services as inspections

    inspection = inspections.inspection_start(
        round_=round3, school=city.school_a, actor=city.users[Role.INSPECTOR]
    )
    ledger.problem_create(
        school=city.school_a,
        standard=data.setup.standards["1.1"],
        inspection=inspection,
        description="暗访发现",
        actor=city.users[Role.INSPECTOR],
    )
    bureau = login(client, city).get(f"/api/reports/schools/{city.school_a.pk}")
    head = login(client, city, Role.SCHOOL_HEAD).get(f"/api/reports/schools/{city.school_a.pk}")
    assert bureau.json()["school"]["problems"] == head.json()["school"]["problems"] + 1
    html = text(client.get(f"/reports/schools/{city.school_a.pk}/"))
    assert "暗访发现" not in html and f'<option value="{round3.pk}"' not in html
    asked = client.get(f"/api/reports/schools/{city.school_a.pk}?round={round3.pk}").json()
    assert asked["round"] is None  # the hidden round is not taken as a filter either
    assert round3.pk not in {p["id"] for p in head.json()["trend"]}
    office = text(login(client, city).get(f"/reports/schools/{city.school_a.pk}/"))
    assert f'<option value="{round3.pk}"' in office
    assert round3.pk in {p["id"] for p in bureau.json()["trend"]}


# --- rankings ---------------------------------------------------------------------------------------


def positions(html: str) -> list[tuple[str, str]]:
    rows = re.findall(
        r'data-school="(\d+)">\s*<td data-label="名次" class="fw-bold" data-testid="position">([^<]*)<', html
    )
    return [(school, pos.strip()) for school, pos in rows]


def test_rankings_show_ties_as_equal_ranks(client, city, data):
    Unit.objects.filter(pk=data.school_e.pk).update(name="<b>西区</b>第三初级中学")
    login(client, city, Role.DEPT_HEAD)
    html = client.get("/reports/rankings/").content.decode()
    rows = figures.school_figures(campaign=data.campaign)
    assert positions(html) == [(str(f.school_id), str(f.rank) if f.rank else "—") for f in rows]
    assert [p for _, p in positions(html)] == ["1", "2", "2", "4", "—"]
    assert "&lt;b&gt;西区&lt;/b&gt;第三初级中学" in html and "<b>西区</b>" not in html  # names are escaped


@pytest.mark.parametrize("sort", ["rate", "overdue"])
def test_rankings_by_rate_and_overdue(client, city, data, sort):
    import datetime as dt

    from django.utils import timezone

    from chuangwen.ledger.models import Problem

    Problem.objects.filter(status__in=["assigned", "in_progress"]).update(
        deadline=timezone.now() - dt.timedelta(hours=1)
    )
    login(client, city)
    got = positions(client.get(f"/reports/rankings/?sort={sort}").content.decode())
    rows = figures.school_figures(campaign=data.campaign)
    value = {f.school_id: (f.rectification_rate if sort == "rate" else f.overdue) for f in rows}
    for school, pos in got:  # independent: 1 + the number of schools with a strictly higher value
        v = value[int(school)]
        expected = "—" if v is None else str(1 + sum(1 for w in value.values() if w is not None and w > v))
        assert pos == expected, (school, sort)
    shown = [value[int(s)] for s, _ in got if value[int(s)] is not None]
    assert shown == sorted(shown, reverse=True) and len(got) == len(rows)
    api = client.get(f"/api/reports/rankings?sort={sort}").json()
    assert [(str(r["id"]), str(r["position"]) if r["position"] else "—") for r in api] == got


def test_rankings_filters_keep_city_ranks(client, city, data):
    login(client, city)
    html = client.get(f"/reports/rankings/?district={city.district_b.pk}").content.decode()
    c = next(f for f in figures.school_figures(campaign=data.campaign) if f.school_id == city.school_c.pk)
    assert [s for s, _ in positions(html)] == [str(city.school_c.pk), str(data.school_e.pk)]
    assert f'data-label="全市排名" class="text-end">{c.rank}<' in html
    assert client.get("/api/reports/rankings?sort=bogus").status_code == 422
    assert client.get("/api/reports/rankings?school_type=castle").status_code == 422


def test_rankings_export_matches_the_page_and_is_audited(client, city, data):
    login(client, city, Role.LEADER)
    response = client.get(f"/reports/rankings.xlsx?district={city.district_a.pk}&sort=overdue")
    assert response.status_code == 200
    assert response["Content-Type"] == rankings.XLSX_CONTENT_TYPE
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb["学校排名"]
    assert ws["A1"].value.startswith("学校排名（") and "东区" in ws["A1"].value
    assert [c.value for c in ws[3]] == [h for h, _ in rankings.HEADERS]
    f = filters_for(city.users[Role.LEADER], {"district": city.district_a.pk, "sort": "overdue"})
    expected = rankings.ranked(f)
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    assert len(body) == len(expected) == 2
    for row, r in zip(body, expected, strict=True):
        assert row[1] == r.figures.name and row[2] == r.figures.district
        assert row[4] == (float(r.figures.score) if r.figures.score is not None else "未检查")
        assert row[5] == r.figures.rank and row[10] == r.figures.overdue
    event = AuditEvent.objects.filter(event_type="reports.rankings_export").latest("seq")
    assert event.actor_id == city.users[Role.LEADER].pk
    assert event.data["rows"] == 2 and event.data["district_id"] == city.district_a.pk


# --- API --------------------------------------------------------------------------------------------


def test_dashboard_api_equals_the_figures(client, city, data):
    api = login(client, city).get(f"/api/reports/dashboard?round={data.round1.pk}").json()
    c = figures.city_figures(campaign=data.campaign, round=data.round1)
    assert api["campaign"]["id"] == data.campaign.pk and api["round"]["id"] == data.round1.pk
    assert api["city"]["score"] == float(c.score) and api["city"]["open_problems"] == c.open_problems
    assert {r["key"]: r["count"] for r in api["city"]["by_status"]} == c.by_status
    assert {r["key"]: r["count"] for r in api["city"]["by_light"]} == c.by_light
    rows = figures.school_figures(campaign=data.campaign, round=data.round1)
    assert [(s["id"], s["rank"]) for s in api["schools"]] == [(f.school_id, f.rank) for f in rows]
    assert [p["id"] for p in api["trend"]] == [
        p.round_id for p in figures.round_trend(campaign=data.campaign)
    ]
    assert api["coverage"]["applicable"] > 0
    assert client.get("/api/reports/dashboard?campaign=abc").status_code == 422


def test_coverage_is_cached_but_follows_a_new_owner_at_once(client, city, data):
    from chuangwen.duty.models import SchoolAssignment
    from chuangwen.duty.selectors import coverage

    login(client, city)
    first = client.get("/api/reports/dashboard").json()["coverage"]
    expected = coverage(user=city.users[Role.OFFICE], edition=data.campaign.edition)
    assert (first["applicable"], first["owned"]) == (expected.applicable, expected.owned)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/reports/dashboard").json()["coverage"] == first
    assert not any("duty_schoolassignment" in q["sql"] for q in ctx.captured_queries)
    SchoolAssignment.objects.create(
        school=city.school_c, standard=data.setup.standards["1.1"], owner=city.outsider
    )
    again = client.get("/api/reports/dashboard").json()["coverage"]
    assert again["owned"] == first["owned"] + 1 and again["unowned"] == first["unowned"] - 1


def test_dashboard_api_without_a_campaign(client, city):
    assert login(client, city).get("/api/reports/dashboard").json()["campaign"] is None


# --- query budgets ----------------------------------------------------------------------------------


def _count(client, url) -> int:
    """Queries of one request with the coverage cache stale (the duty version bumped): the worst case."""
    from chuangwen.duty.selectors import bump_my_duties

    bump_my_duties()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_the_schools(client, city, data):
    login(client, city)
    urls = [
        "/reports/",
        "/reports/screen/",
        "/reports/rankings/",
        "/reports/rankings.xlsx",
        "/api/reports/dashboard",
        f"/reports/schools/{city.school_a.pk}/",
    ]
    before = {url: _count(client, url) for url in urls}
    more = [SchoolFactory(parent=city.district_a, name=f"扩容学校{i}") for i in range(5)]
    round3 = new_round(city, data.campaign, "follow_up", "跟踪督查", more)
    for school in more:
        inspect(
            data.setup,
            round3,
            school,
            city.users[Role.INSPECTOR],
            {"1.1": "达标", "1.2": "合格", "1.3": 2, "1.4": "合格"},
        )
        ledger.problem_create(
            school=school,
            standard=data.setup.standards["1.3"],
            round_=round3,
            description="乱贴",
            actor=city.users[Role.INSPECTOR],
        )
    after = {url: _count(client, url) for url in urls}
    assert after == before
    assert before["/reports/"] <= 30 and before["/reports/rankings/"] <= 20
    assert Unit.objects.filter(kind="school").count() == 10


def test_rankings_link_each_schools_numbers_to_the_ledger_of_the_same_campaign(client, city, data):
    html = text(login(client, city).get("/reports/rankings/"))
    of = f"/ledger/?campaign={data.campaign.pk}&amp;school={city.school_a.pk}"
    assert f'href="{of}"' in html
    round_html = text(client.get(f"/reports/rankings/?round={data.round1.pk}"))
    assert f"/ledger/?campaign={data.campaign.pk}&amp;round={data.round1.pk}&amp;school=" in round_html
