"""Random sequences of moves by random roles against an independent model of the workflow.

The model below is written from the issue's table, not from workflow.MOVES, so a mistake in either
shows up as a disagreement. Invariants after every step: the status is the model's, every move that
succeeded is one ProblemEvent and one audit event, a refused move changed nothing, a deadline set by a
move is not in the past, a closed problem has a re-check.
"""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chuangwen.core.models import AuditEvent, EvidencePhoto
from chuangwen.ledger import services
from chuangwen.ledger.models import Problem, ProblemEvent

from .factories import jpeg, make_setup

pytestmark = pytest.mark.django_db

# The workflow: (from, move) -> to.
MODEL = {
    ("new", "assign"): "assigned",
    ("assigned", "accept"): "in_progress",
    ("in_progress", "submit"): "pending_review",
    ("pending_review", "approve"): "closed",
    ("pending_review", "reject"): "in_progress",
    ("closed", "reopen"): "in_progress",
    **{(s, "void"): "void" for s in ("new", "assigned", "in_progress", "pending_review", "closed")},
}
SCHOOL_SIDE = {"teacher", "liaison", "school_head"}  # the teacher is the responsible person
REVIEWERS = {"office", "admin", "dept_head", "inspector"}
MAY = {
    "assign": {"office", "admin", "inspector"},  # the inspector found it
    "accept": SCHOOL_SIDE,
    "submit": SCHOOL_SIDE,
    "approve": REVIEWERS,
    "reject": REVIEWERS,
    "reopen": REVIEWERS,
    "void": {"office", "admin"},
}
ACTORS = [
    *("office", "admin", "leader", "dept_head", "inspector"),
    *("school_head", "liaison", "archivist", "teacher", "outsider"),
]
MOVES = ["assign", "accept", "submit", "approve", "reject", "reopen", "void"]


def test_random_moves_by_random_roles_keep_the_invariants(city):
    setup = make_setup(city)
    people = {**{r.value: u for r, u in city.users.items()}, "outsider": city.outsider}

    class Workflow(RuleBasedStateMachine):
        @initialize()
        def found(self):
            self.problem = services.problem_create(
                school=city.school_a,
                standard=setup.standards["1.1"],
                round_=setup.round,
                description="走廊墙面乱贴乱画",
                actor=people["inspector"],
                assign=False,
            )
            self.status = "new"
            self.moves = 0
            self.fresh_photo = False

        @rule(actor=st.sampled_from(ACTORS))
        def after_photo(self, actor):
            before = self.problem.events.count()
            try:
                services.problem_add_photo(
                    problem=self.problem,
                    file=jpeg(),
                    purpose=EvidencePhoto.Purpose.AFTER,
                    actor=people[actor],
                )
            except ValidationError:
                assert not (actor in SCHOOL_SIDE and self.status in {"assigned", "in_progress"})
                assert self.problem.events.count() == before
            else:
                assert actor in SCHOOL_SIDE and self.status in {"assigned", "in_progress"}
                self.fresh_photo = True

        @rule(move=st.sampled_from(MOVES), actor=st.sampled_from(ACTORS), with_reason=st.booleans())
        def make(self, move, actor, with_reason):
            expected = MODEL.get((self.status, move))
            allowed = expected is not None and actor in MAY[move]
            needs_reason = move in {"reject", "reopen", "void"}
            if move == "submit":
                allowed = allowed and self.fresh_photo
            if needs_reason:
                allowed = allowed and with_reason
            before = (self.problem.events.count(), AuditEvent.objects.count())
            started = timezone.now()
            try:
                result = services.problem_move(
                    problem=self.problem,
                    code=move,
                    actor=people[actor],
                    reason="理由" if with_reason else "",
                    cause="原因",
                    measures="措施",
                )
            except ValidationError as exc:
                assert not allowed, f"{actor} {move} from {self.status} refused: {exc.messages}"
                self.problem.refresh_from_db()
                assert self.problem.status == self.status
                assert (self.problem.events.count(), AuditEvent.objects.count()) == before
                return
            assert allowed, f"{actor} could {move} from {self.status}"
            self.status = expected
            self.moves += 1
            self.problem = result
            if move in {"assign", "reopen"}:
                assert result.deadline >= started
            if move in {"reject", "reopen"} or move == "submit":
                self.fresh_photo = False

        @invariant()
        def consistent(self):
            problem = Problem.objects.get(pk=self.problem.pk)
            assert problem.status == self.status
            moves = problem.events.filter(kind=ProblemEvent.Kind.MOVE)
            assert moves.count() == self.moves
            seqs = list(problem.events.values_list("audit_seq", flat=True))
            assert None not in seqs
            assert AuditEvent.objects.filter(seq__in=seqs, object_id=str(problem.pk)).count() == len(seqs)
            if problem.status == "closed":
                assert problem.rechecked_by_id is not None and problem.rechecked_at is not None
                assert problem.closed_at is not None
            if problem.status in {"assigned", "in_progress", "pending_review"}:
                assert problem.responsible_id is not None and problem.deadline is not None

    Workflow.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(Workflow, settings=Workflow.TestCase.settings)


def test_every_move_by_every_role_from_every_state_matches_the_model(city):
    """The exhaustive table: 6 states × 7 moves × 10 actors, each tried and rolled back."""
    from django.db import transaction

    setup = make_setup(city)
    people = {**{r.value: u for r, u in city.users.items()}, "outsider": city.outsider}
    problem = services.problem_create(
        school=city.school_a,
        standard=setup.standards["1.1"],
        round_=setup.round,
        description="乱贴乱画",
        actor=people["inspector"],
        assign=False,
    )
    problem = services.problem_move(problem=problem, code="assign", actor=people["office"])
    services.problem_add_photo(
        problem=problem, file=jpeg(), purpose=EvidencePhoto.Purpose.AFTER, actor=people["teacher"]
    )
    problem.refresh_from_db()
    disagreements = []
    for status in ("new", "assigned", "in_progress", "pending_review", "closed", "void"):
        Problem.objects.filter(pk=problem.pk).update(status=status, rechecked_at=None)
        for move in MOVES:
            for actor in ACTORS:
                expected = MODEL.get((status, move)) is not None and actor in MAY[move]
                with transaction.atomic():
                    try:
                        services.problem_move(
                            problem=problem,
                            code=move,
                            actor=people[actor],
                            reason="理由",
                            cause="原因",
                            measures="措施",
                        )
                        got = True
                    except ValidationError:
                        got = False
                    transaction.set_rollback(True)
                if got != expected:
                    disagreements.append((status, move, actor, got))
    assert disagreements == []
    assert Problem.objects.get(pk=problem.pk).status == "void"  # only the direct updates stuck
