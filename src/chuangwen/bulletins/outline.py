"""A bulletin as an ordered list of blocks (heading, paragraph, table, chart): the one description that
the .docx writer, the PDF template and the preview page all render, so the three say the same thing.

Numbering follows official bulletins: 一、 for sections (黑体), （一） for schools (楷体), 1. 2. for
problems.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from .generate import chinese_number

RANKING_COLUMNS = ("名次", "学校", "所属区", "类型", "得分", "问题", "未整改", "逾期", "整改率")
OVERDUE_COLUMNS = ("序号", "学校", "问题编号", "问题", "整改时限", "逾期天数")


@dataclass
class Block:
    kind: str  # "h1" | "h2" | "p" | "item" | "table" | "chart" | "note"
    text: str = ""
    columns: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)
    chart: str = ""  # chart key (charts.charts_for)
    caption: str = ""


@dataclass
class Outline:
    header: str  # 发文机关标志 (red)
    number: str  # 文号 ("" for a draft)
    title: str
    addressee: str
    blocks: list[Block]
    issuer: str
    date_text: str  # 成文日期, e.g. 2026年11月27日


def width_in_chars(text: str) -> float:
    """A text's width in body characters: a CJK character (or full-width sign) is one, ASCII half."""
    return sum(0.5 if ord(c) < 0x2E80 else 1 for c in text)


def signature_indents(issuer: str, date_text: str) -> tuple[float, float]:
    """Right indents, in characters, of the 发文机关署名 and the 成文日期 of a bulletin without a seal
    (GB/T 9704-2012 7.3.5.2): the name two characters in from the right, the date on the next line
    starting two characters right of the name's first character; a date longer than that would allow
    stays two characters in, and the name moves left to keep the two-character step."""
    name, date = width_in_chars(issuer), width_in_chars(date_text)
    date_right = name - date
    if date_right >= 2:
        return 2.0, date_right
    return 4 + date - name, 2.0


def date_cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _pct(value: str | None) -> str:
    return "—" if value is None else f"{value}%"


def _period_text(content: dict) -> str:
    start, end = (content.get("period") or ["", ""])[:2]
    if start and end:
        return f"{date_cn(dt.date.fromisoformat(start))}至{date_cn(dt.date.fromisoformat(end))}"
    return ""


def headline_text(content: dict) -> str:
    h = content.get("headline", {})
    as_of = (
        dt.datetime.fromisoformat(content["as_of"]).date() if content.get("as_of") else timezone.localdate()
    )
    scope = f"{content['round']}（{content['round_kind']}）" if content.get("round") else "全市"
    parts = [f"截至{date_cn(as_of)}，{scope}纳入统计的学校{h.get('schools', 0)}所"]
    if h.get("inspected_schools"):
        parts.append(
            f"已测评{h['inspected_schools']}所，综合得分{h.get('score') or '—'}分（按测评指标分值加权）"
        )
    else:
        parts.append("尚无已提交的测评结果")
    text = "，".join(parts) + "。"
    text += (
        f"累计发现问题{h.get('problems', 0)}个，已整改销号{h.get('closed', 0)}个，"
        f"整改率{_pct(h.get('rectification_rate'))}；尚未完成整改{h.get('open_problems', 0)}个，"
        f"其中逾期未整改{h.get('overdue', 0)}个。"
    )
    if h.get("median_days_to_close"):
        text += f"已销号问题从发现到销号的中位时长为{h['median_days_to_close']}天。"
    period = _period_text(content)
    if period:
        text += f"本期（{period}）新发现问题{h.get('found_in_period', 0)}个。"
    return text


