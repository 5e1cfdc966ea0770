"""The ledger as it stood at a moment: each problem's status, deadline and close as of then, read from
its ProblemEvent history (the ledger's own record of every move with its time).

A period bulletin reports its period as it was at the period's end, so that one drafted a month later
says what one drafted on the day would have said: a problem closed after the period's end is still
open (and overdue, if its deadline had passed) in that period's bulletin.

- status: the `to_status` of the last 登记 / 流转 event at or before the moment (other events — photos,
  reminders — are written with the status of the moment too, but a photo attached by 提交整改 is
  written after the move's own time, so only creations and moves are read);
- deadline: the last one set at or before the moment by 交办 / 重新打开 (`data.deadline`) or by a
  correction (`data.after.deadline`). The demo city moves a problem's history back in time without
  rewriting the deadlines inside the events' data, so a shift is taken from the problem's current
  deadline against the last one its events set (as `accountability.cards` does);
- closed_at: the time of the last 复核通过并销号 at or before the moment, if the problem was closed then;
- escalated: an escalation step that listed it for bulletins had fired by then.

A problem without any creation or move event (rows written outside the services) keeps its current
status and deadline: there is no history to read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from chuangwen.ledger.event_data import deadline_set
from chuangwen.ledger.models import ProblemEvent, Status

CHUNK = 900  # ids per query (SQLite caps the parameters of one statement)
KINDS = (
    ProblemEvent.Kind.CREATE,
    ProblemEvent.Kind.MOVE,
    ProblemEvent.Kind.EDIT,
    ProblemEvent.Kind.ESCALATE,
)


@dataclass(frozen=True)
class StateThen:
    status: str
    deadline: dt.datetime | None
    closed_at: dt.datetime | None
    escalated: bool


@dataclass(frozen=True)
class Current:
    """What the problem row says now (the fallback, and the demo shift's reference)."""

    status: str
    deadline: dt.datetime | None
    closed_at: dt.datetime | None
    escalated: bool


def fold(events: list[tuple], *, at: dt.datetime, current: Current) -> StateThen:
    """One problem's state at `at` from its events (at, kind, move, to_status, data) in order."""
    if not any(kind in (ProblemEvent.Kind.CREATE, ProblemEvent.Kind.MOVE) for _, kind, *_ in events):
        return StateThen(current.status, current.deadline, current.closed_at, current.escalated)
    set_deadlines = [d for ok, d in (deadline_set(k, m, data or {}) for _, k, m, _, data in events) if ok]
    shift = dt.timedelta(0)
    if set_deadlines and set_deadlines[-1] is not None and current.deadline is not None:
        shift = current.deadline - set_deadlines[-1]
    status = None
    deadline = None
    closed_at = None
    escalated = False
    for when, kind, move, to_status, data in events:
        if when > at:
            if status is None and kind == ProblemEvent.Kind.CREATE:
                status = to_status  # found just before the moment, its creation written just after
            break
        data = data or {}
        if kind in (ProblemEvent.Kind.CREATE, ProblemEvent.Kind.MOVE) and to_status:
            status = to_status
            if move == "approve":
                closed_at = when
            elif to_status != Status.CLOSED:
                closed_at = None
        changed, value = deadline_set(kind, move, data)
        if changed:
            deadline = value + shift if value is not None else None
        if kind == ProblemEvent.Kind.ESCALATE and data.get("bulletin"):
            escalated = True
    if status is None:
        status = Status.NEW
    return StateThen(status, deadline, closed_at, escalated)


def states_at(current: dict[int, Current], *, at: dt.datetime) -> dict[int, StateThen]:
    """{problem id: its state at `at`} for the given problems (their current rows), in one query per
    900 problems."""
    history: dict[int, list[tuple]] = defaultdict(list)
    ids = sorted(current)
    for i in range(0, len(ids), CHUNK):
        rows = (
            ProblemEvent.objects.filter(problem_id__in=ids[i : i + CHUNK], kind__in=KINDS)
            .order_by("problem_id", "at", "pk")
            .values_list("problem_id", "at", "kind", "move", "to_status", "data")
        )
        for problem_id, *event in rows:
            history[problem_id].append(tuple(event))
    return {pk: fold(history.get(pk, []), at=at, current=now) for pk, now in current.items()}
