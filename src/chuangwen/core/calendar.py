"""The Chinese working-day calendar: holidays, 调休 make-up days and deadlines in Asia/Shanghai.

The source of truth is the `HolidayDay` table, seeded from the chinese-calendar library and kept up to
date by an administrator (by hand or by importing the State Council's yearly notice). The library is
never consulted at run time, so a year it does not know is simply a year nobody has entered yet: it is
computed on weekends only and `calendar_gaps` / `calendar_warning` say so, instead of raising.

Conventions (days are Shanghai calendar dates):
- `add_working_days(d, n)`, n ≥ 1: the n-th working day after d (d itself never counts);
  n = 0: d when d is a working day, else the next working day.
- `working_days_between(a, b)`: the working days in (a, b], i.e. after a up to and including b;
  negative when b < a. Hence `working_days_between(d, add_working_days(d, n)) == n` for every n ≥ 1,
  and for n = 0 when d is a working day.

Lookups use a per-process snapshot of the (small) table. A save or delete bumps a version in the
Django cache, so every process sharing that cache reloads on its next call; a process whose cache is
not shared (locmem in the embedded mode) also reloads after CALENDAR_CACHE_SECONDS.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from .models import HolidayDay

SHANGHAI = ZoneInfo("Asia/Shanghai")
VERSION_KEY = "chuangwen:calendar:version"
SEVERITIES = ("immediate", "days", "long")
WARNING_TEXT = "{years} 年的节假日安排尚未录入，按周末计算工作日，请系统管理员录入国务院办公厅的放假通知。"
# add_working_days walks day by day; a bound keeps a bad argument from spinning.
MAX_DAYS = 3660


# --- snapshot and invalidation ---------------------------------------------------------------------


class _PendingBump:
    """An on_commit callback; while it is still queued the transaction that changed rows is open."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        self.done = True
        _bump_version()


@dataclass(frozen=True)
class _Snapshot:
    working: dict[dt.date, bool]  # exceptions only: date -> is a working day
    years: frozenset[int]
    version: object
    loaded_at: float
    pending: tuple[_PendingBump, ...] = ()  # set when read inside a transaction that changed rows


_shared: dict[str, Any] = {"snapshot": None, "pending": []}
_lock = threading.Lock()


def _bump_version() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def _still_pending(marker: _PendingBump) -> bool:
    connection = transaction.get_connection()
    return not marker.done and any(entry[1] is marker for entry in connection.run_on_commit)


def invalidate() -> None:
    """Forget the snapshot here and in every process sharing the cache; call after rows change.

    Inside a transaction the bump is repeated on commit (other processes must not keep what they may
    have read before it), and a snapshot read in the meantime is trusted only while that transaction
    is open, so a rollback (or a test's rollback) never leaves uncommitted days behind.
    """
    with _lock:
        _shared["snapshot"] = None
        _bump_version()
        if transaction.get_connection().in_atomic_block:
            marker = _PendingBump()
            transaction.on_commit(marker)
            _shared["pending"] = [*filter(_still_pending, _shared["pending"]), marker]
        else:
            _shared["pending"] = []


def _load(version: object) -> _Snapshot:
    rows = HolidayDay.objects.values_list("date", "kind", "year")
    working: dict[dt.date, bool] = {}
    years: set[int] = set()
    for day, kind, year in rows:
        working[day] = kind == HolidayDay.Kind.WORKDAY
        years.add(year)
    pending = tuple(filter(_still_pending, _shared["pending"]))
    return _Snapshot(working, frozenset(years), version, time.monotonic(), pending)


def _snapshot() -> _Snapshot:
    version = cache.get(VERSION_KEY)
    snapshot = _shared["snapshot"]
    ttl = getattr(settings, "CALENDAR_CACHE_SECONDS", 300)
    if (
        not isinstance(snapshot, _Snapshot)
        or snapshot.version != version
        or time.monotonic() - snapshot.loaded_at > ttl
        or not all(map(_still_pending, snapshot.pending))
    ):
        snapshot = _load(version)
        _shared["snapshot"] = snapshot
    return snapshot


# --- working days ----------------------------------------------------------------------------------


def _is_working(snapshot: _Snapshot, day: dt.date) -> bool:
    working = snapshot.working.get(day)
    return day.weekday() < 5 if working is None else working


def is_working_day(day: dt.date) -> bool:
    return _is_working(_snapshot(), day)


def next_working_day(day: dt.date) -> dt.date:
    """Return the first working day strictly after `day`."""
    return add_working_days(day, 1)