def build(bulletin, *, content: dict | None = None, commended=None, criticised=None) -> Outline:
    """The outline of a bulletin. `content` defaults to the bulletin's stored content; the unit lists to
    the frozen names (issued) or the draft's current lists."""
    content = content if content is not None else (bulletin.content or {})
    if commended is None:
        commended = content.get("commended_names") if bulletin.is_issued else None
        if commended is None:
            commended = [u.name for u in bulletin.commended.order_by("name")] if bulletin.pk else []
    if criticised is None:
        criticised = content.get("criticised_names") if bulletin.is_issued else None
        if criticised is None:
            criticised = [u.name for u in bulletin.criticised.order_by("name")] if bulletin.pk else []

    blocks: list[Block] = [Block("p", t) for t in _paragraphs(bulletin.intro)]
    section = 0

    def h1(text: str) -> None:
        nonlocal section
        section += 1
        blocks.append(Block("h1", f"{chinese_number(section)}、{text}"))

    h1("总体情况")
    blocks.append(Block("p", headline_text(content)))
    lost = content.get("lost") or []
    if lost:
        listed = "；".join(
            f"{s['code']} {s['text']}（失{s['lost']}分，{s['schools_losing']}所学校失分）" for s in lost
        )
        blocks.append(Block("p", f"失分较多的测评指标依次为：{listed}。"))
    blocks.append(Block("chart", chart="districts", caption="图1  各区学校平均得分"))
    blocks.append(Block("chart", chart="bands", caption="图2  学校得分分布（所数）"))
    blocks.append(Block("chart", chart="status", caption="图3  问题整改状态（个）"))

    h1("学校排名")
    ranking = content.get("ranking") or []
    scored = sum(1 for r in ranking if r["score"] is not None)
    blocks.append(
        Block(
            "p",
            f"按测评得分排名（并列者名次相同），共{len(ranking)}所学校，其中{scored}所有测评得分；"
            "一票否决的学校得分计为0分，未测评的学校列在最后。",
        )
    )
    blocks.append(
        Block(
            "table",
            caption="表1  学校测评得分排名",
            columns=RANKING_COLUMNS,
            rows=[
                (
                    str(r["rank"]) if r["rank"] is not None else "—",
                    r["name"],
                    r["district"] or "局直属",
                    r["type"],
                    ("0（一票否决）" if r["vetoed"] else r["score"]) if r["score"] is not None else "未测评",
                    str(r["problems"]),
                    str(r["open"]),
                    str(r["overdue"]),
                    _pct(r["rate"]),
                )
                for r in ranking
            ],
        )
    )

    h1("发现的问题")
    by_school = content.get("problems_by_school") or []
    if not by_school:
        blocks.append(Block("p", "本期未发现新的问题。"))
    for i, school in enumerate(by_school, start=1):
        blocks.append(Block("h2", f"（{chinese_number(i)}）{school['name']}（{len(school['items'])}个）"))
        for j, item in enumerate(school["items"], start=1):
            where = f"（{item['location']}）" if item.get("location") else ""
            code = f"［{item['standard']}］" if item.get("standard") else ""
            text = item["description"].rstrip("。；;. ")
            blocks.append(
                Block("item", f"{j}. {text}{where}{code}，编号{item['number']}，{item['status']}。")
            )

    h1("逾期未整改问题")
    overdue = content.get("overdue") or []
    if overdue:
        blocks.append(
            Block(
                "p",
                f"以下{len(overdue)}个问题已超过整改时限仍未整改完成（标★者已按整改规则升级列入通报），"
                "请相关学校立即整改并报送整改材料。",
            )
        )
        blocks.append(
            Block(
                "table",
                caption="表2  逾期未整改问题",
                columns=OVERDUE_COLUMNS,
                rows=[
                    (
                        str(i),
                        o["school"],
                        o["number"] + ("★" if o.get("escalated") else ""),
                        o["description"],
                        o["deadline"],
                        str(o["days"]),
                    )
                    for i, o in enumerate(overdue, start=1)
                ],
            )
        )
    else:
        blocks.append(Block("p", "截至统计时，无逾期未整改的问题。"))

    if commended or criticised:
        h1("表扬与批评")
        if commended:
            blocks.append(
                Block("p", f"对工作扎实、成效明显的{'、'.join(commended)}予以通报表扬，希望继续巩固、保持。")
            )
        if criticised:
            blocks.append(
                Block(
                    "p",
                    f"对整改不力、问题突出的{'、'.join(criticised)}予以通报批评，"
                    "请上述学校主要负责人高度重视，限期整改到位。",
                )
            )

    requirements = _paragraphs(bulletin.requirements)
    if requirements:
        h1("下一步工作要求")
        blocks.extend(Block("p", t) for t in requirements)
    blocks.extend(Block("p", t) for t in _paragraphs(bulletin.closing))

    when = timezone.localtime(bulletin.issued_at).date() if bulletin.issued_at else timezone.localdate()
    return Outline(
        header=content.get("header") or _settings().header,
        number=bulletin.number,
        title=bulletin.title,
        addressee=bulletin.addressee,
        blocks=blocks,
        issuer=bulletin.issuer_name or _settings().issuer,
        date_text=date_cn(when),
    )


def _settings():
    from .models import BulletinSettings

    return BulletinSettings.current()
