"""The working-day calendar: seeding, lookups, deadlines, gaps, the notice import, cache invalidation."""

import datetime as dt

import chinese_calendar
import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chuangwen.core import calendar
from chuangwen.core.calendar import (
    SHANGHAI,
    NoticeError,
    add_working_days,
    calendar_gaps,
    calendar_warning,
    deadline_for,
    end_of_day,
    import_state_council_notice,
    is_working_day,
    next_working_day,
    working_days_between,
)
from chuangwen.core.models import AuditEvent, HolidayDay

pytestmark = pytest.mark.django_db

D = dt.date

NOTICE_2025 = """国务院办公厅关于2025年部分节假日安排的通知
国办发明电〔2024〕12号

各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
    经国务院批准，现将2025年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
    一、元旦：1月1日（周三）放假1天，不调休。
    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
    三、清明节：4月4日（周五）至6日（周日）放假，共3天。
    四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
    五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
    六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
    节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作，遇有重大突发事件，要按规定及时报告并妥善处置。

国务院办公厅
2024年11月12日
"""

NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至13日（农历正月初八、周六）放假调休，共9天。2月14日（周日）、2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）、5月8日（周六）上班。
五、端午节：6月9日（周三）放假1天，不调休。
六、中秋节：9月15日（周三）放假1天，不调休。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
"""

NOTICE_2019 = """一、元旦：2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日（星期六）上班。
二、春节：2月4日至10日放假调休，共7天。2月2日（星期六）、2月3日（星期日）上班。
三、清明节：4月5日放假，与周末连休。
四、劳动节：5月1日至4日放假调休，共4天。4月28日（星期日）、5月5日（星期日）上班。
五、端午节：6月7日放假，与周末连休。
六、中秋节：9月13日放假，与周末连休。
七、国庆节：10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。
"""


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.invalidate()
    yield
    calendar.invalidate()


def days_of(year: int):
    day = D(year, 1, 1)
    while day.year == year:
        yield day
        day += dt.timedelta(days=1)


def shanghai(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def rows(year: int) -> set[tuple[dt.date, str]]:
    return set(HolidayDay.objects.filter(date__year=year).values_list("date", "kind"))


# --- seeding ---------------------------------------------------------------------------------------


def test_seeded_years_equal_the_library():
    assert set(range(2004, 2027)) <= calendar.entered_years()
    for year in range(2004, 2027):
        for day in days_of(year):
            assert is_working_day(day) == chinese_calendar.is_workday(day), day
    assert not is_working_day(D(2024, 2, 10))  # 春节, a Saturday
    assert HolidayDay.objects.get(date=D(2024, 2, 12)).name == "春节"  # a weekday holiday is stored
    assert is_working_day(D(2024, 2, 4))  # a Sunday make-up day
    assert HolidayDay.objects.get(date=D(2024, 2, 4)).kind == HolidayDay.Kind.WORKDAY
    assert not is_working_day(D(2026, 10, 1))
    # Weekends stay implicit: only the exceptions to the weekday/weekend rule are stored.
    assert not HolidayDay.objects.filter(date=D(2024, 2, 10)).exists()
    assert set(HolidayDay.objects.values_list("source", flat=True)) == {HolidayDay.Source.LIBRARY}


# --- working days and deadlines --------------------------------------------------------------------


def test_found_before_a_holiday_is_due_on_the_next_working_day():
    found = shanghai(2025, 9, 30, 10, 0)  # Tuesday before 国庆节、中秋节 (10-01 to 10-08)
    assert deadline_for(found, severity="days", days=1) == end_of_day(D(2025, 10, 9))
    assert next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)
    assert add_working_days(D(2025, 10, 3), 0) == D(2025, 10, 9)


def test_a_make_up_saturday_counts_as_a_working_day():
    assert is_working_day(D(2025, 10, 11))  # Saturday, 调休上班
    assert deadline_for(shanghai(2025, 10, 10, 9), severity="days", days=1) == end_of_day(D(2025, 10, 11))
    assert working_days_between(D(2025, 10, 10), D(2025, 10, 13)) == 2  # Sat (make-up) and Mon


@pytest.mark.parametrize("clock", [(23, 50), (0, 10)])
def test_immediate_is_due_at_the_end_of_the_same_shanghai_day(clock):
    with time_machine.travel(shanghai(2026, 3, 2, *clock), tick=False):
        deadline = deadline_for(timezone.now(), severity="immediate")
    assert deadline == shanghai(2026, 3, 2, 23, 59, 59, 999999)
    assert deadline.astimezone(dt.UTC) == dt.datetime(2026, 3, 2, 15, 59, 59, 999999, tzinfo=dt.UTC)


def test_long_term_is_due_at_the_end_of_its_target_and_bad_arguments_are_refused():
    found = shanghai(2026, 3, 2, 9)
    assert deadline_for(found, severity="long", target=D(2026, 9, 1)) == end_of_day(D(2026, 9, 1))
    with pytest.raises(ValueError, match="目标日期"):
        deadline_for(found, severity="long")
    with pytest.raises(ValueError, match="未知"):
        deadline_for(found, severity="soon")
    with pytest.raises(ValueError, match="时区"):
        deadline_for(dt.datetime(2026, 3, 2, 9), severity="immediate")  # noqa: DTZ001
    with pytest.raises(ValueError):
        add_working_days(D(2026, 3, 2), -1)


def test_a_year_nobody_entered_falls_back_to_weekends_and_warns_until_its_notice_is_imported(admin_user):
    found = shanghai(2026, 12, 30, 16)  # Wednesday
    deadline = deadline_for(found, severity="days", days=5)
    assert deadline == end_of_day(D(2027, 1, 6))  # 12-31, 1-1 (a plain Friday), 1-4, 1-5, 1-6
    assert calendar_gaps(found.date(), deadline.date()) == [2027]
    warning = calendar_warning(found.date(), deadline.date())
    assert str(warning) == (
        "2027 年的节假日安排尚未录入，按周末计算工作日，请系统管理员录入国务院办公厅的放假通知。"
    )
    assert calendar_gaps(D(2026, 1, 1), D(2026, 12, 31)) == []
    assert calendar_warning(D(2026, 1, 1), D(2026, 12, 31)) is None

    result = import_state_council_notice(NOTICE_2027, 2027, actor=admin_user)

    assert calendar_gaps(found.date(), D(2027, 12, 31)) == []
    assert deadline_for(found, severity="days", days=5) == end_of_day(D(2027, 1, 7))  # 元旦 1-1 off
    assert result.workdays == (D(2027, 2, 14), D(2027, 2, 20), D(2027, 4, 25), D(2027, 5, 8), D(2027, 9, 26),
                               D(2027, 10, 9))  # fmt: skip
    assert is_working_day(D(2027, 2, 20)) and not is_working_day(D(2027, 2, 8))
    assert result.items[-1] == "国庆节"


# --- properties ------------------------------------------------------------------------------------

any_day = st.dates(min_value=D(2003, 6, 1), max_value=D(2028, 6, 1))
hypothesis_settings = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@hypothesis_settings
@given(day=any_day, n=st.integers(min_value=0, max_value=60))
def test_add_working_days_properties(day, n):
    result = add_working_days(day, n)
    assert is_working_day(result)
    assert result >= day
    assert add_working_days(day, n + 1) > result or (n == 0 and add_working_days(day, 1) == result)
    # Convention: days after `day` up to and including the result; n = 0 rolls a non-working day forward.
    expected = n if n > 0 or is_working_day(day) else 1
    assert working_days_between(day, result) == expected


@hypothesis_settings
@given(a=any_day, b=any_day)
def test_working_days_between_is_antisymmetric_and_additive(a, b):
    assert working_days_between(a, b) == -working_days_between(b, a)
    middle = min(a, b) + (abs(b - a) // 2)
    lo, hi = min(a, b), max(a, b)
    assert working_days_between(lo, hi) == working_days_between(lo, middle) + working_days_between(middle, hi)


# --- the notice import -----------------------------------------------------------------------------


def test_importing_the_2025_notice_gives_what_the_library_says(admin_user):
    seeded = rows(2025)
    result = import_state_council_notice(NOTICE_2025, 2025, actor=admin_user)
    assert rows(2025) == seeded
    assert set(HolidayDay.objects.filter(year=2025).values_list("source", flat=True)) == {"notice"}
    for day in days_of(2025):
        assert is_working_day(day) == chinese_calendar.is_workday(day), day
    assert result.workdays == (D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11))
    assert result.items == ("元旦", "春节", "清明节", "劳动节", "端午节", "国庆节、中秋节")
    assert result.replaced == len(seeded)
    event = AuditEvent.objects.filter(event_type="calendar.import").get()
    assert event.actor_id == admin_user.pk
    assert event.data["year"] == 2025 and "2025-10-11" in event.data["workdays"]


def test_a_notice_with_dates_in_the_previous_year(admin_user):
    import_state_council_notice(NOTICE_2019, 2019, actor=admin_user)
    assert HolidayDay.objects.get(date=D(2018, 12, 29)).year == 2019
    for day in [*days_of(2019), D(2018, 12, 29), D(2018, 12, 31)]:
        assert is_working_day(day) == chinese_calendar.is_workday(day), day
    assert 2018 in calendar.entered_years()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("三、清明节：4月4日（周五）至6日（周日）放假，共4天。", "共 4 天"),
        ("三、清明节：4月4日（周六）至6日（周日）放假，共3天。", "不是星期六"),
        ("三、清明节：4月4日至6日，放假3天", "放假也不是上班"),
        ("三、清明节 4月4日至6日放假", "序号、节日：安排"),
        ("三、清明节：4月31日放假。", "日期不存在"),
        ("三、清明节：4月4日放假。4月9日（周三）上班。", "不需要调休上班"),
        ("三、清明节：4月4日至6日放假。4月5日（周六）上班。", "既放假又上班"),
        ("三、清明节：4月4日放假。4月5日（周六）上班啦。", "既不是放假也不是上班"),
    ],
)
def test_a_garbled_line_is_refused_by_its_number_and_nothing_changes(admin_user, line, reason):
    lines = NOTICE_2025.splitlines()
    number = next(i for i, text in enumerate(lines, start=1) if "清明节：" in text)
    lines[number - 1] = line
    before = rows(2025)
    with pytest.raises(NoticeError) as excinfo:
        import_state_council_notice("\n".join(lines), 2025, actor=admin_user)
    assert excinfo.value.line_no == number
    assert f"第 {number} 行" in str(excinfo.value) and reason in str(excinfo.value)
    assert rows(2025) == before
    assert not AuditEvent.objects.filter(event_type="calendar.import").exists()


def test_a_notice_for_another_year_or_without_items_is_refused(admin_user):
    with pytest.raises(NoticeError, match="2025 年的安排"):
        import_state_council_notice(NOTICE_2025, 2026, actor=admin_user)
    with pytest.raises(NoticeError, match="没有找到"):
        import_state_council_notice("经国务院批准，现将放假安排通知如下。", 2026, actor=admin_user)


# --- cache invalidation ----------------------------------------------------------------------------


def test_editing_a_row_changes_the_answer_immediately(django_assert_num_queries):
    day = D(2026, 10, 1)
    assert not is_working_day(day)
    with django_assert_num_queries(0):
        is_working_day(day)  # served from the snapshot
    row = HolidayDay.objects.get(date=day)
    row.kind = HolidayDay.Kind.WORKDAY
    row.save()
    assert is_working_day(day)
    row.delete()
    assert is_working_day(day)  # a plain Thursday again
    HolidayDay.objects.create(date=D(2026, 3, 3), kind=HolidayDay.Kind.HOLIDAY, name="测试")
    assert not is_working_day(D(2026, 3, 3))


def test_a_rolled_back_change_is_forgotten():
    day = D(2026, 3, 3)
    with pytest.raises(RuntimeError), transaction.atomic():
        HolidayDay.objects.create(date=day, kind=HolidayDay.Kind.HOLIDAY, name="撤销")
        assert not is_working_day(day)
        raise RuntimeError
    assert is_working_day(day)


def test_a_rolled_back_savepoint_keeps_the_outer_change():
    outer, inner = D(2026, 3, 3), D(2026, 3, 4)
    with transaction.atomic():
        HolidayDay.objects.create(date=outer, kind=HolidayDay.Kind.HOLIDAY, name="外层")
        with pytest.raises(RuntimeError), transaction.atomic():
            HolidayDay.objects.create(date=inner, kind=HolidayDay.Kind.HOLIDAY, name="内层")
            assert not is_working_day(inner)
            raise RuntimeError
        assert is_working_day(inner)
        assert not is_working_day(outer)


def test_another_process_bumping_the_version_is_seen(django_assert_num_queries):
    is_working_day(D(2026, 3, 3))
    calendar._bump_version()  # what a save in another process sharing the cache does
    with django_assert_num_queries(1):
        is_working_day(D(2026, 3, 3))


# --- admin -----------------------------------------------------------------------------------------


def test_admin_imports_a_pasted_notice_and_shows_a_bad_line(admin_client):
    url = reverse("admin:core_holidayday_import_notice")
    assert admin_client.get(url).status_code == 200
    bad = admin_client.post(url, {"year": 2027, "text": "一、元旦 1月1日放假"})
    assert bad.status_code == 200 and "第 1 行无法解析" in bad.content.decode()
    assert 2027 not in calendar.entered_years()
    response = admin_client.post(url, {"year": 2027, "text": NOTICE_2027})
    assert response.status_code == 302
    assert 2027 in calendar.entered_years()
    changelist = admin_client.get(reverse("admin:core_holidayday_changelist") + "?year=2027")
    assert "国庆节" in changelist.content.decode()
