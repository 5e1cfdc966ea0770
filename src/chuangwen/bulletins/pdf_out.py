"""The bulletin as a PDF: the same outline and charts as the .docx, through an HTML template and
WeasyPrint, with the CJK fonts embedded (subsets). The official fonts are named first in the CSS; the
Noto CJK fonts of Debian's fonts-noto-cjk stand in where they are missing (decision 0018)."""

from __future__ import annotations

import base64
import logging

from django.template.loader import render_to_string

from . import charts as charts_mod
from .docx_out import TEXT_WIDTH_MM
from .outline import Outline, signature_indents

WIDE_COLUMNS = {"学校", "问题"}
# 楷体 for the （一） headings (GB/T 9704: the second level in 楷体): the official font, then AR PL UKai
# (Debian's optional fonts-arphic-ukai) where it is installed, then the serif body font.
KAITI = ("楷体_GB2312", "KaiTi", "AR PL UKai CN")

# WeasyPrint logs every page it lays out at INFO (80 lines a bulletin); keep it quiet unless the
# settings' LOGGING says otherwise.
for _name in ("weasyprint.progress", "fontTools"):
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(logging.WARNING)


def html(outline: Outline, chart_list: list[charts_mod.Chart] | None = None) -> str:
    images = {c.key: "data:image/png;base64," + base64.b64encode(c.png).decode() for c in chart_list or []}
    blocks = [
        {
            "kind": b.kind,
            "text": b.text,
            "caption": b.caption,
            "columns": b.columns,
            "rows": b.rows,
            "wide": {i + 1 for i, c in enumerate(b.columns) if c in WIDE_COLUMNS},
            "src": images.get(b.chart, ""),
        }
        for b in outline.blocks
    ]
    issuer_right, date_right = signature_indents(outline.issuer, outline.date_text)
    header_pt = min(42, int(TEXT_WIDTH_MM / 25.4 * 72 / max(len(outline.header), 1)))
    return render_to_string(
        "bulletins/pdf.html",
        {
            "outline": outline,
            "blocks": blocks,
            "header_pt": header_pt,
            "issuer_right": issuer_right,
            "date_right": date_right,
            "kaiti": ", ".join(f'"{name}"' for name in KAITI),
        },
    )


def render(outline: Outline, chart_list: list[charts_mod.Chart] | None = None) -> bytes:
    from PIL import ImageFile
    from weasyprint import HTML  # imported here: loading pango costs ~0.3 s, only PDF downloads need it

    # WeasyPrint's import turns on Pillow's process-wide acceptance of truncated images; the evidence
    # uploads of the same process must keep refusing them (core.evidence.images also turns it off).
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return HTML(string=html(outline, chart_list)).write_pdf()
