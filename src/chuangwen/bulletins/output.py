"""Downloads of a bulletin: the outline and charts rendered as .docx and PDF, with their file names.

An issued bulletin never changes, so its files are cached (keyed by its content hash and the renderer's
version) for a day: the 200 schools downloading the same PDF after it is issued cost one rendering per
cache, not 200. Drafts are rendered on every download.
"""

from __future__ import annotations

import re

from django.core.cache import cache

from . import charts, docx_out, outline, pdf_out
from .models import Bulletin

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
RENDERER_VERSION = 2  # bump when the layout changes, so cached files are rendered again
CACHE_SECONDS = 24 * 3600


def filename(bulletin: Bulletin, ext: str) -> str:
    base = bulletin.number or f"通报草稿{bulletin.pk}"
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", f"{base}_{bulletin.title}")[:120]
    return f"{name}.{ext}"


def _cached(bulletin: Bulletin, ext: str, render) -> bytes:
    if not (bulletin.is_issued and bulletin.pk and bulletin.content_sha256):
        return render()
    key = f"bulletins:file:{bulletin.pk}:{bulletin.content_sha256}:{ext}:{RENDERER_VERSION}"
    data = cache.get(key)
    if data is None:
        data = render()
        cache.set(key, data, CACHE_SECONDS)
    return data


def docx_bytes(bulletin: Bulletin) -> bytes:
    return _cached(
        bulletin,
        "docx",
        lambda: docx_out.render(outline.build(bulletin), charts.charts_for(bulletin.content or {})),
    )


def pdf_bytes(bulletin: Bulletin) -> bytes:
    return _cached(
        bulletin,
        "pdf",
        lambda: pdf_out.render(outline.build(bulletin), charts.charts_for(bulletin.content or {})),
    )
