"""The bulletin as a .docx in the GB/T 9704-2012 layout (python-docx).

A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (版心 156 × 225 mm); body 3号 (16 pt)
仿宋_GB2312, 22 lines × 28 characters: a line grid (docGrid type "lines", linePitch 579) with exact
28.95 pt lines, and the characters condensed by 0.25 pt (15.75 pt each, 28 × 15.75 ≤ 156 mm) rather
than a character grid — LibreOffice puts a 16 pt character that does not fit a 15.79 pt grid cell in
two cells (14 characters a line), while a condensed run lays out the same in Word and LibreOffice;
first-line indent of two characters; 一、 headings in 黑体, （一） in 楷体_GB2312; the title 2号 (22 pt)
方正小标宋简体; the red 版头 and separator line; page numbers “— 1 —” in 4号 宋体, odd pages on the
right, even pages on the left. The font names are the official ones (the bureau's Word has them).
Tables are written as XML rows directly: python-docx's cell API costs about 1 ms a cell.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor

from . import charts as charts_mod
from .outline import Outline, signature_indents

FANGSONG = "仿宋_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
LATIN = "Times New Roman"

BODY_PT = 16  # 3号
TITLE_PT = 22  # 2号
PAGE_NO_PT = 14  # 4号
TABLE_PT = 10.5  # 五号
LINE_PITCH_TWIPS = 579  # 225 mm ÷ 22 lines
LINE_PT = LINE_PITCH_TWIPS / 20
TEXT_WIDTH_MM = 210 - 28 - 26
# 28 characters a line: each condensed by this many twentieths of a point (16 − 0.25 = 15.75 pt).
CONDENSE_TWENTIETHS = -5
CHAR_PT = BODY_PT + CONDENSE_TWENTIETHS / 20  # one body character's advance
RED = RGBColor(0xFF, 0x00, 0x00)
# The elements that follow w:pBdr in a w:pPr (WordprocessingML's schema order; Word rejects others).
AFTER_PBDR = [
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
]
AFTER_IND = AFTER_PBDR[AFTER_PBDR.index("w:ind") + 1 :]
# The elements that follow w:spacing in a w:rPr.
AFTER_RPR_SPACING = [
    "w:w",
    "w:kern",
    "w:position",
    "w:sz",
    "w:szCs",
    "w:highlight",
    "w:u",
    "w:effect",
    "w:bdr",
    "w:shd",
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    "w:eastAsianLayout",
    "w:specVanish",
    "w:oMath",
]


def _fonts(run_or_style, east_asian: str, latin: str = LATIN) -> None:
    font = run_or_style.font
    font.name = latin
    rpr = run_or_style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = parse_xml(f"<w:rFonts {nsdecls('w')}/>")
        rpr.insert(0, rfonts)
    rfonts.set(qn("w:eastAsia"), east_asian)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)


def _exact(paragraph, points: float = LINE_PT) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(points)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _para(doc, text: str = "", *, font: str = FANGSONG, size: float = BODY_PT, indent: bool = True):
    """A paragraph in the Normal style (仿宋_GB2312 3号, exact 28.95 pt, indented two characters); only
    what differs from the style is written on the paragraph and its run (about 1 ms saved a paragraph)."""
    p = doc.add_paragraph()
    if not indent:
        ind = parse_xml(f'<w:ind {nsdecls("w")} w:firstLine="0" w:firstLineChars="0"/>')
        p._p.get_or_add_pPr().insert_element_before(ind, *AFTER_IND)
    if text:
        run = p.add_run(text)
        if font != FANGSONG:
            _fonts(run, font)
        if size != BODY_PT:
            run.font.size = Pt(size)
    return p


def _page_number_footer(footer, *, align) -> None:
    p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        fmt.right_indent = Pt(PAGE_NO_PT)  # 右空一字
    else:
        fmt.left_indent = Pt(PAGE_NO_PT)  # 左空一字

    def run(text: str):
        r = p.add_run(text)
        _fonts(r, SONGTI, SONGTI)
        r.font.size = Pt(PAGE_NO_PT)
        return r

    run("— ")
    r = run("")
    r._r.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="begin"/>'))
    r = run("")
    r._r.append(parse_xml(f'<w:instrText {nsdecls("w")} xml:space="preserve"> PAGE </w:instrText>'))
    r = run("")
    r._r.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="separate"/>'))
    run("1")
    r = run("")
    r._r.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="end"/>'))
    run(" —")


def _setup(doc) -> None:
    section = doc.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(24)
    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = parse_xml(f"<w:docGrid {nsdecls('w')}/>")
        sect.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    if grid.get(qn("w:charSpace")) is not None:
        del grid.attrib[qn("w:charSpace")]
    # Chinese line breaking and punctuation (the template says en-US for East Asian text).
    lang = doc.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")

    normal = doc.styles["Normal"]
    _fonts(normal, FANGSONG)
    normal.font.size = Pt(BODY_PT)
    normal_rpr = normal.element.get_or_add_rPr()
    normal_rpr.insert_element_before(
        parse_xml(f'<w:spacing {nsdecls("w")} w:val="{CONDENSE_TWENTIETHS}"/>'), *AFTER_RPR_SPACING
    )
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(LINE_PT)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.widow_control = False
    normal.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    normal.element.get_or_add_pPr().find(qn("w:ind")).set(qn("w:firstLineChars"), "200")  # 首行缩进二字

    doc.settings.odd_and_even_pages_header_footer = True
    _page_number_footer(section.footer, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number_footer(section.even_page_footer, align=WD_ALIGN_PARAGRAPH.LEFT)


def _cell(text: str, *, width: int, head: bool, align: str) -> str:
    font = HEITI if head else FANGSONG
    size = int(TABLE_PT * 2)
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
        f'<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="300" w:lineRule="exact"/>'
        f'<w:ind w:firstLine="0" w:firstLineChars="0"/><w:jc w:val="{align}"/></w:pPr>'
        f'<w:r><w:rPr><w:rFonts w:ascii="{LATIN}" w:hAnsi="{LATIN}" w:eastAsia="{font}"/>'
        f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr>'
        f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:tc>'
    )


def _table(doc, columns: tuple[str, ...], rows: list[tuple[str, ...]], widths: list[int]) -> None:
    """A bordered table, header row repeated on every page, rows built as XML in one parse."""
    total = sum(widths)
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    border = '<w:{0} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    borders = "".join(border.format(b) for b in ("top", "left", "bottom", "right", "insideH", "insideV"))
    wide = {i for i, w in enumerate(widths) if w >= 1800}
    head = "".join(_cell(c, width=widths[i], head=True, align="center") for i, c in enumerate(columns))
    body = []
    for row in rows:
        cells = "".join(
            _cell(str(v), width=widths[i], head=False, align="left" if i in wide else "center")
            for i, v in enumerate(row)
        )
        body.append(f"<w:tr><w:trPr><w:cantSplit/></w:trPr>{cells}</w:tr>")
    xml = (
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblW w:w="{total}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:left w:w="60" w:type="dxa"/><w:right w:w="60" w:type="dxa"/></w:tblCellMar>'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
        f"<w:tr><w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>{head}</w:tr>{''.join(body)}</w:tbl>"
    )
    tbl = parse_xml(xml)
    doc.element.body.append(tbl)  # before the final sectPr is fixed below
    body_el = doc.element.body
    sect = body_el.find(qn("w:sectPr"))
    if sect is not None:
        body_el.remove(sect)
        body_el.append(sect)


# twips; the 版心 is 156 mm = 8844 twips, and no table is wider (it would overflow the margins).
TEXT_WIDTH_TWIPS = round(TEXT_WIDTH_MM / 25.4 * 1440)
RANKING_WIDTHS = [620, 2200, 1000, 1250, 900, 600, 800, 600, 874]  # 类型 fits 九年一贯制
# 问题编号 fits “2026-000123★” and 逾期天数 its four characters on one line (checked in LibreOffice).
OVERDUE_WIDTHS = [600, 1900, 1500, 2684, 1200, 960]


def _caption(doc, text: str) -> None:
    p = _para(doc, text, font=HEITI, size=TABLE_PT + 1.5, indent=False)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def render(outline: Outline, chart_list: list[charts_mod.Chart] | None = None) -> bytes:
    doc = Document()
    _setup(doc)
    # The template's first (empty) paragraph is reused for the red 版头.
    body = doc.element.body
    for p in list(body.findall(qn("w:p"))):
        body.remove(p)

    header_pt = min(42, int(TEXT_WIDTH_MM / 25.4 * 72 / max(len(outline.header), 1)))
    p = _para(doc, indent=False)
    _exact(p, max(header_pt * 1.3, LINE_PT))
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(outline.header)
    _fonts(run, XIAOBIAOSONG)
    run.font.size = Pt(header_pt)
    run.font.color.rgb = RED
    _para(doc, indent=False)
    _para(doc, indent=False)
    number = _para(doc, outline.number or "（草稿，印发时编号）", indent=False)
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The red separator line, 4 mm under the 发文字号, as wide as the 版心.
    ppr = number._p.get_or_add_pPr()
    line = '<w:bottom w:val="single" w:sz="18" w:space="11" w:color="FF0000"/>'
    ppr.insert_element_before(parse_xml(f"<w:pBdr {nsdecls('w')}>{line}</w:pBdr>"), *AFTER_PBDR)
    _para(doc, indent=False)  # the title two lines under the red line (GB/T 9704 7.3.1)
    _para(doc, indent=False)
    title = _para(doc, indent=False)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _exact(title, 35)
    run = title.add_run(outline.title)
    _fonts(run, XIAOBIAOSONG)
    run.font.size = Pt(TITLE_PT)
    _para(doc, indent=False)
    if outline.addressee:
        _para(doc, outline.addressee, indent=False)

    images = {c.key: c for c in (chart_list or [])}
    for block in outline.blocks:
        if block.kind == "h1":
            _para(doc, block.text, font=HEITI)
        elif block.kind == "h2":
            _para(doc, block.text, font=KAITI)
        elif block.kind in ("p", "item", "note"):
            _para(doc, block.text)
        elif block.kind == "chart" and block.chart in images:
            chart = images[block.chart]
            pic = doc.add_paragraph()
            pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
            pic.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE  # exact spacing clips images
            pic.paragraph_format.keep_with_next = True
            pic.add_run().add_picture(io.BytesIO(chart.png), width=Mm(150))
        elif block.kind == "table":
            _caption(doc, block.caption)
            widths = RANKING_WIDTHS if len(block.columns) == len(RANKING_WIDTHS) else OVERDUE_WIDTHS
            _table(doc, block.columns, block.rows, widths)

    _para(doc, indent=False)  # 正文下空一行
    indents = signature_indents(outline.issuer, outline.date_text)
    for text, chars in zip((outline.issuer, outline.date_text), indents, strict=True):
        p = _para(doc, text, indent=False)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.right_indent = Pt(CHAR_PT * chars)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
