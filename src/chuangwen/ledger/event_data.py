"""Reading what a problem's events recorded (ProblemEvent.data), for those who replay the ledger's history
as of some moment (bulletins.history, accountability.cards)."""

from __future__ import annotations

import datetime as dt

from .models import ProblemEvent


def parse_time(value) -> dt.datetime | None:
    """An ISO time as the events store it, or None when missing or unreadable."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def deadline_set(kind: str, move: str, data: dict) -> tuple[bool, dt.datetime | None]:
    """Whether an event of this kind and move set the problem's deadline, and to what: 交办 and 重新打开
    set it (their data's "deadline"), a correction may (its "after")."""
    if kind == ProblemEvent.Kind.MOVE and move in ("assign", "reopen"):
        return True, parse_time(data.get("deadline"))
    if kind == ProblemEvent.Kind.EDIT and "deadline" in (data.get("after") or {}):
        return True, parse_time(data["after"]["deadline"])
    return False, None
