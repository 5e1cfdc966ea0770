"""Downloads of a bulletin: the outline and charts rendered as .docx and PDF, with their file names."""

from __future__ import annotations

import re

from . import charts, docx_out, outline, pdf_out
from .models import Bulletin

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"


def filename(bulletin: Bulletin, ext: str) -> str:
    base = bulletin.number or f"通报草稿{bulletin.pk}"
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", f"{base}_{bulletin.title}")[:120]
    return f"{name}.{ext}"


def docx_bytes(bulletin: Bulletin) -> bytes:
    return docx_out.render(outline.build(bulletin), charts.charts_for(bulletin.content or {}))


def pdf_bytes(bulletin: Bulletin) -> bytes:
    return pdf_out.render(outline.build(bulletin), charts.charts_for(bulletin.content or {}))
