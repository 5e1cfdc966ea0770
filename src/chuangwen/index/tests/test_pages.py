"""The index pages: list, browser, editor, diff; the admin's read-only wall."""

import re
from decimal import Decimal

import pytest

from chuangwen.index import services
from chuangwen.index.models import Edition, Standard
from chuangwen.index.reference import load_reference_edition

from .routes_pages import make_edition


def _text(response) -> str:
    return response.content.decode()


def test_list_shows_counts_and_status_for_the_office(client, city):
    make_edition(code="d", name="草稿版")
    make_edition(code="p", name="正式版", status="published", standards=4)
    client.force_login(city.users["office"])
    page = _text(client.get("/index/"))
    assert "草稿版" in page and "正式版" in page and "已发布" in page and "草稿" in page
    assert "新建版本" in page
    row = page[page.index("正式版") :]
    assert re.search(r">\s*4\s*</td>\s*<td class=\"text-end\">\s*8\s*<", row)


def test_liaison_sees_published_only(client, city):
    make_edition(code="d", name="草稿版")
    published = make_edition(code="p", name="正式版", status="published")
    client.force_login(city.users["liaison"])
    page = _text(client.get("/index/"))
    assert "正式版" in page and "草稿版" not in page and "新建版本" not in page
    browser = client.get(f"/index/editions/{published.pk}/")
    assert browser.status_code == 200
    body = _text(browser)
    assert "校门口公益广告第1条" in body and "编辑" not in body and "删除" not in body
    draft = Edition.objects.get(code="d")
    assert client.get(f"/index/editions/{draft.pk}/").status_code == 404


def test_browser_shows_a_standard_fully(client, city):
    reference = load_reference_edition()
    client.force_login(city.users["liaison"])
    body = _text(client.get(f"/index/editions/{reference.pk}/"))
    for word in (
        "参考版本",
        "测评项目",
        "实地考察",
        "材料要求",
        "检查方法",
        "牵头科室",
        "负面清单",
        "按次扣分",
        "全部学校",
    ):
        assert word in body, word
    assert 'data-testid="total-points">100<' in body


def test_browser_search_and_filters(client, city):
    reference = load_reference_edition()
    client.force_login(city.users["teacher"])
    url = f"/index/editions/{reference.pk}/"
    body = _text(client.get(url, {"q": "网吧"}))
    assert 'data-testid="shown-count">1<' in body and "200米内无网吧" in body and "光盘行动" not in body
    surveys = sum(
        "survey" in m for m in Standard.objects.filter(edition=reference).values_list("methods", flat=True)
    )
    body = _text(client.get(url, {"method": "survey"}))
    assert f'data-testid="shown-count">{surveys}<' in body
    body = _text(client.get(url, {"school_type": "kindergarten"}))
    assert "少年宫" not in body and "公益广告" in body
    body = _text(client.get(url, {"negative": "1"}))
    assert "一票否决" in body and "公益广告" not in body


def test_browser_query_count_does_not_grow_with_standards(client, city, django_assert_max_num_queries):
    small = make_edition(code="s", status="published", standards=2)
    big = make_edition(code="b", status="published", standards=60)
    client.force_login(city.users["office"])
    counts = []
    for edition in (small, big):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/index/editions/{edition.pk}/").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(14):
        client.get(f"/index/editions/{big.pk}/")
    with django_assert_max_num_queries(10):
        client.get("/index/")


def test_office_builds_and_publishes_a_draft(client, city):
    client.force_login(city.users["office"])
    response = client.post("/index/editions/new/", {"name": "2027版", "code": "city-2027", "description": ""})
    edition = Edition.objects.get(code="city-2027")
    assert response.status_code == 302 and response["Location"] == f"/index/editions/{edition.pk}/"
    client.post(f"/index/editions/{edition.pk}/groups/new/", {"code": "1", "title": "校园环境"})
    project = edition.groups.get()
    client.post(
        f"/index/editions/{edition.pk}/groups/new/?parent={project.pk}", {"code": "1.1", "title": "卫生"}
    )
    content = edition.groups.get(depth=2)
    form = {
        "code": "1.1.1",
        "text": "校园内无烟头",
        "points": "2",
        "methods": ["site"],
        "school_types": ["primary", "junior"],
        "materials": "实景图片，台账",
        "check_protocol": "每发现一个烟头扣0.5分",
        "scoring_kind": "deduction",
        "deduction_per": "0.5",
        "deduction_cap": "2",
    }
    response = client.post(f"/index/groups/{content.pk}/standards/new/", form)
    assert response.status_code == 302
    standard = edition.standards.get()
    assert standard.materials == ["实景图片", "台账"]
    assert standard.scoring_params == {"per": 0.5, "cap": 2.0}
    body = _text(client.get(f"/index/editions/{edition.pk}/"))
    assert "校园内无烟头" in body and "发布" in body
    response = client.post(f"/index/standards/{standard.pk}/edit/", {**form, "points": "3"})
    assert response.status_code == 302
    standard.refresh_from_db()
    assert standard.points == 3
    response = client.post(f"/index/editions/{edition.pk}/publish/")
    edition.refresh_from_db()
    assert edition.status == Edition.Status.PUBLISHED and edition.published_by == city.users["office"]


def test_editor_form_errors_are_shown_in_chinese(client, city):
    edition = make_edition()
    client.force_login(city.users["office"])
    group = edition.groups.get(code="1.1")
    response = client.post(
        f"/index/groups/{group.pk}/standards/new/",
        {"code": "1.1.1", "text": "重复编号", "points": "1", "scoring_kind": "deduction"},
    )
    assert response.status_code == 200
    body = _text(response)
    assert "按次扣分须填写每次扣分" in body
    response = client.post(
        f"/index/groups/{group.pk}/standards/new/",
        {"code": "1.1.1", "text": "重复编号", "points": "1", "scoring_kind": "grade"},
    )
    assert "在本版本中已存在" in _text(response)
    assert edition.standards.count() == 3


