"""Issued bulletins become 通报表扬 / 通报批评 records of the units they name, once."""

from __future__ import annotations

import datetime as dt

from chuangwen.accountability.models import Kind, Record, Source
from chuangwen.bulletins.models import Bulletin
from chuangwen.bulletins.signals import bulletin_issued
from chuangwen.core.calendar import SHANGHAI
from chuangwen.core.roles import Role
from chuangwen.ledger.tests.factories import make_setup
from chuangwen.notify.models import Notification


def _bulletin(city, *, issue: bool = True) -> Bulletin:
    setup = make_setup(city)
    bulletin = Bulletin.objects.create(campaign=setup.campaign, title="关于第一轮模拟测评情况的通报")
    bulletin.commended.set([city.school_a])
    bulletin.criticised.set([city.school_b, city.school_c])
    if issue:
        bulletin.status = Bulletin.Status.ISSUED
        bulletin.number = "测教体创文〔2026〕3号"
        bulletin.year, bulletin.sequence = 2026, 3
        bulletin.issued_at = dt.datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
        bulletin.issued_by = city.users[Role.OFFICE]
        bulletin.save()
    return bulletin


def test_issued_bulletin_gives_records_once(city):
    bulletin = _bulletin(city)
    bulletin_issued.send(sender=Bulletin, bulletin_id=bulletin.pk)
    records = Record.objects.filter(bulletin=bulletin)
    assert sorted((r.unit_id, r.kind) for r in records) == sorted(
        [
            (city.school_a.pk, Kind.COMMEND),
            (city.school_b.pk, Kind.CRITICISE),
            (city.school_c.pk, Kind.CRITICISE),
        ]
    )
    record = records.get(unit=city.school_a)
    assert record.source == Source.BULLETIN
    assert record.date == dt.date(2026, 11, 26)
    assert record.created_by == city.users[Role.OFFICE]
    assert "测教体创文〔2026〕3号" in record.reason and "通报表扬" in record.reason
    assert record.events.get().data["bulletin_id"] == bulletin.pk
    assert Notification.objects.filter(
        kind="accountability.commend", recipient=city.users[Role.SCHOOL_HEAD]
    ).exists()

    bulletin_issued.send(sender=Bulletin, bulletin_id=bulletin.pk)  # sent again (a retry): nothing new
    assert Record.objects.filter(bulletin=bulletin).count() == 3


def test_draft_or_missing_bulletins_give_nothing(city):
    draft = _bulletin(city, issue=False)
    bulletin_issued.send(sender=Bulletin, bulletin_id=draft.pk)
    bulletin_issued.send(sender=Bulletin, bulletin_id=draft.pk + 1000)
    assert not Record.objects.exists()
