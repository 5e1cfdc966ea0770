"""The index API: scoped like the pages, the tree with totals, filters, query budgets."""

from decimal import Decimal

from chuangwen.index import services
from chuangwen.index.reference import load_reference_edition

from .routes_pages import make_edition


def test_list_editions_is_scoped(client, city):
    make_edition(code="d")
    make_edition(code="p", status="published", standards=4)
    client.force_login(city.users["liaison"])
    data = client.get("/api/index/editions").json()
    assert [
        (e["code"], e["status_label"], e["standard_count"], Decimal(e["total_points"])) for e in data
    ] == [("p", "已发布", 4, 8)]
    client.force_login(city.users["office"])
    assert {e["code"] for e in client.get("/api/index/editions").json()} == {"d", "p"}
    assert [e["code"] for e in client.get("/api/index/editions", {"status": "draft"}).json()] == ["d"]


def test_anonymous_gets_401(client, db):
    assert client.get("/api/index/editions").status_code == 401


def test_edition_tree_with_totals(client, city):
    reference = load_reference_edition()
    client.force_login(city.users["teacher"])
    data = client.get(f"/api/index/editions/{reference.pk}").json()
    assert data["edition"]["code"] == "ref-2026" and data["edition"]["is_reference"] is True
    assert Decimal(data["total_points"]) == 100
    assert data["standard_count"] == reference.standards.count()
    project = data["groups"][0]
    assert project["level_label"] == "测评项目"
    assert Decimal(project["total_points"]) == sum(Decimal(g["total_points"]) for g in project["groups"])
    standard = project["groups"][0]["standards"][0]
    assert standard["code"] == "1.1.1" and standard["method_labels"] == ["实地考察"]
    assert standard["check_protocol"] and standard["materials"] and standard["scoring_text"]


def test_drafts_are_404_for_non_managers(client, city):
    draft = make_edition(code="d")
    client.force_login(city.users["leader"])
    assert client.get(f"/api/index/editions/{draft.pk}").status_code == 404
    assert client.get("/api/index/standards", {"edition": draft.pk}).status_code == 404
    client.force_login(city.users["office"])
    assert client.get(f"/api/index/editions/{draft.pk}").status_code == 200


def test_standards_filters(client, city):
    edition = make_edition(code="p")
    services.standard_update(
        standard=edition.standards.get(code="1.1.2"), methods=["survey"], school_types=["senior"]
    )
    services.edition_publish(edition=edition)
    client.force_login(city.users["inspector"])

    def codes(**params):
        body = client.get("/api/index/standards", params).json()
        return [s["code"] for s in body["items"]]

    assert codes(edition=edition.pk) == ["1.1.1", "1.1.2", "1.1.3"]
    assert codes(method="survey") == ["1.1.2"]
    assert codes(school_type="junior") == ["1.1.1", "1.1.3"]
    assert codes(q="第3条") == ["1.1.3"]
    assert codes(method="site", school_type="senior") == []


def test_api_has_no_way_to_change_a_published_edition(client, city):
    published = make_edition(code="p", status="published")
    client.force_login(city.users["admin"])
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(
            f"/api/index/editions/{published.pk}", content_type="application/json"
        )
        assert response.status_code == 405
    published.refresh_from_db()
    assert published.status == "published" and published.standards.count() == 3


def test_query_budgets_do_not_grow_with_rows(client, city, django_assert_max_num_queries):
    small = make_edition(code="s", status="published", standards=2)
    big = make_edition(code="b", status="published", standards=80)
    for i in range(5):
        make_edition(code=f"x{i}", status="published", standards=1)
    client.force_login(city.users["office"])
    with django_assert_max_num_queries(6):
        assert client.get("/api/index/editions").status_code == 200
    for edition in (small, big):
        with django_assert_max_num_queries(7):
            assert client.get(f"/api/index/editions/{edition.pk}").status_code == 200
    with django_assert_max_num_queries(7):
        body = client.get("/api/index/standards").json()
    assert body["count"] == 2 + 80 + 5 and len(body["items"]) == 87
