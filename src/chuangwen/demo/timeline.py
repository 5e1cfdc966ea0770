"""The mock round's history as a month of real work: when each school was visited, and when each problem
found there was accepted, rectified, re-checked, closed, reopened or voided.

The services stamp every fact with *now*, so a problem lived through the workflow in one run is found,
accepted, submitted and closed within the same second (销号用时 0 天). After the mock round's problems
have lived their fates, `retime` gives each one a plausible history starting from its school's visit:

- 立行立改: accepted within half an hour, rectified and closed the same day (now and then the next one);
- 限期整改: accepted within hours, rectified on one of its working days (about one in five late, one to
  three working days after the deadline), re-checked within a day;
- 待复核: rectified in the last few days, not yet re-checked; 已作废: voided within hours of recording;
- reopened: a follow-up check one to two weeks after the close found it back, with a fresh deadline.

The problem's times, its deadline (computed again from the new assignment time on the Chinese working-day
calendar, as the ledger would have) and its ProblemEvents — their time, and the deadline an assignment or
reopening set — are rewritten in order; audit events never are (decision 0013). Times come from a seeded
generator, so the demo stays deterministic for a given day.
"""

from __future__ import annotations

import datetime as dt
import random

from chuangwen.core import calendar

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
LATE_SHARE = 0.2  # of 限期整改 problems rectified after their deadline
LATE_IMMEDIATE_SHARE = 0.15  # of 立行立改 problems rectified the next working day
IMMEDIATE_SHARE = 0.3  # of the mock round's problems recorded as 立行立改
VISIT_MINUTES = 55  # an inspection's length: answers and problems are recorded at its end


def at(day: dt.date, hours: float) -> dt.datetime:
    """`hours` (e.g. 9.5) on the Shanghai `day`."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=calendar.SHANGHAI)
    return start + dt.timedelta(minutes=round(hours * 60))


def visit_times(start: dt.date, end: dt.date, n: int, rng: random.Random) -> list[dt.datetime]:
    """`n` school visits spread over the working days from `start` to `end`, a few a day from 8:30."""
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    days = [d for d in days if calendar.is_working_day(d)] or days
    per_day: dict[dt.date, int] = {}
    visits = []
    for i in range(n):
        day = days[i * len(days) // n]
        slot = per_day.get(day, 0)
        per_day[day] = slot + 1
        visits.append(at(day, 8.5 + slot * 1.4 + rng.uniform(0, 0.3)))
    return visits


def _working_time(day: dt.date, rng: random.Random) -> dt.datetime:
    return at(day, rng.uniform(8.5, 17.5))


def _submit_time(problem, *, accepted: dt.datetime, found: dt.datetime, rng: random.Random) -> dt.datetime:
    found_day = calendar.shanghai_date(found)
    if problem.severity == "immediate":
        if rng.random() >= LATE_IMMEDIATE_SHARE:
            return accepted + rng.uniform(0.5, 3) * HOUR
        return _working_time(calendar.add_working_days(found_day, 1), rng)
    days = problem.deadline_days or 3
    k = days + rng.randint(1, 3) if rng.random() < LATE_SHARE else rng.randint(1, days)  # working days
    return _working_time(calendar.add_working_days(found_day, k), rng)


def _recheck_gap(problem, rng: random.Random) -> dt.timedelta:
    if problem.severity == "immediate":
        return rng.uniform(0.3, 1.5) * HOUR
    return rng.uniform(1.5, 26) * HOUR


def _schedule(problem, events, *, found: dt.datetime, rng: random.Random, now: dt.datetime) -> list:
    """A new time for each event (in order), the moves' times chosen by what the move is."""
    moves = [e for e in events if e.kind == "move"]
    last_submit = max((i for i, e in enumerate(moves) if e.move == "submit"), default=None)
    pending = problem.status == "pending_review"
    times: dict[int, dt.datetime] = {}
    prev = found
    accepted = found
    for i, event in enumerate(moves):
        if event.move == "assign":
            t = prev + MINUTE
        elif event.move == "accept":
            t = prev + (
                rng.uniform(5, 30) * MINUTE if problem.severity == "immediate" else rng.uniform(0.5, 5) * HOUR
            )
            accepted = t
        elif event.move == "submit" and pending and i == last_submit:
            t = max(now - rng.uniform(4, 96) * HOUR, prev + HOUR)  # rectified lately, awaiting re-check
        elif event.move == "submit":
            t = max(_submit_time(problem, accepted=accepted, found=found, rng=rng), prev + 10 * MINUTE)
        elif event.move in ("approve", "reject"):
            t = prev + _recheck_gap(problem, rng)
        elif event.move == "reopen":
            t = _working_time(calendar.shanghai_date(prev) + dt.timedelta(days=rng.randint(7, 15)), rng)
        elif event.move == "void":
            t = prev + rng.uniform(1, 3) * HOUR
        else:
            t = prev + MINUTE
        times[event.pk] = t
        prev = t
    # Other events sit just before the move they belong to (an after-photo is attached, then 提交整改) or
    # just after the last move.
    result = []
    nxt = None
    for event in reversed(events):
        if event.pk in times:
            nxt = times[event.pk]
        elif event.kind == "create":
            times[event.pk] = found
        else:
            times[event.pk] = nxt - rng.uniform(2, 15) * MINUTE if nxt else prev + MINUTE
    ceiling = now - 10 * MINUTE
    last = None
    for event in events:
        t = min(times[event.pk], ceiling)
        if last is not None and t <= last:
            t = last + dt.timedelta(seconds=1)
        result.append(t)
        last = t
    return result


def retime_problem(problem, *, found: dt.datetime, rng: random.Random, now: dt.datetime) -> dt.timedelta:
    """Give one problem (lived through the services just now) a plausible history from `found`; return how
    far its finding moved back."""
    from chuangwen.ledger import deadlines
    from chuangwen.ledger.models import Problem, ProblemEvent, Status

    events = list(problem.events.order_by("at", "pk"))
    times = _schedule(problem, events, found=found, rng=rng, now=now)
    fields: dict = {"found_at": found, "created_at": found, "updated_at": times[-1]}
    for name in ("assigned_at", "accepted_at", "submitted_at", "rechecked_at", "closed_at"):
        if getattr(problem, name) is not None:
            fields[name] = None
    for event, t in zip(events, times, strict=True):
        event.at = t
        if event.kind != "move":
            continue
        if event.move in ("assign", "reopen"):
            deadline = deadlines.compute(
                severity=problem.severity, start=t, days=problem.deadline_days, target=problem.target_date
            )
            event.data = {**event.data, "deadline": deadline.at.isoformat()}
            if "calendar_gap" in event.data:
                event.data["calendar_gap"] = list(deadline.gap_years)
            fields.update(
                assigned_at=t, deadline=deadline.at, calendar_gap="、".join(map(str, deadline.gap_years))
            )
        elif event.move == "accept":
            fields["accepted_at"] = t
        elif event.move == "submit":
            fields["submitted_at"] = t
        elif event.move in ("approve", "reject"):
            fields["rechecked_at"] = t
            if event.move == "approve":
                fields["closed_at"] = t
    if problem.status != Status.CLOSED:
        fields["closed_at"] = None
    ProblemEvent.objects.bulk_update(events, ["at", "data"])
    Problem.objects.filter(pk=problem.pk).update(**fields)
    return problem.found_at - found
