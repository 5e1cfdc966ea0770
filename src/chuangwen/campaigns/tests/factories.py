"""Builders for the campaigns tests."""

from __future__ import annotations

import datetime as dt
import itertools

from chuangwen.core.roles import Role
from chuangwen.index.models import Edition

_counter = itertools.count(1)
START, END = dt.date(2026, 12, 1), dt.date(2026, 12, 20)


def published_edition(*, status: str = Edition.Status.PUBLISHED) -> Edition:
    n = next(_counter)
    return Edition.objects.create(name=f"轮次测评体系{n}", code=f"rounds-{n}", status=status)


def make_campaign(city, *, name: str = ""):
    from chuangwen.campaigns import services

    return services.campaign_create(
        name=name or f"创建周期{next(_counter)}",
        edition=published_edition(),
        start_date=START,
        end_date=dt.date(2027, 6, 30),
        actor=city.users[Role.OFFICE],
    )


def make_round(
    city, *, kind: str = "mock", schools=None, inspectors=(), status: str = "planned", campaign=None
):
    """A round over school_a (by default), moved on to `status` through the service."""
    from chuangwen.campaigns import services

    office = city.users[Role.OFFICE]
    round_ = services.round_create(
        campaign=campaign or make_campaign(city),
        kind=kind,
        name=f"测试轮次{next(_counter)}",
        start_date=START,
        end_date=END,
        schools=schools if schools is not None else [city.school_a],
        inspectors=inspectors,
        actor=office,
    )
    path = ["planned", "in_progress", "finished"]
    for to in path[1 : path.index(status) + 1]:
        round_ = services.round_transition(round_=round_, to=to, actor=office)
    return round_