def add_working_days(day: dt.date, n: int) -> dt.date:
    if n < 0:
        raise ValueError("工作日数不能为负数")
    snapshot = _snapshot()
    if n == 0:
        while not _is_working(snapshot, day):
            day += dt.timedelta(days=1)
        return day
    remaining = n
    for _ in range(MAX_DAYS + 7 * n):
        day += dt.timedelta(days=1)
        if _is_working(snapshot, day):
            remaining -= 1
            if remaining == 0:
                return day
    raise ValueError("日历中找不到足够的工作日")  # only a table full of holidays gets here


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Count the working days after `a` up to and including `b` (negative when b < a)."""
    if b < a:
        return -working_days_between(b, a)
    snapshot = _snapshot()
    return sum(_is_working(snapshot, a + dt.timedelta(days=i)) for i in range(1, (b - a).days + 1))


# --- deadlines -------------------------------------------------------------------------------------


def end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.max, tzinfo=SHANGHAI)


def shanghai_date(moment: dt.datetime) -> dt.date:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("需要带时区的时间")
    return moment.astimezone(SHANGHAI).date()


def deadline_for(
    found_at: dt.datetime, *, severity: str, days: int = 0, target: dt.date | None = None
) -> dt.datetime:
    """Return the rectification deadline of a problem found at `found_at`.

    immediate (立行立改): the end of the Shanghai day it was found, however late;
    days (限期整改): the end of the day `days` working days after the found day;
    long (长期整改): the end of `target`.
    """
    found_day = shanghai_date(found_at)
    if severity == "immediate":
        return end_of_day(found_day)
    if severity == "days":
        if days < 0:
            raise ValueError("整改期限的工作日数不能为负数")
        return end_of_day(add_working_days(found_day, days))
    if severity == "long":
        if target is None:
            raise ValueError("长期整改需要指定目标日期")
        return end_of_day(target)
    raise ValueError(f"未知的整改类型：{severity}")


# --- gaps and warnings -----------------------------------------------------------------------------


def entered_years() -> frozenset[int]:
    return _snapshot().years


def calendar_gaps(start: dt.date, end: dt.date) -> list[int]:
    """Return the years from start to end (inclusive) for which no holidays have been entered."""
    if end < start:
        start, end = end, start
    years = _snapshot().years
    return [year for year in range(start.year, end.year + 1) if year not in years]


@dataclass(frozen=True)
class CalendarWarning:
    years: tuple[int, ...]

    @property
    def message(self) -> str:
        return WARNING_TEXT.format(years="、".join(str(year) for year in self.years))

    def __str__(self) -> str:
        return self.message


def calendar_warning(start: dt.date, end: dt.date) -> CalendarWarning | None:
    """Return the warning to show when a computation from start to end used an unentered year."""
    gaps = calendar_gaps(start, end)
    return CalendarWarning(tuple(gaps)) if gaps else None


# --- the State Council notice ----------------------------------------------------------------------


class NoticeError(ValueError):
    def __init__(self, message: str, *, line_no: int | None = None, line: str = "") -> None:
        self.line_no = line_no
        self.line = line
        if line_no is not None:
            message = f"第 {line_no} 行无法解析：「{line}」——{message}"
        super().__init__(message)


@dataclass(frozen=True)
class NoticeResult:
    year: int
    holidays: tuple[dt.date, ...]  # weekday holidays stored (weekend holidays stay implicit)
    workdays: tuple[dt.date, ...]  # weekend make-up days stored
    replaced: int  # rows removed first
    items: tuple[str, ...]  # holiday names in notice order


_DATE = r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日"
_NOTE = r"(?:\(([^()]*)\))?"
_ITEM = re.compile(r"^([一二三四五六七八九十]+)、([^:]{1,40}):(.+)$")
_RANGE = re.compile(rf"^{_DATE}{_NOTE}(?:至{_DATE}{_NOTE})?放假(.*)$")
_WORKDAYS = re.compile(rf"^{_DATE}{_NOTE}(?:、{_DATE}{_NOTE})*上班$")
_ONE_WORKDAY = re.compile(rf"{_DATE}{_NOTE}")
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
_WEEKDAYS = "一二三四五六日"
_TITLE_YEAR = re.compile(r"关于(\d{4})年部分节假日安排")


def _normalise(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _date(year: str | None, month: str | None, day: str, *, default_year: int, default_month: int | None):
    if month is None and default_month is None:
        raise ValueError("日期缺少月份")
    try:
        return dt.date(int(year) if year else default_year, int(month) if month else default_month, int(day))
    except ValueError as exc:
        raise ValueError("日期不存在") from exc


def _check_weekday(day: dt.date, note: str | None) -> None:
    match = _WEEKDAY.search(note or "")
    if match and _WEEKDAYS.index(match.group(1).replace("天", "日")) != day.weekday():
        raise ValueError(f"{day.month}月{day.day}日不是星期{match.group(1)}")


def _parse_item(body: str, year: int) -> tuple[list[dt.date], list[dt.date]]:
    holidays: list[dt.date] = []
    workdays: list[dt.date] = []
    for sentence in filter(None, body.split("。")):
        if sentence.endswith("上班"):
            if not _WORKDAYS.match(sentence):
                raise ValueError("上班日期的写法无法识别")
            month = None
            for match in _ONE_WORKDAY.finditer(sentence):
                y, m, d, note = match.groups()
                day = _date(y, m, d, default_year=year, default_month=month)
                _check_weekday(day, note)
                month = day.month
                workdays.append(day)
            continue
        match = _RANGE.match(sentence)
        if match is None:
            if re.search(r"\d+月|\d+日", sentence):
                raise ValueError("句子中有日期，但既不是放假也不是上班安排")
            continue
        y1, m1, d1, note1, y2, m2, d2, note2, rest = match.groups()
        first = _date(y1, m1, d1, default_year=year, default_month=None)
        _check_weekday(first, note1)
        last = first
        if d2 is not None:
            last = _date(y2, m2, d2, default_year=int(y1) if y1 else year, default_month=first.month)
            if y2 is None and last < first and m2 is not None:
                last = last.replace(year=last.year + 1)
            _check_weekday(last, note2)
        if last < first:
            raise ValueError("放假的结束日期早于开始日期")
        if re.search(r"\d+月|\d+日", rest):
            raise ValueError("放假安排后面的日期无法识别")
        span = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        total = re.search(r"(?:共|放假)(\d+)天", "放假" + rest)
        if total and int(total.group(1)) != len(span):
            raise ValueError(f"写明共 {total.group(1)} 天，但日期范围是 {len(span)} 天")
        holidays += span
    if not holidays and not workdays:
        raise ValueError("没有找到放假或上班日期")
    return holidays, workdays


def parse_notice(text: str, year: int) -> tuple[dict[dt.date, tuple[str, str]], tuple[str, ...]]:
    """Parse a notice into {date: (kind, name)} for the dates that break the weekday/weekend rule."""
    title = _TITLE_YEAR.search(_normalise(text))
    if title and int(title.group(1)) != year:
        raise NoticeError(f"通知标题是 {title.group(1)} 年的安排，与所选年份 {year} 不符")
    days: dict[dt.date, tuple[str, str]] = {}
    names: list[str] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = _normalise(raw)
        if not re.match(r"^[一二三四五六七八九十]+、", line):
            continue  # the preamble, the closing paragraph, the signature
        match = _ITEM.match(line)
        if match is None:
            raise NoticeError("应为“序号、节日：安排”", line_no=line_no, line=raw.strip())
        name = match.group(2)
        try:
            holidays, workdays = _parse_item(match.group(3), year)
            for day in holidays + workdays:
                if abs(day.year - year) > 1:
                    raise ValueError(f"{day:%Y-%m-%d} 不在 {year} 年前后")
            for day in workdays:
                if day in holidays or days.get(day, ("workday",))[0] != "workday":
                    raise ValueError(f"{day.month}月{day.day}日既放假又上班")
                if day.weekday() < 5:
                    raise ValueError(f"{day.month}月{day.day}日是工作日，不需要调休上班")
            for day in holidays:
                if days.get(day, ("holiday",))[0] != "holiday":
                    raise ValueError(f"{day.month}月{day.day}日既放假又上班")
        except ValueError as exc:
            raise NoticeError(str(exc), line_no=line_no, line=raw.strip()) from exc
        names.append(name)
        for day in holidays:
            if day.weekday() < 5:
                days[day] = (HolidayDay.Kind.HOLIDAY, name)
        for day in workdays:
            days[day] = (HolidayDay.Kind.WORKDAY, name)
    if not names:
        raise NoticeError("没有找到“一、元旦：……”这样的放假安排条目")
    return days, tuple(names)


@transaction.atomic
def import_state_council_notice(text: str, year: int, *, actor) -> NoticeResult:
    """Replace the year's holidays by those of 国务院办公厅关于{year}年部分节假日安排的通知.

    All or nothing: the whole text is parsed before any row changes.
    """
    if not 2000 <= year <= 2200:
        raise NoticeError(f"年份 {year} 不合理")
    days, names = parse_notice(text, year)
    replaced, _ = HolidayDay.objects.filter(year=year).delete()
    replaced += HolidayDay.objects.filter(date__in=list(days)).delete()[0]
    HolidayDay.objects.bulk_create(
        [
            HolidayDay(date=day, year=year, kind=kind, name=name[:64], source=HolidayDay.Source.NOTICE)
            for day, (kind, name) in sorted(days.items())
        ]
    )
    invalidate()
    result = NoticeResult(
        year=year,
        holidays=tuple(sorted(d for d, (k, _) in days.items() if k == HolidayDay.Kind.HOLIDAY)),
        workdays=tuple(sorted(d for d, (k, _) in days.items() if k == HolidayDay.Kind.WORKDAY)),
        replaced=replaced,
        items=names,
    )
    from . import audit

    audit.record(
        "calendar.import",
        actor=actor,
        object_type="core.holidayday",
        object_id=str(year),
        object_repr=f"{year} 年节假日安排",
        data={
            "year": year,
            "items": list(names),
            "holidays": [d.isoformat() for d in result.holidays],
            "workdays": [d.isoformat() for d in result.workdays],
            "replaced": replaced,
        },
    )
    return result
