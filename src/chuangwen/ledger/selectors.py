"""Reads of the ledger. `visible_problems` is the one rule of who sees which problem.

- Bureau roles see the problems of the schools in their reach.
- A school's head, liaison and archivist see their school's problems; a teacher the ones they are
  responsible for. Anyone sees the problems they are responsible for.
- A problem of an unannounced (暗访) round stays hidden from the school until that school's inspection
  is submitted or the round is finished, like the round itself (campaigns.selectors.visible_rounds).
"""

from __future__ import annotations

import operator
from functools import reduce

from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from chuangwen.campaigns.models import Campaign, Round
from chuangwen.campaigns.selectors import problems_in
from chuangwen.core import access
from chuangwen.core.roles import BUREAU_ROLES, Role
from chuangwen.org.models import Unit

from .models import OPEN_STATUSES, Problem, Status

SCHOOL_READER_ROLES = frozenset({Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST})

EMBARGOED = (
    Q(round__kind=Round.Kind.UNANNOUNCED)
    & ~Q(round__status=Round.Status.FINISHED)
    & (Q(inspection__isnull=True) | ~Q(inspection__status="submitted"))
)


def _not_embargoed() -> Q:
    """~EMBARGOED with subqueries instead of joins (for counting; see visible_problems)."""
    from chuangwen.inspections.models import Inspection

    open_unannounced = Round.objects.filter(kind=Round.Kind.UNANNOUNCED).exclude(status=Round.Status.FINISHED)
    submitted = Inspection.objects.filter(status=Inspection.Status.SUBMITTED)
    return (
        Q(round_id__isnull=True)
        | ~Q(round_id__in=open_unannounced.values("pk"))
        | Q(inspection_id__in=submitted.values("pk"))
    )


def _schools_in(paths: list[str], *, counting: bool) -> Q:
    """Problems of the schools under these paths: a join on the school's path, or `school_id IN (…)`."""
    if not counting:
        return access.path_q(paths, "school__path")
    schools = Unit.objects.filter(access.path_q(paths, "path"), kind=Unit.Kind.SCHOOL)
    return Q(school_id__in=schools.values("pk"))


def visible_problems(user, *, counting: bool = False) -> QuerySet[Problem]:
    """The problems `user` may see (the rule is in the module docstring).

    The same rule in two forms, because the databases plan them differently: with joins (the default),
    SQLite and PostgreSQL read the newest rows through the (-found_at, -id) index and stop after a page;
    with subqueries (`counting=True`), they count from the problem table alone (COUNT over 100,000
    problems: 81 ms with the joins, 3 ms without), while the page with subqueries sorts every row.
    `test_selectors` checks that both forms give the same rows.
    """
    if not getattr(user, "is_authenticated", False):
        return Problem.objects.none()
    if access.reaches_every_unit(user, BUREAU_ROLES):  # every bureau role held on the city bureau
        return Problem.objects.all()
    scope = access.scope_of(user)
    clauses = []
    bureau_paths = scope.paths(BUREAU_ROLES)
    if bureau_paths:
        clauses.append(_schools_in(bureau_paths, counting=counting))
    reader_paths = scope.paths(SCHOOL_READER_ROLES)
    reader = _schools_in(reader_paths, counting=counting) if reader_paths else None
    # Only for someone responsible for a problem at all (one index lookup, once per request): the OR on
    # the person keeps the databases from using the school index, which doubled a district office's count.
    if access.remember(user, "ledger.responsible", Problem.objects.filter(responsible=user).exists):
        reader = Q(responsible=user) if reader is None else reader | Q(responsible=user)
    if reader is not None:
        # Built only when needed: the embargo's subqueries cost ~2 ms to build and compile, even when
        # the database would never see them (a bureau user's list).
        clauses.append(reader & (_not_embargoed() if counting else ~EMBARGOED))
    if not clauses:
        return Problem.objects.none()
    return Problem.objects.filter(reduce(operator.or_, clauses))


def problem_list(
    *,
    user,
    campaign_id: int | None = None,
    status: str = "",
    standard_id: int | None = None,
    round_id: int | None = None,
    source: str = "",
    school_id: int | None = None,
    district_id: int | None = None,
    school_type: str = "",
    responsible_id: int | None = None,
    overdue: bool = False,
    q: str = "",
    counting: bool = False,
) -> QuerySet[Problem]:
    qs = visible_problems(user, counting=counting)
    if campaign_id:
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        qs = qs.filter(problems_in(campaign)) if campaign is not None else qs.none()
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if standard_id:
        qs = qs.filter(standard_id=standard_id)
    if round_id:
        qs = qs.filter(round_id=round_id)
    if source:
        qs = qs.filter(source=source)
    if school_id:
        qs = qs.filter(school_id=school_id)
    if district_id:
        # The district's schools by path (schools may sit under a district's sub-units); an id that is no
        # district lists nothing rather than everything.
        district = Unit.objects.filter(pk=district_id, kind=Unit.Kind.DISTRICT).values("path")[:1]
        schools = Unit.objects.filter(kind=Unit.Kind.SCHOOL, path__startswith=Subquery(district))
        qs = qs.filter(school_id__in=schools.values("pk"))
    if school_type:
        qs = qs.filter(school_id__in=Unit.objects.filter(school_type=school_type).values("pk"))
    if responsible_id:
        qs = qs.filter(responsible_id=responsible_id)
    if overdue:
        qs = qs.filter(status__in=[Status.ASSIGNED, Status.IN_PROGRESS], deadline__lt=timezone.now())
    if q:
        qs = qs.filter(Q(description__icontains=q) | Q(location__icontains=q))
    return qs.select_related("school", "standard", "responsible", "round", "rechecked_by").order_by(
        "-found_at", "-pk"
    )


def my_problems(*, user, limit: int = 8) -> list[Problem]:
    """The open problems the user is responsible for, soonest deadline first."""
    return list(
        Problem.objects.filter(responsible=user, status__in=[Status.ASSIGNED, Status.IN_PROGRESS])
        .filter(_not_embargoed())
        .select_related("school", "standard")
        .order_by("deadline", "pk")[:limit]
    )


def events(problem: Problem):
    return problem.events.select_related("actor").order_by("at", "pk")


def embargoed_photos(user) -> Q:
    """Photos a school may not see yet: those of an unannounced inspection before it is submitted (its
    answers' and its problems' photos). Registered with core.evidence's register_hidden_from_schools."""
    from django.contrib.contenttypes.models import ContentType

    from chuangwen.inspections.models import Answer

    answers = (
        Answer.objects.filter(inspection__round__kind=Round.Kind.UNANNOUNCED)
        .exclude(inspection__round__status=Round.Status.FINISHED)
        .exclude(inspection__status="submitted")
        .values("pk")
    )
    problems = Problem.objects.filter(EMBARGOED).values("pk")
    types = ContentType.objects.get_for_models(Answer, Problem)
    return Q(owner_type=types[Answer], owner_id__in=answers) | Q(
        owner_type=types[Problem], owner_id__in=problems
    )
