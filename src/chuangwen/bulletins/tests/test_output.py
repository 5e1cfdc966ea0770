"""The .docx (GB/T 9704 layout) and PDF of an issued bulletin, opened again and checked."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from pypdf import PdfReader

from chuangwen.bulletins import charts, outline, output, pdf_out, services
from chuangwen.core.roles import Role
from chuangwen.reports.tests.factories import build

MM = Mm(1)


@pytest.fixture
def issued(city):
    f = build(city)
    office = city.users[Role.OFFICE]
    draft = services.bulletin_create(
        campaign=f.campaign,
        period_start=dt.date(2026, 9, 1),
        period_end=dt.date(2027, 6, 30),
        actor=office,
        now=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),  # with overdue problems
    )
    services.bulletin_update(
        bulletin=draft,
        actor=office,
        intro="为推动整改落实，现将有关情况通报如下：",
        requirements="（一）压实责任。\n（二）限期整改。",
        commended=[city.school_b],
        criticised=[city.school_a],
    )
    return services.bulletin_issue(bulletin=draft, actor=office)


def _east_asian(run_or_style_element) -> str | None:
    rpr = run_or_style_element.find(qn("w:rPr"))
    if rpr is None:
        return None
    fonts = rpr.find(qn("w:rFonts"))
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def _runs(doc):
    for p in doc.paragraphs:
        for r in p.runs:
            yield p, r


def _near(length, mm: float) -> bool:
    return abs(length - Mm(mm)) <= MM // 2


def test_docx_layout_fonts_number_and_tables(issued, city):
    doc = Document(io.BytesIO(output.docx_bytes(issued)))
    section = doc.sections[0]
    assert _near(section.page_width, 210) and _near(section.page_height, 297)
    assert _near(section.top_margin, 37) and _near(section.bottom_margin, 35)
    assert _near(section.left_margin, 28) and _near(section.right_margin, 26)
    grid = section._sectPr.find(qn("w:docGrid"))
    # A line grid of 22 lines; 28 characters a line by condensing each 3号 character by 0.25 pt (a
    # character grid of 15.79 pt cells puts each 16 pt character in two cells in LibreOffice).
    assert grid.get(qn("w:type")) == "lines" and grid.get(qn("w:linePitch")) == "579"
    assert grid.get(qn("w:charSpace")) is None
    condensed = int(doc.styles["Normal"].element.rPr.find(qn("w:spacing")).get(qn("w:val")))
    text_width_pt = (210 - 28 - 26) / 25.4 * 72
    assert 28 * (16 + condensed / 20) <= text_width_pt < 29 * (16 + condensed / 20)
    lang = doc.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
    assert lang.get(qn("w:eastAsia")) == "zh-CN"

    normal = doc.styles["Normal"]
    assert _east_asian(normal.element) == "仿宋_GB2312" and normal.font.size == Pt(16)
    assert normal.paragraph_format.line_spacing == Pt(28.95)
    assert normal.paragraph_format.first_line_indent == Pt(32)  # 首行缩进二字
    assert normal.element.pPr.find(qn("w:ind")).get(qn("w:firstLineChars")) == "200"

    runs = list(_runs(doc))
    texts = [r.text for _, r in runs]
    header = next(r for _, r in runs if r.text == "X市教育体育局创文工作通报")
    assert _east_asian(header._r) == "方正小标宋简体" and str(header.font.color.rgb) == "FF0000"
    number = next(p for p, r in runs if r.text == issued.number)
    assert number.alignment == 1  # centred
    border = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert border.get(qn("w:color")) == "FF0000"  # the red separator line
    title = next(r for _, r in runs if r.text == issued.title)
    assert title.font.size == Pt(22) and _east_asian(title._r) == "方正小标宋简体"
    heading = next(r for _, r in runs if r.text == "一、总体情况")
    assert _east_asian(heading._r) == "黑体"
    school_heading = next(r for _, r in runs if r.text.startswith("（一）"))
    assert _east_asian(school_heading._r) == "楷体_GB2312"
    body = next(p for p, r in runs if r.text.startswith("为推动整改落实"))
    # Body paragraphs take everything from the Normal style; the 文号 and title are not indented.
    assert body.style.name == "Normal" and body.paragraph_format.first_line_indent is None
    assert body.runs[0].font.size is None and _east_asian(body.runs[0]._r) is None
    assert number.paragraph_format.first_line_indent == 0 and title.font.size == Pt(22)
    first_school = issued.content["problems_by_school"][0]
    numbered = [t for t in texts if t[:1].isdigit() and "，编号" in t]
    assert numbered[: len(first_school["items"])] == [
        t
        for t in numbered[: len(first_school["items"])]
        if t.startswith(tuple(f"{i}. " for i in range(1, 99)))
    ]
    assert [t.split(". ")[0] for t in numbered[: len(first_school["items"])]] == [
        str(i) for i in range(1, len(first_school["items"]) + 1)
    ]
    assert sum(len(s["items"]) for s in issued.content["problems_by_school"]) == len(numbered)
    assert any(city.school_b.name in t and "通报表扬" in t for t in texts)
    assert any(city.school_a.name in t and "通报批评" in t for t in texts)
    assert "（一）压实责任。" in texts

    ranking, overdue = doc.tables
    rows = [[c.text for c in row.cells] for row in ranking.rows]
    assert rows[0] == ["名次", "学校", "所属区", "类型", "得分", "问题", "未整改", "逾期", "整改率"]
    expected = [
        [str(r["rank"]) if r["rank"] is not None else "—", r["name"]] for r in issued.content["ranking"]
    ]
    assert [row[:2] for row in rows[1:]] == expected
    by_name = {row[1]: row for row in rows[1:]}
    for r in issued.content["ranking"]:
        shown = by_name[r["name"]][4]
        assert shown == ("未测评" if r["score"] is None else ("0（一票否决）" if r["vetoed"] else r["score"]))
    over_rows = [[c.text for c in row.cells] for row in overdue.rows]
    assert over_rows[0][:3] == ["序号", "学校", "问题编号"]
    assert [r[1] for r in over_rows[1:]] == [o["school"] for o in issued.content["overdue"]]
    assert len(over_rows) - 1 == len(issued.content["overdue"]) > 0
    cell_run = ranking.rows[1].cells[1]._tc.find(f".//{qn('w:r')}")
    for table in (ranking, overdue):  # inside the 版心 (156 mm = 8844 twips), not over the margins
        widths = [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]
        assert sum(widths) <= 8844
    assert _east_asian(cell_run) == "仿宋_GB2312"

    # Page numbers “— n —” in 4号 宋体: odd pages on the right, even pages on the left.
    assert doc.settings.odd_and_even_pages_header_footer
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert odd.alignment == 2 and even.alignment == 0  # right / left
    for p in (odd, even):
        assert "PAGE" in p._p.xml and p.text.startswith("— ") and p.text.endswith(" —")
        assert p.runs[0].font.size == Pt(14) and _east_asian(p.runs[0]._r) == "宋体"
    assert len(doc.inline_shapes) == 3  # the charts


def test_pdf_text_is_chinese_and_fonts_are_embedded(issued, city):
    reader = PdfReader(io.BytesIO(output.pdf_bytes(issued)))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert issued.number in text
    assert city.school_a.name in text and "一、总体情况" in text and "逾期未整改问题" in text
    assert "— 1 —" in text
    embedded = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    embedded.add(str(descriptor["/FontName"]))
    assert any("CJK" in name for name in embedded), embedded
    assert len(reader.pages) >= 2
    images = {image.data for page in reader.pages for image in page.images}
    assert len(images) == 3
    # Page numbers at the bottom, on the outside edge: odd pages right, even pages left.
    for number, page in enumerate(reader.pages[:2], start=1):
        found = []

        def visit(text, cm, tm, font, size, found=found, label=f"— {number} —"):
            if text.strip() == label:
                found.append((cm[0] * tm[4] + cm[4], cm[3] * tm[5] + cm[5]))

        page.extract_text(visitor_text=visit)
        [(x, y)] = found
        width = float(page.mediabox.width)
        assert y < 35 / 25.4 * 72  # in the bottom margin (35 mm)
        assert (x > width / 2) if number % 2 else (x < width / 2)


def test_charts_are_drawn_from_the_content(issued):
    drawn = charts.charts_for(issued.content)
    assert [c.key for c in drawn] == ["districts", "bands", "status"]
    for chart in drawn:
        assert chart.png.startswith(b"\x89PNG") and chart.width_px == charts.WIDTH
    # The bars follow the data: three district rows (东区, 西区, 局直属) make the chart taller than one.
    one = charts.bar_chart("t", [("东区", 90.0, "blue")])
    three = charts.bar_chart("t", [("东区", 90.0, "blue"), ("西区", 80.0, "blue"), ("局直属", 0.0, "blue")])
    assert three[2] > one[2]
    assert charts._font_file() is not None  # a CJK font was found (fonts-noto-cjk)


def test_draft_downloads_say_draft(city):
    from .factories import make_draft

    draft = make_draft(city)
    doc = Document(io.BytesIO(output.docx_bytes(draft)))
    assert "（草稿，印发时编号）" in [p.text for p in doc.paragraphs]
    assert output.filename(draft, "docx").startswith("通报草稿")


def test_an_issued_bulletins_files_are_rendered_once_and_a_drafts_every_time(city, monkeypatch):
    from chuangwen.bulletins import docx_out

    from .factories import make_draft, make_issued

    calls = []
    real = docx_out.render
    monkeypatch.setattr(docx_out, "render", lambda *a, **k: calls.append(1) or real(*a, **k))
    issued = make_issued(city)
    first = output.docx_bytes(issued)
    assert output.docx_bytes(issued) == first and len(calls) == 1
    draft = make_draft(city)
    output.docx_bytes(draft)
    output.docx_bytes(draft)
    assert len(calls) == 3


def _fonts_of(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


UKAI = Path("/usr/share/fonts/truetype/arphic/ukai.ttc")


@pytest.mark.skipif(not UKAI.exists(), reason="fonts-arphic-ukai (optional) not installed")
def test_pdf_school_headings_in_kaiti_when_installed(issued):
    fonts = _fonts_of(output.pdf_bytes(issued))
    assert any("UKai" in f for f in fonts), fonts
    assert any("Noto-Serif-CJK" in f for f in fonts)


def test_pdf_school_headings_fall_back_to_the_body_font_without_kaiti(issued, monkeypatch):
    monkeypatch.setattr(pdf_out, "KAITI", ("楷体_GB2312", "KaiTi", "没有这个楷体"))
    pdf = pdf_out.render(outline.build(issued), charts.charts_for(issued.content))
    fonts = _fonts_of(pdf)
    assert not any("UKai" in f for f in fonts) and any("Noto-Serif-CJK" in f for f in fonts), fonts
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert issued.content["problems_by_school"][0]["name"] in text.replace("\n", "")
