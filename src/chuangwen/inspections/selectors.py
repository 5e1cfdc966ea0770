"""Reads of inspections. `visible_inspections` is the one rule of who sees which inspection."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from chuangwen.campaigns.models import Round
from chuangwen.core import access
from chuangwen.core.models import AuditEvent, EvidencePhoto
from chuangwen.core.roles import Role

from . import scoring, services
from .models import Answer, Inspection

# Bureau roles that oversee inspections: every inspection of a school in their reach.
OVERSEER_ROLES = frozenset({Role.ADMIN, Role.LEADER, Role.OFFICE, Role.DEPT_HEAD})
# School roles that read their own school's results once submitted (teachers see their problems instead).
SCHOOL_READER_ROLES = frozenset({Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST})


def _under(paths: list[str], path_field: str = "school__path") -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{path_field}__startswith": p})
    return q


def visible_inspections(user) -> QuerySet[Inspection]:
    """The inspections `user` may see.

    - 系统管理员, 局领导, 创文办, 科室负责人: every inspection of a school in their reach.
    - 督查员: the inspections of the rounds they are assigned to.
    - 学校一把手, 联络员, 资料员: their own school's inspections once submitted — an unannounced round's
      inspection never shows to the school before that. A self-check (自查) is the school's own work, so
      its head and liaison (who score it) see it while in progress too.
    """
    if not getattr(user, "is_authenticated", False):
        return Inspection.objects.none()
    scope = access.scope_of(user)
    if scope.everything:
        return Inspection.objects.all()
    q = _under(scope.paths(OVERSEER_ROLES)) | Q(round__inspectors=user)
    school_paths = scope.paths(SCHOOL_READER_ROLES)
    if school_paths:
        q |= _under(school_paths) & Q(status=Inspection.Status.SUBMITTED)
        lead_paths = scope.paths(services.SCHOOL_LEAD_ROLES)
        if lead_paths:
            q |= _under(lead_paths) & Q(round__kind=Round.Kind.SELF)
    ids = Inspection.objects.filter(q).values("pk")
    return Inspection.objects.filter(pk__in=ids)


def inspection_list(*, user, round_id: int | None = None) -> QuerySet[Inspection]:
    qs = visible_inspections(user).select_related("round", "round__campaign", "school", "started_by")
    if round_id is not None:
        qs = qs.filter(round_id=round_id)
    return qs.order_by("-created_at", "-pk")


def filter_rounds(user) -> QuerySet[Round]:
    """Rounds that have at least one inspection the user may see (the list page's filter)."""
    return (
        Round.objects.filter(inspections__in=visible_inspections(user))
        .distinct()
        .select_related("campaign")
        .order_by("-start_date", "-pk")
    )


@dataclass
class TaskSchool:
    school: object
    inspection: Inspection | None


@dataclass
class Task:
    round: Round
    schools: list[TaskSchool] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for s in self.schools if s.inspection is not None and s.inspection.is_submitted)


def my_tasks(user) -> list[Task]:
    """Rounds in progress the user is to inspect: assigned as inspector, or a self-check of the school
    they lead; each with its schools and how far each one got."""
    if not getattr(user, "is_authenticated", False):
        return []
    scope = access.scope_of(user)
    q = Q(inspectors=user)
    lead_paths = scope.paths(services.SCHOOL_LEAD_ROLES)
    if lead_paths:
        q |= Q(kind=Round.Kind.SELF) & _under(lead_paths, "schools__path")
    ids = Round.objects.filter(q, status=Round.Status.IN_PROGRESS).values("pk")
    rounds = list(Round.objects.filter(pk__in=ids).select_related("campaign").order_by("end_date", "pk"))
    if not rounds:
        return []
    entries = (
        Round.schools.through.objects.filter(round__in=rounds)
        .select_related("school")
        .order_by("round_id", "school__path")
    )
    found = {(i.round_id, i.school_id): i for i in Inspection.objects.filter(round__in=rounds)}
    by_round: dict[int, Task] = {r.pk: Task(round=r) for r in rounds}
    assigned = set(
        Round.inspectors.through.objects.filter(round__in=rounds, user=user).values_list(
            "round_id", flat=True
        )
    )
    for entry in entries:
        round_ = by_round[entry.round_id]
        if round_.round.pk not in assigned and not access.reaches(
            user, entry.school, services.SCHOOL_LEAD_ROLES | services.OFFICE_ROLES
        ):
            continue  # a self-check: only the user's own school
        round_.schools.append(TaskSchool(entry.school, found.get((entry.round_id, entry.school_id))))
    return [t for t in by_round.values() if t.schools]


@dataclass
class Card:
    """One standard on the inspection page, with its answer, photos and problems."""

    standard: object
    answer: Answer | None
    results: list[str]
    photos: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def is_deduction(self) -> bool:
        return not self.results

    @property
    def may_be_na(self) -> bool:
        return not self.standard.negative_list

    @property
    def revision(self) -> int:
        return self.answer.revision if self.answer else 0

    @property
    def problem_text(self) -> str:
        """What the problem form starts with: the standard's code and text, the result and the note."""
        if self.answer is None:
            return ""
        a = self.answer
        text = f"{self.standard.code} {self.standard.text}：{a.result or f'发现 {a.occurrences} 处'}"
        return (text + (f"。{a.note}" if a.note else ""))[:2000]

    @property
    def lost_points(self) -> Decimal:
        if self.answer is None or self.answer.not_applicable:
            return Decimal(0)
        return self.standard.points - self.answer.points


