"""Permission-matrix rows for the index pages and the index API (merged by index/tests/routes.py), and
the small edition builders those rows and the index tests share."""

from __future__ import annotations

from decimal import Decimal

from tests.matrix import UNIT_MANAGERS, Route

INDEX_MANAGERS = UNIT_MANAGERS  # 系统管理员 and 创文办


def make_edition(
    *, code: str = "e1", name: str | None = None, status: str = "draft", standards: int = 3, actor=None
):
    """An edition with one project, one content and `standards` complete standards (1.1.1 …)."""
    from chuangwen.index import services
    from chuangwen.index.models import Edition

    edition = services.edition_create(actor=actor, name=name or f"测试版本{code}", code=code)
    project = services.group_create(edition=edition, actor=actor, code="1", title="校园环境")
    content = services.group_create(
        edition=edition, actor=actor, parent=project, code="1.1", title="公益广告"
    )
    for i in range(1, standards + 1):
        services.standard_create(
            group=content,
            actor=actor,
            code=f"1.1.{i}",
            text=f"校门口公益广告第{i}条",
            points=Decimal("2"),
            methods=["site"],
            school_types=["primary", "junior"],
            materials=["实景图片"],
            check_protocol="从校门向外步行50米清点",
        )
    if status in (Edition.Status.PUBLISHED, Edition.Status.ARCHIVED):
        services.edition_publish(edition=edition, actor=actor)
    if status == Edition.Status.ARCHIVED:
        services.edition_archive(edition=edition, actor=actor)
    edition.refresh_from_db()
    return edition


def _published(city, user):
    from chuangwen.index.models import Edition

    return Edition.objects.filter(code="pub").first() or make_edition(code="pub", status="published")


def _draft(city, user):
    from chuangwen.index.models import Edition

    return Edition.objects.filter(code="draft").first() or make_edition(code="draft")


def _draft_group(city, user):
    return _draft(city, user).groups.get(code="1.1")


def _draft_standard(city, user):
    return _draft(city, user).standards.get(code="1.1.1")


# Drafts are invisible to everyone but managers: other roles get 404 for anything under a draft.
DRAFT_ONLY = {"denied": 404}

ROUTES: dict[str, Route] = {
    "index:edition_list": Route(lambda c, u: "/index/", "all"),
    "index:edition_create": Route(lambda c, u: "/index/editions/new/", INDEX_MANAGERS),
    "index:edition_detail": Route(lambda c, u: f"/index/editions/{_published(c, u).pk}/", "all"),
    "index:edition_edit": Route(
        lambda c, u: f"/index/editions/{_draft(c, u).pk}/edit/", INDEX_MANAGERS, **DRAFT_ONLY
    ),
    "index:edition_copy": Route(lambda c, u: f"/index/editions/{_published(c, u).pk}/copy/", INDEX_MANAGERS),
    "index:edition_publish": Route(
        lambda c, u: f"/index/editions/{_draft(c, u).pk}/publish/",
        INDEX_MANAGERS,
        method="post",
        ok=302,
        **DRAFT_ONLY,
    ),
    "index:edition_archive": Route(
        lambda c, u: f"/index/editions/{_published(c, u).pk}/archive/", INDEX_MANAGERS, method="post", ok=302
    ),
    "index:edition_delete": Route(
        lambda c, u: f"/index/editions/{_draft(c, u).pk}/delete/",
        INDEX_MANAGERS,
        method="post",
        ok=302,
        **DRAFT_ONLY,
    ),
    "index:group_create": Route(
        lambda c, u: f"/index/editions/{_draft(c, u).pk}/groups/new/", INDEX_MANAGERS, **DRAFT_ONLY
    ),
    "index:group_edit": Route(
        lambda c, u: f"/index/groups/{_draft_group(c, u).pk}/edit/", INDEX_MANAGERS, **DRAFT_ONLY
    ),
    "index:group_delete": Route(
        lambda c, u: f"/index/groups/{_draft_group(c, u).pk}/delete/",
        INDEX_MANAGERS,
        method="post",
        ok=302,
        **DRAFT_ONLY,
    ),
    "index:group_move": Route(
        lambda c, u: f"/index/groups/{_draft_group(c, u).pk}/move/",
        INDEX_MANAGERS,
        method="post",
        ok=302,
        data=lambda c, u: {"direction": "up"},
        **DRAFT_ONLY,
    ),
    "index:standard_create": Route(
        lambda c, u: f"/index/groups/{_draft_group(c, u).pk}/standards/new/", INDEX_MANAGERS, **DRAFT_ONLY
    ),
    "index:standard_edit": Route(
        lambda c, u: f"/index/standards/{_draft_standard(c, u).pk}/edit/", INDEX_MANAGERS, **DRAFT_ONLY
    ),
    "index:standard_delete": Route(
        lambda c, u: f"/index/standards/{_draft_standard(c, u).pk}/delete/",
        INDEX_MANAGERS,
        method="post",
        ok=302,
        **DRAFT_ONLY,
    ),
    "index:standard_move": Route(
        lambda c, u: f"/index/standards/{_draft_standard(c, u).pk}/move/",
        INDEX_MANAGERS,
        method="post",
        ok=302,
        data=lambda c, u: {"direction": "down"},
        **DRAFT_ONLY,
    ),
    "index:edition_diff": Route(
        lambda c, u: f"/index/diff/?a={_published(c, u).pk}&b={_published(c, u).pk}", "all"
    ),
    "api:list_editions": Route(lambda c, u: "/api/index/editions", "all", anon=401),
    "api:get_edition": Route(lambda c, u: f"/api/index/editions/{_published(c, u).pk}", "all", anon=401),
    "api:list_standards": Route(lambda c, u: "/api/index/standards", "all", anon=401),
}

__all__ = ["INDEX_MANAGERS", "ROUTES", "make_edition"]
