"""Index import benchmark: a 1,000-standard task table (10 projects × 10 contents × 10 standards, merged
cells for the upper levels), parsed and imported, against openpyxl merely reading the same workbook.

    .venv/bin/python bench/index_import.py [--rounds 3] [--keep]

For 1,000 and 2,000 standards, prints the best-of-N wall time and the tracemalloc peak of
  - baseline: openpyxl read-only, values-only, every row of the sheet (the floor of any import);
  - parse: `imports.parse_excel` (the dry run: every check, nothing written);
  - import: parse + `imports.edition_import` into a fresh SQLite database (one transaction);
  - export: `imports.export_xlsx` of the imported edition (reference figure);
  - yaml parse: `imports.parse_yaml` of the same edition exported as YAML (reference figure);
each with its ratio to the baseline and, for memory, to the file's own size. Then the memory ratio
2k/1k of the import (1.0 would mean memory does not grow with the file; 2.0 that it grows in proportion).

Targets (issue 3): import under 5 s; memory that does not grow with the file beyond its own size.
Uses a fresh temporary data directory (SQLite, the embedded default); DATABASE_URL is ignored. Time is
measured without tracemalloc (which slows Python down), memory in a separate run with it.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from common import mb, setup_django

HEADER = [
    "测评项目",
    "测评内容",
    "编号",
    "测评标准",
    "分值",
    "测评方法",
    "材料要求",
    "责任单位",
    "适用学校类型",
]
METHODS = ["实地考察", "材料审核、问卷调查", "网上申报", "实地考察/整体观察"]
TYPES = ["全部", "中小学", "小学、初中", "幼儿园", "高中，职业学校"]


def make_workbook(per_content: int, projects: int = 10, contents: int = 10) -> bytes:
    """A task table as a bureau would send it: title row, header, merged 测评项目 and 测评内容."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务分解表"
    ws.append(["某市教育系统创建全国文明城市测评任务分解表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append(HEADER)
    row = 3
    n = 0
    for p in range(1, projects + 1):
        project_first = row
        for c in range(1, contents + 1):
            content_first = row
            for s in range(1, per_content + 1):
                n += 1
                ws.append(
                    [
                        f"{p} 测评项目第{p}项" if row == project_first else None,
                        f"{p}.{c} 测评内容第{c}项" if row == content_first else None,
                        f"{p}.{c}.{s}",
                        f"第{n}条测评标准：校园内公益广告、核心价值观宣传、文明礼仪教育等按要求落实，"
                        f"台账资料齐全，随机抽查{s}名学生知晓率达到要求。",
                        [0.5, 1, 1.5, 2][n % 4],
                        METHODS[n % len(METHODS)],
                        "方案、总结、活动图片",
                        ["德育科", "后勤科", "体卫艺科"][n % 3],
                        TYPES[n % len(TYPES)],
                    ]
                )
                row += 1
            if row - 1 > content_first:
                ws.merge_cells(start_row=content_first, start_column=2, end_row=row - 1, end_column=2)
        ws.merge_cells(start_row=project_first, start_column=1, end_row=row - 1, end_column=1)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def baseline(data: bytes) -> int:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    count = 0
    for values in wb.worksheets[0].iter_rows(values_only=True):
        count += any(v is not None for v in values)
    wb.close()
    return count


def parse(data: bytes):
    from chuangwen.index import imports

    result = imports.parse_excel(data)
    assert result.ok, [str(i) for i in result.errors[:5]]
    return result


_serial = iter(range(1_000_000))


def do_import(data: bytes):
    from chuangwen.index import imports

    n = next(_serial)
    result = imports.parse_excel(data)
    edition = imports.edition_import(result=result, name=f"基准版本{n}", code=f"bench-{n}")
    assert edition is not None, [str(i) for i in result.errors[:5]]
    return edition


def export(edition):
    from chuangwen.index import imports

    return imports.export_xlsx(edition)


def yaml_parse(text: bytes):
    from chuangwen.index import imports

    result = imports.parse_yaml(text)
    assert result.ok, [str(i) for i in result.errors[:5]]
    return result


def measure(fn, arg, rounds: int) -> tuple[float, int, object]:
    best = float("inf")
    value = None
    for _ in range(rounds):
        start = time.perf_counter()
        value = fn(arg)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    fn(arg)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak, value


def run(per_content: int, rounds: int) -> dict:
    from chuangwen.index.models import Standard

    data = make_workbook(per_content)
    size = len(data)
    rows = {}
    rows["baseline"] = measure(baseline, data, rounds)
    rows["parse"] = measure(parse, data, rounds)
    rows["import"] = measure(do_import, data, rounds)
    edition = rows["import"][2]
    standards = Standard.objects.filter(edition=edition).count()
    rows["export"] = measure(export, edition, rounds)
    from chuangwen.index import imports

    text = imports.export_yaml(edition).encode()
    rows["yaml parse"] = measure(yaml_parse, text, rounds)
    base_t, base_m, _ = rows["baseline"]
    print(f"\n{standards} standards, workbook {size / 1024:.0f} KB")
    print(f"YAML of the same edition: {len(text) / 1024:.0f} KB (its rows are reference figures)")
    print(f"{'step':<10}{'time':>9}{'× base':>9}{'peak mem':>11}{'× base':>9}{'× file':>9}")
    for name, (seconds, peak, _) in rows.items():
        memory = f"{mb(peak):>11}{peak / base_m:>9.2f}{peak / size:>9.2f}"
        print(f"{name:<10}{seconds:>8.3f}s{seconds / base_t:>9.2f}{memory}")
    return {"size": size, "standards": standards, **{k: v[:2] for k, v in rows.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cw-bench-index-"))
    try:
        setup_django(data_dir)
        one = run(10, args.rounds)
        two = run(20, args.rounds)
    finally:
        if args.keep:
            print(f"\ndata directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    seconds = one["import"][0]
    print("\nsummary")
    print(
        f"  import of 1,000 standards: {seconds:.2f} s (target < 5 s): {'met' if seconds < 5 else 'missed'}"
    )
    ratio = two["import"][1] / one["import"][1]
    base_ratio = two["baseline"][1] / one["baseline"][1]
    file_ratio = two["size"] / one["size"]
    print(
        f"  peak memory 2k/1k: import {ratio:.2f}, baseline {base_ratio:.2f}, file size {file_ratio:.2f}; "
        f"import peak / file size at 1k: {one['import'][1] / one['size']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
