"""Issued bulletins become 通报表扬 / 通报批评 records of the units they name, once."""

from __future__ import annotations

import datetime as dt

import time_machine

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


def test_issuing_through_the_bulletins_service_records_on_commit(city, django_capture_on_commit_callbacks):
    from chuangwen.bulletins import services as bulletins

    office = city.users[Role.OFFICE]
    setup = make_setup(city)
    bulletin = bulletins.bulletin_create(
        campaign=setup.campaign,
        actor=office,
        period_start=dt.date(2026, 11, 1),
        period_end=dt.date(2026, 11, 20),
        title="关于11月创文工作情况的通报",
    )
    bulletins.bulletin_update(
        bulletin=bulletin, actor=office, commended=[city.school_a], criticised=[city.school_c]
    )
    with django_capture_on_commit_callbacks(execute=True):
        bulletins.bulletin_issue(bulletin=bulletin, actor=office)
    bulletin.refresh_from_db()
    records = Record.objects.filter(bulletin=bulletin).order_by("kind")
    assert [(r.unit_id, r.kind) for r in records] == [
        (city.school_a.pk, Kind.COMMEND),
        (city.school_c.pk, Kind.CRITICISE),
    ]
    assert all(bulletin.number in r.reason for r in records)


def test_a_failing_receiver_does_not_break_issuing_and_the_sweep_catches_up(city, monkeypatch):
    from chuangwen.accountability import receivers

    bulletin = _bulletin(city)

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(receivers, "records_from_bulletin", broken)
    bulletin_issued.send(sender=Bulletin, bulletin_id=bulletin.pk)  # logged, not raised
    assert not Record.objects.exists()
    monkeypatch.undo()
    with time_machine.travel(dt.datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)):
        assert receivers.sweep_bulletins() == 3
        assert receivers.sweep_bulletins() == 0
    assert Record.objects.filter(bulletin=bulletin).count() == 3


def test_the_record_page_links_to_its_bulletin(client, city):
    bulletin = _bulletin(city)
    bulletin_issued.send(sender=Bulletin, bulletin_id=bulletin.pk)
    record = Record.objects.get(bulletin=bulletin, unit=city.school_a)
    client.force_login(city.users[Role.SCHOOL_HEAD])
    html = client.get(f"/accountability/{record.pk}/").content.decode()
    assert f'href="/bulletins/{bulletin.pk}/"' in html and "测教体创文〔2026〕3号" in html
