"""Reads of responsibilities and plans, always through the access functions.

The coverage matrix is computed from three bulk reads (schools, standards, assignments) whatever the
number of schools and standards: no query per school or per standard.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from chuangwen.core import access
from chuangwen.index.models import Edition, Group, Standard
from chuangwen.org.models import Membership, Unit

from .models import BureauAssignment, SchoolAssignment, Task

OWNED, UNOWNED, NOT_APPLICABLE = "o", "u", "n"


def editions_in_use() -> QuerySet[Edition]:
    """Editions that can carry responsibilities: published ones, newest first (then archived)."""
    return Edition.objects.exclude(status=Edition.Status.DRAFT).order_by(
        Case(
            When(status=Edition.Status.PUBLISHED, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "-published_at",
        "-pk",
    )


def current_edition(edition_id=None) -> Edition | None:
    """The edition asked for, or the edition in use: the most recently published one."""
    qs = editions_in_use()
    if edition_id not in (None, ""):
        try:
            return qs.filter(pk=int(edition_id)).first()
        except (TypeError, ValueError):
            return None
    return qs.filter(status=Edition.Status.PUBLISHED).first()


@dataclass
class SchoolRow:
    id: int
    name: str
    code: str
    school_type: str
    applicable: int = 0
    owned: int = 0
    cells: list[str] = field(default_factory=list)  # one of OWNED/UNOWNED/NOT_APPLICABLE per standard

    @property
    def unowned(self) -> int:
        return self.applicable - self.owned

    @property
    def percent(self) -> float:
        return 100.0 * self.owned / self.applicable if self.applicable else 100.0


@dataclass
class StandardColumn:
    id: int
    code: str
    text: str
    group_id: int
    project: str  # the 测评项目 (top-level group) it belongs to
    applicable: int = 0
    owned: int = 0

    @property
    def unowned(self) -> int:
        return self.applicable - self.owned


@dataclass
class Coverage:
    edition: Edition
    schools: list[SchoolRow]
    standards: list[StandardColumn]
    unowned: list[tuple[SchoolRow, StandardColumn]]  # every unowned applicable pair, school order
    applicable: int = 0
    owned: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.owned / self.applicable if self.applicable else 0.0

    @property
    def unowned_count(self) -> int:
        return self.applicable - self.owned


def _projects(edition: Edition) -> dict[int, Group]:
    """group id → its top-level group (测评项目), from one query."""
    groups = {g.pk: g for g in Group.objects.filter(edition=edition).only("pk", "parent_id", "code", "title")}
    top: dict[int, Group] = {}
    for pk, group in groups.items():
        node, seen = group, 0
        while node.parent_id is not None and node.parent_id in groups and seen < 10:
            node, seen = groups[node.parent_id], seen + 1
        top[pk] = node
    return top


def coverage(*, user, edition: Edition, school_type: str = "", district: str = "") -> Coverage:
    """Schools in the user's reach × the edition's standards: owned / unowned / not applicable."""
    schools_qs = access.visible_schools(user).filter(is_active=True)
    if school_type:
        schools_qs = schools_qs.filter(school_type=school_type)
    if district:
        schools_qs = (
            schools_qs.filter(parent_id=int(district)) if str(district).isdigit() else schools_qs.none()
        )
    schools = [
        SchoolRow(id=pk, name=name, code=code, school_type=stype)
        for pk, name, code, stype in schools_qs.order_by("path").values_list(
            "pk", "name", "code", "school_type"
        )
    ]
    projects = _projects(edition)
    standards = []
    types_of = []
    for pk, code, text, group_id, types in (
        Standard.objects.filter(edition=edition)
        .order_by("position", "pk")
        .values_list("pk", "code", "text", "group_id", "school_types")
    ):
        project = projects.get(group_id)
        standards.append(
            StandardColumn(
                id=pk,
                code=code,
                text=text,
                group_id=group_id,
                project=str(project) if project is not None else "",
            )
        )
        types_of.append(frozenset(types or ()))
    owned_pairs = set(
        access.filter_by_reach(
            SchoolAssignment.objects.filter(standard__edition=edition), user, path_field="school__path"
        ).values_list("school_id", "standard_id")
    )
    unowned: list[tuple[SchoolRow, StandardColumn]] = []
    total_applicable = total_owned = 0
    for row in schools:
        cells = row.cells
        for column, types in zip(standards, types_of, strict=True):
            if row.school_type not in types:
                cells.append(NOT_APPLICABLE)
                continue
            row.applicable += 1
            column.applicable += 1
            if (row.id, column.id) in owned_pairs:
                row.owned += 1
                column.owned += 1
                cells.append(OWNED)
            else:
                cells.append(UNOWNED)
                unowned.append((row, column))
        total_applicable += row.applicable
        total_owned += row.owned
    return Coverage(
        edition=edition,
        schools=schools,
        standards=standards,
        unowned=unowned,
        applicable=total_applicable,
        owned=total_owned,
    )


def school_assignments(*, user, school: Unit, edition: Edition) -> list[dict]:
    """Each applicable standard of the edition at the school, with its owner and leader (or None)."""
    assigned = {
        a.standard_id: a
        for a in access.filter_by_reach(
            SchoolAssignment.objects.filter(school=school, standard__edition=edition),
            user,
            path_field="school__path",
        ).select_related("owner", "leader")
    }
    rows = []
    for standard in (
        Standard.objects.filter(edition=edition).select_related("group").order_by("position", "pk")
    ):
        if standard.applies_to(school.school_type):
            rows.append({"standard": standard, "assignment": assigned.get(standard.pk)})
    return rows


def assignment_list(*, user, edition: Edition | None = None, school_id: int | None = None) -> QuerySet:
    qs = access.filter_by_reach(SchoolAssignment.objects.all(), user, path_field="school__path")
    if edition is not None:
        qs = qs.filter(standard__edition=edition)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    return qs.select_related("school", "standard", "owner", "leader").order_by(
        "school__path", "standard__position", "pk"
    )


def school_people(school: Unit) -> QuerySet:
    """Active people holding a role at the school (candidates for owner, leader, assignee)."""
    from django.contrib.auth import get_user_model

    ids = Membership.objects.filter(unit=school).values("user_id")
    return get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("name", "username")


def task_list(*, user, school: Unit | None = None) -> QuerySet[Task]:
    qs = access.filter_by_reach(Task.objects.all(), user, path_field="school__path")
    if school is not None:
        qs = qs.filter(school=school)
    return qs.select_related("school", "standard", "assignee")


def school_plan(*, user, school: Unit, edition: Edition | None) -> list[dict]:
    """The school's tasks grouped by standard, in index order; overdue flagged."""
    tasks = task_list(user=user, school=school)
    if edition is not None:
        tasks = tasks.filter(standard__edition=edition)
    today = timezone.localdate()
    groups: dict[int, dict] = {}
    for task in tasks.order_by("standard__position", "standard_id", "due_date", "pk"):
        task.overdue = task.is_overdue(today)
        entry = groups.setdefault(task.standard_id, {"standard": task.standard, "tasks": []})
        entry["tasks"].append(task)
    return list(groups.values())