def test_publishing_an_incomplete_draft_explains_why(client, city):
    edition = make_edition()
    services.standard_update(standard=edition.standards.get(code="1.1.2"), methods=[])
    client.force_login(city.users["office"])
    assert "标准 1.1.2 缺少测评方法" in _text(client.get(f"/index/editions/{edition.pk}/"))
    response = client.post(f"/index/editions/{edition.pk}/publish/", follow=True)
    assert "标准 1.1.2 缺少测评方法" in _text(response)
    edition.refresh_from_db()
    assert edition.is_draft


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/index/editions/{e}/edit/", None),
        ("post", "/index/editions/{e}/edit/", {"name": "改名", "code": "pub", "description": ""}),
        ("post", "/index/editions/{e}/groups/new/", {"title": "新项目"}),
        ("post", "/index/groups/{g}/edit/", {"title": "改名"}),
        ("post", "/index/groups/{g}/delete/", {}),
        ("post", "/index/groups/{g}/move/", {"direction": "up"}),
        (
            "post",
            "/index/groups/{g}/standards/new/",
            {"code": "9", "text": "新", "points": "1", "scoring_kind": "grade"},
        ),
        (
            "post",
            "/index/standards/{s}/edit/",
            {"code": "1.1.1", "text": "改", "points": "9", "scoring_kind": "grade"},
        ),
        ("post", "/index/standards/{s}/delete/", {}),
        ("post", "/index/standards/{s}/move/", {"direction": "down"}),
        ("post", "/index/editions/{e}/delete/", {}),
        ("post", "/index/editions/{e}/publish/", {}),
    ],
)
def test_a_published_edition_cannot_be_changed_through_the_pages(client, city, method, path, data):
    edition = make_edition(code="pub", status="published")
    standard = edition.standards.get(code="1.1.1")
    url = path.format(e=edition.pk, g=standard.group_id, s=standard.pk)
    client.force_login(city.users["admin"])
    response = getattr(client, method)(url, data or {}, follow=True)
    assert response.status_code == 200
    assert "不能" in _text(response)
    edition.refresh_from_db()
    standard.refresh_from_db()
    assert edition.status == "published" and edition.name == "测试版本pub"
    assert standard.text == "校门口公益广告第1条" and standard.points == 2
    assert edition.standards.count() == 3 and edition.groups.count() == 2


def test_copy_then_archive(client, city):
    edition = make_edition(code="p", status="published")
    client.force_login(city.users["office"])
    assert "复制为新版本" in _text(client.get(f"/index/editions/{edition.pk}/"))
    response = client.post(f"/index/editions/{edition.pk}/copy/", {"name": "下一版", "code": "next"})
    copy = Edition.objects.get(code="next")
    assert response["Location"] == f"/index/editions/{copy.pk}/"
    assert copy.standards.count() == 3 and copy.based_on == edition
    response = client.post(f"/index/editions/{edition.pk}/copy/", {"name": "下一版", "code": "next"})
    assert "已有同名版本" in _text(response)
    client.post(f"/index/editions/{edition.pk}/archive/")
    edition.refresh_from_db()
    assert edition.status == "archived"


def test_diff_page(client, city):
    old = make_edition(code="old", status="published")
    new = services.edition_copy(edition=old, name="新版", code="new")
    services.standard_update(standard=new.standards.get(code="1.1.1"), points=Decimal(3))
    services.standard_delete(standard=new.standards.get(code="1.1.3"))
    client.force_login(city.users["office"])
    body = _text(client.get("/index/diff/", {"a": old.pk, "b": new.pk}))
    assert 'data-testid="changed-count">1<' in body and 'data-testid="removed-count">1<' in body
    assert "分值" in body and "删除的标准" in body
    # The liaison cannot see the draft, so cannot diff against it.
    client.force_login(city.users["liaison"])
    assert client.get("/index/diff/", {"a": old.pk, "b": new.pk}).status_code == 404
    assert client.get("/index/diff/", {"a": "x", "b": "1"}).status_code == 400
    assert client.get("/index/diff/").status_code == 200


# ---------------------------------------------------------------- admin


def test_admin_is_read_only_for_published_editions(client, city, admin_user):
    edition = make_edition(code="pub", status="published")
    standard = edition.standards.get(code="1.1.1")
    client.force_login(admin_user)
    url = f"/admin/index/standard/{standard.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in _text(page)
    response = client.post(url, {"code": "1.1.1", "text": "改", "points": "9"})
    assert response.status_code == 403
    assert client.post(f"/admin/index/standard/{standard.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/index/edition/{edition.pk}/delete/", {"post": "yes"}).status_code == 403
    group = edition.groups.get(code="1.1")
    assert client.post(f"/admin/index/group/{group.pk}/change/", {"title": "改"}).status_code == 403
    standard.refresh_from_db()
    assert standard.text == "校门口公益广告第1条" and standard.points == 2
    assert Edition.objects.filter(pk=edition.pk).exists()


def test_admin_can_change_a_draft(client, city, admin_user):
    edition = make_edition(code="d")
    standard = edition.standards.get(code="1.1.1")
    client.force_login(admin_user)
    page = _text(client.get(f"/admin/index/standard/{standard.pk}/change/"))
    assert 'name="_save"' in page
    assert "测试版本d" in page
