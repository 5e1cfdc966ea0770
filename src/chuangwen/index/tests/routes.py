"""Permission-matrix rows for the index import wizard and the edition downloads (and, merged in, the
index pages' rows from routes_pages.py)."""

from __future__ import annotations

from tests.matrix import UNIT_MANAGERS, Route


def _own_batch(city, user):
    """An index import batch of the user's own (batches are private to their uploader)."""
    from chuangwen.index.models import IndexImportBatch

    return IndexImportBatch.objects.create(fmt="yaml", name="矩阵", code="matrix", uploaded_by=user).pk


def _edition(city, user):
    from chuangwen.index.models import Edition

    edition, _ = Edition.objects.get_or_create(code="matrix-export", defaults={"name": "矩阵导出"})
    return edition.pk


ROUTES: dict[str, Route] = {
    "index:import_start": Route(lambda c, u: "/index/import/", UNIT_MANAGERS),
    "index:import_preview": Route(lambda c, u: f"/index/import/{_own_batch(c, u)}/", UNIT_MANAGERS),
    # An empty staged batch (no stored file) is refused on confirm and sent back to its preview.
    "index:import_apply": Route(
        lambda c, u: f"/index/import/{_own_batch(c, u)}/apply/", UNIT_MANAGERS, method="post", ok=302
    ),
    "index:import_discard": Route(
        lambda c, u: f"/index/import/{_own_batch(c, u)}/discard/", UNIT_MANAGERS, method="post", ok=302
    ),
    "index:import_template": Route(lambda c, u: "/index/import/template.xlsx", UNIT_MANAGERS),
    "index:edition_export": Route(lambda c, u: f"/index/import/export/{_edition(c, u)}.yaml", UNIT_MANAGERS),
}

try:
    from .routes_pages import ROUTES as _PAGES
except ModuleNotFoundError as exc:  # the pages' rows live in their own file, when it exists
    if not exc.name.endswith("routes_pages"):
        raise
else:
    _clash = set(_PAGES) & set(ROUTES)
    assert not _clash, f"routes_pages repeats rows: {sorted(_clash)}"
    ROUTES.update(_PAGES)