@dataclass
class MyDuties:
    owned: list[SchoolAssignment]  # the first `limit` standards the user owns
    bureau: list[BureauAssignment]
    tasks: list[Task]  # open tasks, overdue first (the first `limit`)
    overdue: int
    counts: dict[str, int] = field(default_factory=dict)  # owned, led, tasks (all of them)

    @property
    def empty(self) -> bool:
        return not (self.counts["owned"] or self.counts["led"] or self.bureau or self.counts["tasks"])


# 我的责任 is on every home page. Its result is cached per user for a short time; the key carries a version
# that any change of responsibilities bumps (the signals below), so a change shows at once.
MY_DUTIES_SECONDS = 60
MY_DUTIES_VERSION_KEY = "cw:my-duties:version"


def _duties_version() -> str:
    version = cache.get(MY_DUTIES_VERSION_KEY)
    if version is None:
        cache.add(MY_DUTIES_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(MY_DUTIES_VERSION_KEY) or ""
    return version


def bump_my_duties() -> None:
    """Forget every cached 我的责任, now and again when the current transaction commits (a page read in
    between may have cached the rows as they were before the commit)."""
    cache.set(MY_DUTIES_VERSION_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(MY_DUTIES_VERSION_KEY, uuid.uuid4().hex, None))


@receiver(post_save, sender=SchoolAssignment, dispatch_uid="duty.my_duties.school_assignment.save")
@receiver(post_delete, sender=SchoolAssignment, dispatch_uid="duty.my_duties.school_assignment.delete")
@receiver(post_save, sender=BureauAssignment, dispatch_uid="duty.my_duties.bureau_assignment.save")
@receiver(post_delete, sender=BureauAssignment, dispatch_uid="duty.my_duties.bureau_assignment.delete")
@receiver(post_save, sender=Task, dispatch_uid="duty.my_duties.task.save")
@receiver(post_delete, sender=Task, dispatch_uid="duty.my_duties.task.delete")
@receiver(post_save, sender=Edition, dispatch_uid="duty.my_duties.edition.save")
@receiver(post_delete, sender=Edition, dispatch_uid="duty.my_duties.edition.delete")
def _responsibilities_changed(**kwargs) -> None:
    bump_my_duties()


@receiver(post_save, sender="core.AuditEvent", dispatch_uid="duty.my_duties.audit")
def _bulk_change_recorded(instance, created: bool, **kwargs) -> None:
    """Bulk writes (assign by rule, import, handover) send no model signals, but every one of them is
    recorded in the audit chain: any duty event, or a change of an edition's state, bumps the version."""
    if created and instance.event_type.startswith(("duty.", "index.edition_")):
        bump_my_duties()


def my_duties(*, user, limit: int = 8) -> MyDuties:
    """The standards and open tasks a user is responsible for (their own, so no reach filter is needed).

    Cached per user for MY_DUTIES_SECONDS (see bump_my_duties); computing it costs three queries for
    someone with nothing, five at most. The key also holds the day (overdue is a matter of the date) and
    when the account was made (an id reused after a restore must not find another person's entry).
    """
    joined = getattr(user, "date_joined", None)
    key = ":".join(
        (
            "cw:my-duties",
            _duties_version(),
            str(user.pk),
            str(joined.timestamp() if joined else ""),
            timezone.localdate().isoformat(),
            str(limit),
        )
    )
    duties = cache.get(key)
    if duties is None:
        duties = _my_duties(user=user, limit=limit)
        cache.set(key, duties, MY_DUTIES_SECONDS)
    return duties


def _my_duties(*, user, limit: int) -> MyDuties:
    today = timezone.localdate()
    live = Q(standard__edition__status=Edition.Status.PUBLISHED)
    counts = (
        SchoolAssignment.objects.filter(live)
        .filter(Q(owner=user) | Q(leader=user))
        .aggregate(owned=Count("pk", filter=Q(owner=user)), led=Count("pk", filter=Q(leader=user)))
    )
    open_tasks = Task.objects.filter(assignee=user).exclude(status=Task.Status.DONE)
    counts |= open_tasks.aggregate(tasks=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
    bureau = list(
        BureauAssignment.objects.filter(live, person=user).select_related("standard", "department")[:limit]
    )
    owned = []
    if counts["owned"]:
        owned = list(
            SchoolAssignment.objects.filter(live, owner=user).select_related("school", "standard")[:limit]
        )
    tasks = []
    if counts["tasks"]:
        late = Case(When(due_date__lt=today, then=Value(0)), default=Value(1), output_field=IntegerField())
        tasks = list(
            open_tasks.select_related("school", "standard")
            .annotate(late=late)
            .order_by("late", "due_date", "pk")[:limit]
        )
        for task in tasks:
            task.overdue = task.is_overdue(today)
    return MyDuties(owned=owned, bureau=bureau, tasks=tasks, overdue=counts.pop("overdue"), counts=counts)
