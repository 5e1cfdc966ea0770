"""Builders for the accountability tests: problems that go overdue (or are fixed in time) at controlled
moments, through the ledger's real services, and records made through this app's services."""

from __future__ import annotations

import datetime as dt

import time_machine

from chuangwen.core.calendar import SHANGHAI
from chuangwen.core.roles import Role
from chuangwen.ledger import services as ledger
from chuangwen.ledger.tests.factories import make_problem, make_setup, noisy_jpeg

_photo_seed = iter(range(1000, 100000))


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A Shanghai wall-clock moment."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def problem_on(city, setup, day: dt.date, *, school=None, hour: int = 10):
    """A 立行立改 problem found and assigned at `hour` on `day`: its deadline is the end of that day.
    At school_c (where nobody owns the standards) its liaison, `city.outsider`, is made responsible."""
    school = school or city.school_a
    extra = {"responsible": city.outsider} if school == city.school_c else {}
    with time_machine.travel(at(day, hour), tick=False):
        return make_problem(city, setup, school=school, **extra)


def submit_at(city, problem, moment: dt.datetime):
    """The responsible person accepts and submits the fix (with an after-photo) at `moment`."""
    person = problem.responsible or city.users[Role.TEACHER]
    with time_machine.travel(moment, tick=False):
        if problem.status == "assigned":
            problem = ledger.problem_move(problem=problem, code="accept", actor=person)
        return ledger.problem_move(
            problem=problem,
            code="submit",
            actor=person,
            cause="值日安排不到位",
            measures="已清理并落实值日制度",
            after_photo=noisy_jpeg(next(_photo_seed)),
        )


def move_at(problem, code: str, actor, moment: dt.datetime, **kwargs):
    with time_machine.travel(moment, tick=False):
        return ledger.problem_move(problem=problem, code=code, actor=actor, **kwargs)


def setup_for(city):
    return make_setup(city)
