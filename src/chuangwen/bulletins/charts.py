"""The bulletin's charts, drawn server-side as PNG with Pillow (already a dependency) and a CJK font.

Horizontal bar charts only: labels (district names, statuses, score bands) read left to right whatever
their length, and the same PNG goes into the .docx and the PDF. Drawn from the frozen content, so an
issued bulletin's charts never change. See docs/decisions/0018-bulletin-output.md.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
WIDTH = 1600  # px; placed 15 cm wide (about 270 dpi)
BAR = 44
GAP = 18
PAD = 28
COLOURS = {"blue": (47, 84, 150), "red": (192, 0, 0), "green": (56, 118, 29), "grey": (120, 120, 120)}
STATUS_COLOURS = {"已销号": "green", "已作废": "grey", "待交办": "red"}
BANDS = (
    ("90 分及以上", 90, 101),
    ("80–90 分", 80, 90),
    ("70–80 分", 70, 80),
    ("60–70 分", 60, 70),
    ("60 分以下", 0, 60),
)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    png: bytes
    width_px: int
    height_px: int


@lru_cache(maxsize=1)
def _font_file() -> tuple[str, int] | None:
    configured = getattr(settings, "BULLETIN_CHART_FONT", "")
    for path in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if not path or not Path(path).exists():
            continue
        for index in range(10):  # the Simplified Chinese face of a collection, else its first face
            try:
                family, _ = ImageFont.truetype(path, 20, index=index).getname()
            except OSError:
                break
            if "SC" in family or "Micro Hei" in family:
                return path, index
        return path, 0
    return None


@lru_cache(maxsize=16)
def _font(size: int):
    found = _font_file()
    if found is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(found[0], size, index=found[1])


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if decimals else str(int(value))


def bar_chart(
    title: str, rows: list[tuple[str, float, str]], *, decimals: int = 0, scale_max: float | None = None
) -> tuple[bytes, int, int]:
    """Horizontal bars: rows of (label, value, colour name). Returns (png, width, height)."""
    title_font, label_font = _font(40), _font(32)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = max([probe.textlength(label, font=label_font) for label, _, _ in rows] + [60])
    label_w = min(int(label_w) + 2, WIDTH // 3)  # + 2: the widest label must not be cut by rounding
    top = PAD + 64
    height = top + max(len(rows), 1) * (BAR + GAP) + PAD
    img = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((WIDTH / 2, PAD), title, fill=(0, 0, 0), font=title_font, anchor="mt")
    x0 = PAD + label_w + 20
    value_room = 150
    span = WIDTH - x0 - value_room - PAD
    biggest = scale_max or max([v for _, v, _ in rows] + [1])
    draw.line([(x0, top - 6), (x0, height - PAD + 2)], fill=(90, 90, 90), width=2)
    if not rows:
        draw.text((x0 + 20, top + 4), "（无数据）", fill=(90, 90, 90), font=label_font)
    for i, (label, value, colour) in enumerate(rows):
        y = top + i * (BAR + GAP)
        shown = label
        while probe.textlength(shown, font=label_font) > label_w and len(shown) > 2:
            shown = shown[:-2] + "…"
        draw.text((x0 - 14, y + BAR / 2), shown, fill=(0, 0, 0), font=label_font, anchor="rm")
        length = 0 if biggest <= 0 else int(span * max(value, 0) / biggest)
        if length:
            draw.rectangle([x0 + 1, y, x0 + length, y + BAR], fill=COLOURS.get(colour, COLOURS["blue"]))
        draw.text(
            (x0 + length + 12, y + BAR / 2),
            _fmt(value, decimals),
            fill=(0, 0, 0),
            font=label_font,
            anchor="lm",
        )
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False, compress_level=3)
    return out.getvalue(), WIDTH, height


def _district_scores(ranking: list[dict]) -> list[tuple[str, float, str]]:
    sums: dict[str, list[Decimal]] = defaultdict(list)
    for r in ranking:
        if r["score"] is not None:
            sums[r["district"] or "局直属"].append(Decimal(r["score"]))
    rows = [(name, float(sum(v) / len(v)), "blue") for name, v in sums.items()]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def _bands(ranking: list[dict]) -> list[tuple[str, float, str]]:
    scores = [Decimal(r["score"]) for r in ranking if r["score"] is not None]
    rows = []
    for label, low, high in BANDS:
        n = sum(1 for s in scores if low <= s < high)
        rows.append((label, float(n), "red" if low < 60 else "blue"))
    unscored = sum(1 for r in ranking if r["score"] is None)
    if unscored:
        rows.append(("未测评", float(unscored), "grey"))
    return rows


def charts_for(content: dict) -> list[Chart]:
    """The charts of a bulletin, drawn from its generated content."""
    ranking = content.get("ranking", [])
    by_status = content.get("headline", {}).get("by_status", {})
    specs = [
        ("districts", "图1  各区学校平均得分", _district_scores(ranking), 2, 100.0),
        ("bands", "图2  学校得分分布（所数）", _bands(ranking), 0, None),
        (
            "status",
            "图3  问题整改状态（个）",
            [(label, float(n), STATUS_COLOURS.get(label, "blue")) for label, n in by_status.items()],
            0,
            None,
        ),
    ]
    charts = []
    for key, title, rows, decimals, scale in specs:
        png, w, h = bar_chart(title, rows, decimals=decimals, scale_max=scale)
        charts.append(Chart(key=key, title=title, png=png, width_px=w, height_px=h))
    return charts
