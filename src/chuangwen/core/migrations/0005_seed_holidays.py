"""Seed HolidayDay from the chinese-calendar library for every year it knows.

Only dates that break the weekday/weekend rule are stored: weekday holidays and weekend make-up days.
Rows already present (entered by hand or from a notice) are left alone.
"""

import datetime as dt

from django.db import migrations


def library_days() -> list[tuple[dt.date, str, str]]:
    import chinese_calendar

    chinese = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}
    days = [
        (day, "holiday", chinese.get(name, name or ""))
        for day, name in chinese_calendar.holidays.items()
        if day.weekday() < 5
    ]
    days += [
        (day, "workday", chinese.get(name, name or ""))
        for day, name in chinese_calendar.workdays.items()
        if day.weekday() >= 5
    ]
    return sorted(days)


def seed(apps, schema_editor):
    HolidayDay = apps.get_model("core", "HolidayDay")
    taken = set(HolidayDay.objects.values_list("date", flat=True))
    HolidayDay.objects.bulk_create(
        [
            HolidayDay(date=day, year=day.year, kind=kind, name=name[:64], source="library")
            for day, kind, name in library_days()
            if day not in taken
        ],
        batch_size=500,
    )


def unseed(apps, schema_editor):
    apps.get_model("core", "HolidayDay").objects.filter(source="library").delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0004_holiday_calendar")]

    operations = [migrations.RunPython(seed, unseed)]
