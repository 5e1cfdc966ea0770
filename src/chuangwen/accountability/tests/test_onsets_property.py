"""`onsets_of` against a brute-force reading of the same history, minute by minute (hypothesis).

Events and deadlines fall on whole minutes. The brute force knows nothing of segments: every half minute
it replays the events up to that instant and asks the ledger's own question — waiting on the school with
the deadline passed? An onset is an instant where the answer turns from no to yes. `onsets_of` reports a
deadline passing at the deadline itself (the brute force sees it half a minute later) and a return to
the school after the deadline at that moment.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from chuangwen.accountability.cards import WAITING, Step, onsets_of

T0 = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
HALF = MINUTE / 2
HORIZON = 120

# (minute, move, deadline minute) — the moves the ledger makes, with the statuses they lead to.
MOVES = {
    "assign": "assigned",
    "accept": "in_progress",
    "submit": "pending_review",
    "reject": "in_progress",
    "approve": "closed",
    "reopen": "in_progress",
    "void": "void",
    "edit": "",
    "photo": "",
}


def _step(minute: int, move: str, deadline: int) -> Step:
    at = T0 + minute * MINUTE
    data: dict = {}
    if move in ("assign", "reopen"):
        data = {"deadline": (T0 + deadline * MINUTE).isoformat()}
    if move == "edit":
        data = {"after": {"deadline": (T0 + deadline * MINUTE).isoformat()}}
    kind = {"edit": "edit", "photo": "photo"}.get(move, "move")
    return Step(at=at, kind=kind, move="" if kind != "move" else move, to_status=MOVES[move], data=data)


def _brute(steps: list[Step], until: dt.datetime) -> list[dt.datetime]:
    onsets, before = [], False
    for h in range(2 * HORIZON + 1):
        x = T0 + h * HALF
        if x >= until:
            break
        status, deadline = "new", None
        for s in steps:
            if s.at > x:
                break
            status = s.to_status or status
            if s.kind == "move" and s.move in ("assign", "reopen"):
                deadline = dt.datetime.fromisoformat(s.data["deadline"])
            if s.kind == "edit":
                deadline = dt.datetime.fromisoformat(s.data["after"]["deadline"])
        now = status in WAITING and deadline is not None and deadline < x
        if now and not before:
            onsets.append(x)
        before = now
    return onsets


histories = st.lists(
    st.tuples(st.integers(1, 100), st.sampled_from(sorted(MOVES)), st.integers(0, 110)), max_size=8
)


@settings(max_examples=600, deadline=None)
@given(histories, st.integers(20, 121))
def test_onsets_match_the_minute_by_minute_reading(raw, until_minute):
    steps = [_step(m, move, d) for m, move, d in sorted(raw, key=lambda r: r[0])]
    # Distinct minutes: two events at the same instant have no order a brute force could see.
    seen, unique = set(), []
    for s in steps:
        if s.at not in seen:
            seen.add(s.at)
            unique.append(s)
    until = T0 + until_minute * MINUTE
    mine = onsets_of(unique, until=until)
    brute = _brute(unique, until)
    assert len(mine) == len(brute), (mine, brute)
    for o, b in zip(mine, brute, strict=True):
        assert o == b or o + HALF == b, (mine, brute)