@dataclass
class Section:
    group: object
    cards: list[Card]


def photos_of(answers: list[Answer]) -> dict[int, list[EvidencePhoto]]:
    """Answer id → its evidence photos, in one query."""
    if not answers:
        return {}
    ct = ContentType.objects.get_for_model(Answer)
    out: dict[int, list[EvidencePhoto]] = {}
    photos = EvidencePhoto.objects.filter(owner_type=ct, owner_id__in=[a.pk for a in answers]).order_by(
        "uploaded_at", "pk"
    )
    for photo in photos:
        out.setdefault(photo.owner_id, []).append(photo)
    return out


def problems_of(inspection: Inspection) -> dict[int, list]:
    """Answer id → the ledger problems opened for it."""
    from chuangwen.ledger.models import Problem

    out: dict[int, list] = {}
    for problem in Problem.objects.filter(inspection=inspection, answer__isnull=False).order_by("pk"):
        out.setdefault(problem.answer_id, []).append(problem)
    return out


def card_for(inspection: Inspection, standard) -> Card:
    answer = Answer.objects.filter(inspection=inspection, standard=standard).first()
    from chuangwen.ledger.models import Problem

    return Card(
        standard=standard,
        answer=answer,
        results=scoring.results_for(standard),
        photos=photos_of([answer]).get(answer.pk, []) if answer else [],
        problems=list(Problem.objects.filter(answer=answer).order_by("pk")) if answer else [],
    )


def sections(inspection: Inspection) -> tuple[list[Section], list[Card]]:
    """The applicable standards grouped by their index group, and the flat list of cards."""
    standards = services.applicable_standards(inspection.round, inspection.school)
    answers = {a.standard_id: a for a in inspection.answers.select_related("answered_by")}
    photos = photos_of(list(answers.values()))
    problems = problems_of(inspection)
    cards = []
    for s in standards:
        answer = answers.get(s.pk)
        cards.append(
            Card(
                standard=s,
                answer=answer,
                results=scoring.results_for(s),
                photos=photos.get(answer.pk, []) if answer else [],
                problems=problems.get(answer.pk, []) if answer else [],
            )
        )
    grouped: dict[int, Section] = {}
    for card in cards:
        group = card.standard.group
        grouped.setdefault(group.pk, Section(group=group, cards=[])).cards.append(card)
    out = list(grouped.values())
    return out, cards


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int
    totals: scoring.Totals
    unanswered: list  # the standards not answered yet, in index order


def progress(inspection: Inspection, cards: list[Card] | None = None) -> Progress:
    """已评 x / y and the running score (from the cards already loaded, when given)."""
    if cards is None:
        standards = services.applicable_standards(inspection.round, inspection.school)
        answers = {a.standard_id: a for a in inspection.answers.all()}
    else:
        standards = [c.standard for c in cards]
        answers = {c.standard.pk: c.answer for c in cards if c.answer is not None}
    t = scoring.totals(standards, answers)
    return Progress(
        answered=len(standards) - len(t.unanswered),
        total=len(standards),
        totals=t,
        unanswered=[s for s in standards if s.pk not in answers],
    )


def corrections(inspection: Inspection) -> QuerySet[AuditEvent]:
    """The corrections made after submission, from the audit chain (oldest first)."""
    return AuditEvent.objects.filter(
        event_type="inspection.correct",
        object_type=Inspection._meta.label_lower,
        object_id=str(inspection.pk),
    ).order_by("seq")


def round_actions(user, round_: Round, schools) -> dict[int, tuple[str, Inspection | None]]:
    """School id → what the user may do there in this round: "start", "continue", "view" (in progress,
    read only), "result", or "" (nothing), with the inspection when there is one and the user may see it.

    Whether the user may inspect is services.may_inspect, with the round's inspectors read once."""
    schools = list(schools)
    found = {i.school_id: i for i in Inspection.objects.filter(round=round_, school__in=schools)}
    visible = set(visible_inspections(user).filter(round=round_).values_list("pk", flat=True))
    assigned = round_.inspectors.filter(pk=user.pk).exists()
    out: dict[int, tuple[str, Inspection | None]] = {}
    for school in schools:
        may = services.may_inspect(user, round_, school, assigned=assigned)
        inspection = found.get(school.pk)
        if inspection is not None and inspection.pk not in visible:
            inspection = None
        if inspection is None:
            started = school.pk in found
            action = "start" if may and not started and round_.status == Round.Status.IN_PROGRESS else ""
        elif inspection.is_submitted:
            action = "result"
        else:
            action = "continue" if may else "view"
        out[school.pk] = (action, inspection)
    return out
