"""A school's work plan as Excel and as Word (a simple table document with a title)."""

from __future__ import annotations

import io

import openpyxl
from django.utils import timezone
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from chuangwen.core import audit

HEADERS = ["序号", "标准编号", "测评标准", "工作内容", "负责人", "完成时限", "状态", "进展情况", "是否逾期"]
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def plan_rows(plan: list[dict]) -> list[list[str]]:
    rows = []
    for entry in plan:
        standard = entry["standard"]
        for task in entry["tasks"]:
            rows.append(
                [
                    str(len(rows) + 1),
                    standard.code,
                    standard.text,
                    task.title,
                    (task.assignee.name or task.assignee.username) if task.assignee else "",
                    task.due_date.strftime("%Y-%m-%d"),
                    task.get_status_display(),
                    task.progress_note,
                    "逾期" if task.overdue else "",
                ]
            )
    return rows


def title_for(school) -> str:
    return f"{school.name}创文工作计划"


def plan_xlsx(*, school, plan: list[dict], actor, request=None) -> bytes:
    rows = plan_rows(plan)
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "工作计划"
    ws.append([title_for(school)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"导出时间：{timezone.localtime().strftime('%Y-%m-%d %H:%M')}"])
    ws.append(HEADERS)
    for cell in ws[3]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B4232A")
    red = Font(color="C00000", bold=True)
    for values in rows:
        ws.append(values)
        if values[-1]:
            for cell in ws[ws.max_row]:
                cell.font = red
    for index, width in enumerate((6, 10, 40, 36, 12, 12, 8, 30, 8), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A4"
    buffer = io.BytesIO()
    workbook.save(buffer)
    _record(school, actor, request, "xlsx", len(rows))
    return buffer.getvalue()


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def plan_docx(*, school, plan: list[dict], actor, request=None) -> bytes:
    rows = plan_rows(plan)
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2))
    style = document.styles["Normal"]
    style.font.name = "仿宋"
    style.font.size = Pt(12)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋")

    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(heading.add_run(title_for(school)), "宋体", 22, bold=True)
    note = document.add_paragraph()
    note.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(note.add_run(f"{timezone.localdate().strftime('%Y年%m月%d日')}"), "仿宋", 12)

    columns = [0, 1, 3, 4, 5, 6, 7]  # the standard's full text stays in the Excel export
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, index in zip(table.rows[0].cells, columns, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(HEADERS[index]), "黑体", 11, bold=True)
    for values in rows:
        cells = table.add_row().cells
        for cell, index in zip(cells, columns, strict=True):
            text = values[index]
            if index == 5 and values[-1]:
                text += "（逾期）"
            _font(cell.paragraphs[0].add_run(text), "仿宋", 10.5)
    if not rows:
        _font(document.add_paragraph().add_run("尚无工作任务。"), "仿宋", 12)
    buffer = io.BytesIO()
    document.save(buffer)
    _record(school, actor, request, "docx", len(rows))
    return buffer.getvalue()


def _record(school, actor, request, fmt: str, count: int) -> None:
    audit.record(
        "duty.plan_export", actor=actor, request=request, obj=school, data={"format": fmt, "tasks": count}
    )
