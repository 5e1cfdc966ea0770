"""Bulletin benchmark: the .docx and the PDF of an issued bulletin for a city of 200 schools.

    .venv/bin/python bench/bulletins.py [--schools 200] [--problems 600] [--overdue 150] [--runs 5]

A download renders the bulletin from its frozen content (outline → charts → .docx / PDF), so that is
what is timed: an issued bulletin built in memory with a generated-content snapshot of the given size
(ranking table of every school, problems listed by school, the overdue table, three charts), no database
rows needed. Baselines measured in the same run: an empty python-docx Document saved, and a one-page
WeasyPrint PDF of one paragraph in the same CJK fonts. Median of N runs each, taken in turn; the first
PDF run (which loads pango and the fonts) is reported apart.

Targets (issue 5): .docx < 2 s, PDF < 10 s for 200 schools. Timings are printed, never asserted in tests.
Creating the draft (reading the figures) is `reports.figures`' cost, measured by bench/reports.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import statistics
import time

from common import ms, setup_django, timed

DISTRICTS = ("东城区", "西城区", "南湖区", "北山区", "高新区", "经开区")
TYPES = ("小学", "初中", "九年一贯制", "高中", "完全中学", "中职", "特殊教育", "幼儿园")
WORDS = (
    "校门口五十米内公益广告缺失",
    "教室未张贴社会主义核心价值观",
    "食堂光盘行动提示牌破损",
    "操场东侧有垃圾未清理",
    "厕所无禁烟标识",
    "宣传栏内容过期未更新",
    "无障碍通道被自行车占用",
    "随机询问5名学生，2名不能完整背诵核心价值观",
)


def content_for(schools: int, problems: int, overdue: int, seed: int = 7) -> dict:
    rnd = random.Random(seed)
    rows = []
    for i in range(schools):
        score = None if rnd.random() < 0.05 else round(rnd.uniform(55, 99.5), 2)
        rows.append(
            {
                "school_id": i + 1,
                "name": f"{DISTRICTS[i % 6][:2]}第{i + 1}{'小学' if i % 3 else '中学'}",
                "district": DISTRICTS[i % 6],
                "type": TYPES[i % 8],
                "score": None if score is None else f"{score:.2f}",
                "vetoed": rnd.random() < 0.01,
                "problems": rnd.randint(0, 12),
                "open": rnd.randint(0, 5),
                "overdue": rnd.randint(0, 2),
                "closed": rnd.randint(0, 8),
                "rate": f"{rnd.uniform(30, 100):.2f}",
            }
        )
    rows.sort(key=lambda r: (r["score"] is None, -(float(r["score"] or 0))))
    for rank, r in enumerate(rows, start=1):
        r["rank"] = rank if r["score"] is not None else None
        r["rank_in_type"] = r["rank"]
    by_school: dict[int, dict] = {}
    for n in range(problems):
        r = rows[rnd.randrange(len(rows))]
        entry = by_school.setdefault(
            r["school_id"], {"school_id": r["school_id"], "name": r["name"], "items": []}
        )
        entry["items"].append(
            {
                "id": n + 1,
                "number": f"2026-{n + 1:06d}",
                "standard": f"{rnd.randint(1, 9)}.{rnd.randint(1, 12)}",
                "description": rnd.choice(WORDS),
                "location": rnd.choice(("", "教学楼三层", "操场东侧", "食堂")),
                "status": rnd.choice(("已交办（待签收）", "整改中", "已销号")),
            }
        )
    over = [
        {
            "id": n + 1,
            "school_id": rows[n % len(rows)]["school_id"],
            "school": rows[n % len(rows)]["name"],
            "number": f"2026-{n + 1:06d}",
            "description": rnd.choice(WORDS),
            "standard": "1.1",
            "deadline": "2026-11-10",
            "days": rnd.randint(1, 20),
            "escalated": rnd.random() < 0.2,
        }
        for n in range(overdue)
    ]
    return {
        "version": 1,
        "as_of": "2026-11-27T18:00+08:00",
        "campaign": "2026年度创建周期",
        "round": "",
        "round_kind": "",
        "period": ["2026-11-01", "2026-11-26"],
        "headline": {
            "score": "86.40",
            "schools": schools,
            "inspected_schools": sum(1 for r in rows if r["score"] is not None),
            "problems": problems,
            "open_problems": problems // 3,
            "overdue": overdue,
            "closed": problems // 2,
            "rectification_rate": "50.00",
            "median_days_to_close": "4.5",
            "by_status": {
                "待交办": 20,
                "已交办（待签收）": 80,
                "整改中": 100,
                "待复核": 30,
                "已销号": 300,
                "已作废": 10,
            },
            "found_in_period": problems,
        },
        "lost": [
            {"code": f"{i}.1", "text": WORDS[i], "lost": f"{40 - i * 5}.00", "schools_losing": 30 - i}
            for i in range(5)
        ],
        "ranking": rows,
        "problems_by_school": sorted(by_school.values(), key=lambda s: s["name"]),
        "overdue": over,
        "header": "X市教育体育局创文工作通报",
        "commended_ids": [rows[0]["school_id"], rows[1]["school_id"]],
        "commended_names": [rows[0]["name"], rows[1]["name"]],
        "criticised_ids": [rows[-1]["school_id"]],
        "criticised_names": [rows[-1]["name"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--problems", type=int, default=600)
    parser.add_argument("--overdue", type=int, default=150)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    setup_django(settings="chuangwen.config.settings.test", migrate=False)  # no database rows needed

    from django.utils import timezone
    from docx import Document

    from chuangwen.bulletins import charts, docx_out, outline, output, pdf_out
    from chuangwen.bulletins.models import Bulletin

    content = content_for(args.schools, args.problems, args.overdue)
    bulletin = Bulletin(
        pk=None,
        status=Bulletin.Status.ISSUED,
        number="X教体创文〔2026〕12号",
        title="关于2026年11月创文工作情况的通报",
        addressee="各区教育局，局属各学校：",
        intro="为进一步压实创建全国文明城市工作责任，推动问题整改落实到位，现将有关情况通报如下：",
        requirements="（一）压实整改责任。\n（二）强化常态长效。\n（三）严肃追究问责。",
        issuer_name="X市教育体育局",
        issued_at=timezone.now() - dt.timedelta(minutes=5),
        content=content,
    )

    def empty_docx():
        out = io.BytesIO()
        Document().save(out)
        return out.getvalue()

    def one_page_pdf():
        from weasyprint import HTML

        style = "font-family: 'Noto Serif CJK SC'; font-size: 16pt"
        return HTML(string=f'<p style="{style}">X教体创文〔2026〕12号 通报正文一段。</p>').write_pdf()

    start = time.perf_counter()
    first_pdf = output.pdf_bytes(bulletin)
    cold_pdf = time.perf_counter() - start

    rounds = {"empty docx": [], "docx": [], "one-page pdf": [], "pdf": [], "charts": [], "outline": []}
    sizes = {}
    for _ in range(args.runs):
        for name, fn in (
            ("empty docx", empty_docx),
            ("docx", lambda: output.docx_bytes(bulletin)),
            ("one-page pdf", one_page_pdf),
            ("pdf", lambda: output.pdf_bytes(bulletin)),
            ("charts", lambda: charts.charts_for(content)),
            ("outline", lambda: outline.build(bulletin)),
        ):
            t0 = time.perf_counter()
            result = fn()
            rounds[name].append(time.perf_counter() - t0)
            if isinstance(result, bytes):
                sizes[name] = len(result)
    med = {k: statistics.median(v) for k, v in rounds.items()}
    ol, cl = outline.build(bulletin), charts.charts_for(content)
    docx_only = ms(timed(lambda: docx_out.render(ol, cl), args.runs, warmup=False)) / 1000
    pdf_only = ms(timed(lambda: pdf_out.render(ol, cl), max(2, args.runs // 2), warmup=False)) / 1000

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(first_pdf)).pages)
    listed = sum(len(s["items"]) for s in content["problems_by_school"])
    print(
        f"Bulletin for {args.schools} schools: {listed} problems listed under "
        f"{len(content['problems_by_school'])} schools, {args.overdue} overdue rows, 3 charts; "
        f"PDF {pages} pages. Median of {args.runs} runs."
    )
    docx_ms, base_docx = med["docx"] * 1000, med["empty docx"] * 1000
    pdf_ms, base_pdf = med["pdf"] * 1000, med["one-page pdf"] * 1000
    print(f"  .docx  {docx_ms:8.1f} ms  ({sizes['docx'] / 1024:.0f} KiB)   target < 2000 ms")
    print(f"    baseline: empty Document saved {base_docx:.1f} ms  →  ratio {docx_ms / base_docx:.1f}×")
    print(
        f"    of which: outline {med['outline'] * 1000:.1f} ms, charts {med['charts'] * 1000:.1f} ms, "
        f"writer {docx_only * 1000:.1f} ms"
    )
    print(f"  PDF    {pdf_ms:8.1f} ms  ({sizes['pdf'] / 1024:.0f} KiB)   target < 10000 ms")
    print(f"    baseline: one-page WeasyPrint PDF {base_pdf:.1f} ms  →  ratio {pdf_ms / base_pdf:.1f}×")
    print(
        f"    of which: WeasyPrint {pdf_only * 1000:.1f} ms; "
        f"first PDF of the process (pango, fonts) {cold_pdf * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
