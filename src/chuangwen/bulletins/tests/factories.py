"""Builders for the bulletin tests: a campaign with an inspected round and problems (through the real
services), drafts and issued bulletins."""

from __future__ import annotations

import datetime as dt

from chuangwen.core.roles import Role

from .. import schedule as schedules
from .. import services


def make_setup_for(city, **kwargs):
    from chuangwen.ledger.tests.factories import make_setup

    return make_setup(city, **kwargs)


def make_draft(city, *, campaign=None, **kwargs):
    campaign = campaign or make_setup_for(city).campaign
    kwargs.setdefault("period_start", dt.date(2026, 9, 1))
    kwargs.setdefault("period_end", dt.date(2026, 12, 31))
    return services.bulletin_create(campaign=campaign, actor=city.users[Role.OFFICE], **kwargs)


def make_issued(city, **kwargs):
    draft = make_draft(city, **kwargs)
    return services.bulletin_issue(bulletin=draft, actor=city.users[Role.OFFICE])


def make_schedule(city, *, campaign=None, **kwargs):
    campaign = campaign or make_setup_for(city).campaign
    kwargs.setdefault("name", "三天一通报")
    kwargs.setdefault("cadence", "working_days")
    kwargs.setdefault("start_date", dt.date(2026, 11, 2))
    return schedules.schedule_create(campaign=campaign, actor=city.users[Role.OFFICE], **kwargs)
