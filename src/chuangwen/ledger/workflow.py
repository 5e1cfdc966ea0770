"""The problem workflow as data: which move goes from which states to which, and who may make it.

`check_move` is the one gate: pages, the API and the services all call it, so an illegal move is refused
with the same clear message everywhere. See docs/decisions/0012-problem-workflow.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from chuangwen.core import access
from chuangwen.core.roles import Role

from .models import Problem, Source, Status

OFFICE_ROLES = frozenset({Role.ADMIN, Role.OFFICE})
REVIEWER_ROLES = frozenset({Role.ADMIN, Role.OFFICE, Role.DEPT_HEAD, Role.INSPECTOR})
SCHOOL_LEAD_ROLES = frozenset({Role.SCHOOL_HEAD, Role.LIAISON})


@dataclass(frozen=True)
class Move:
    code: str
    label: str
    sources: frozenset[str]
    target: str
    who: str  # a key of WHO
    who_label: str
    needs_reason: bool = False


def _office(user, problem: Problem) -> bool:
    return access.reaches(user, problem.school, OFFICE_ROLES)


def _assigner(user, problem: Problem) -> bool:
    """交办: the campaign office; the inspector who found it or inspects its round; for a school's own
    check (自查), its head or liaison."""
    if _office(user, problem):
        return True
    if access.has_role(user, Role.INSPECTOR) and (
        problem.found_by_id == user.pk
        or (problem.round_id is not None and problem.round.inspectors.filter(pk=user.pk).exists())
    ):
        return True
    return problem.source == Source.SELF and access.reaches(user, problem.school, SCHOOL_LEAD_ROLES)


def _school(user, problem: Problem) -> bool:
    """The school's side: the responsible person, or the school's head or liaison."""
    return problem.responsible_id == user.pk or access.reaches(user, problem.school, SCHOOL_LEAD_ROLES)


def _reviewer(user, problem: Problem) -> bool:
    """The bureau re-checks: campaign office, department heads and inspectors reaching the school."""
    return access.reaches(user, problem.school, REVIEWER_ROLES)


WHO = {"office": _office, "assigner": _assigner, "school": _school, "reviewer": _reviewer}

ALL_BUT_VOID = frozenset(s for s in Status.values if s != Status.VOID)

MOVES: dict[str, Move] = {
    m.code: m
    for m in (
        Move(
            "assign", "交办", frozenset({Status.NEW}), Status.ASSIGNED, "assigner", "创文办或发现问题的督查员"
        ),
        Move(
            "accept",
            "签收",
            frozenset({Status.ASSIGNED}),
            Status.IN_PROGRESS,
            "school",
            "责任人或学校负责人、联络员",
        ),
        Move(
            "submit",
            "提交整改",
            frozenset({Status.IN_PROGRESS}),
            Status.PENDING_REVIEW,
            "school",
            "责任人或学校负责人、联络员",
        ),
        Move(
            "approve",
            "复核通过并销号",
            frozenset({Status.PENDING_REVIEW}),
            Status.CLOSED,
            "reviewer",
            "教体局复核人员",
        ),
        Move(
            "reject",
            "复核不通过",
            frozenset({Status.PENDING_REVIEW}),
            Status.IN_PROGRESS,
            "reviewer",
            "教体局复核人员",
            needs_reason=True,
        ),
        Move(
            "reopen",
            "重新打开",
            frozenset({Status.CLOSED}),
            Status.IN_PROGRESS,
            "reviewer",
            "教体局复核人员",
            needs_reason=True,
        ),
        Move("void", "作废", ALL_BUT_VOID, Status.VOID, "office", "创文办", needs_reason=True),
    )
}

STATUS_LABELS = dict(Status.choices)


def may(user, problem: Problem, move: Move) -> bool:
    return problem.status in move.sources and WHO[move.who](user, problem)


def allowed_moves(user, problem: Problem) -> list[Move]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [m for m in MOVES.values() if may(user, problem, m)]


def check_move(user, problem: Problem, code: str, *, reason: str | None = "") -> Move:
    """Return the move, or raise ValidationError saying exactly why it is refused. With `reason=None`
    only the state and the person are checked (a page asks that before showing the move's form)."""
    move = MOVES.get(code)
    if move is None:
        raise ValidationError(f"未知的操作：{code}", code="unknown_move")
    if problem.status not in move.sources:
        here = STATUS_LABELS.get(problem.status, problem.status)
        allowed = "、".join(STATUS_LABELS[s] for s in Status.values if s in move.sources)
        raise ValidationError(
            f"问题 {problem.number} 当前为“{here}”，不能{move.label}"
            f"（只有“{allowed}”的问题可以{move.label}）",
            code="illegal_state",
        )
    if not WHO[move.who](user, problem):
        raise ValidationError(f"只有{move.who_label}可以{move.label}问题 {problem.number}", code="forbidden")
    if reason is not None and move.needs_reason and not reason.strip():
        raise ValidationError({"reason": f"{move.label}必须填写原因"}, code="reason")
    return move
