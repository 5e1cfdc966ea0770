"""Every change to responsibilities and work plans. Keyword-only, atomic, one audit event each."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chuangwen.core import access, audit
from chuangwen.core.roles import Role
from chuangwen.index.models import Edition, Group, Standard
from chuangwen.org.models import Membership, Unit

from . import permissions
from .models import BureauAssignment, SchoolAssignment, Task

FILL, OVERWRITE = "fill", "overwrite"
MODE_LABELS = {FILL: "只补空缺（保留已有分工）", OVERWRITE: "覆盖已有分工"}


def _check_edition(edition: Edition) -> None:
    if edition.status == Edition.Status.DRAFT:
        raise ValidationError("草稿状态的测评体系不能分工，请先发布")


def _member_of(user, school: Unit) -> bool:
    return Membership.objects.filter(user=user, unit=school).exists()


def _require_member(user, school: Unit, label: str) -> None:
    if user is None:
        return
    if not user.is_active or not _member_of(user, school):
        raise ValidationError(f"{label}“{user}”不是{school.name}的在职人员，请先在该校登记其角色")


# --- one (school, standard) --------------------------------------------------------------------------


@transaction.atomic
def assignment_set(
    *, school: Unit, standard: Standard, owner, leader=None, actor, request=None
) -> SchoolAssignment:
    """Name the owner (and 分管领导) of one standard at one school."""
    access.require(permissions.can_assign_at(actor, school))
    if not school.is_school:
        raise ValidationError("只能为学校分配责任人")
    _check_edition(standard.edition)
    if not standard.applies_to(school.school_type):
        raise ValidationError(f"标准 {standard.code} 不适用于{school.get_school_type_display()}")
    _require_member(owner, school, "责任人")
    _require_member(leader, school, "分管领导")
    assignment = SchoolAssignment.objects.select_for_update().filter(school=school, standard=standard).first()
    before = None
    if assignment is None:
        assignment = SchoolAssignment.objects.create(
            school=school, standard=standard, owner=owner, leader=leader
        )
    else:
        before = {"owner": assignment.owner_id, "leader": assignment.leader_id}
        if before == {"owner": owner.pk, "leader": getattr(leader, "pk", None)}:
            return assignment
        assignment.owner, assignment.leader = owner, leader
        assignment.save(update_fields=["owner", "leader", "updated_at"])
    audit.record(
        "duty.assign",
        actor=actor,
        request=request,
        obj=assignment,
        data={
            "school_id": school.pk,
            "standard": standard.code,
            "edition_id": standard.edition_id,
            "owner": owner.pk,
            "leader": getattr(leader, "pk", None),
            "before": before,
        },
    )
    return assignment


@transaction.atomic
def assignment_clear(*, assignment: SchoolAssignment, actor, request=None) -> None:
    access.require(permissions.can_assign_at(actor, assignment.school))
    audit.record(
        "duty.unassign",
        actor=actor,
        request=request,
        obj=assignment,
        data={"school_id": assignment.school_id, "standard_id": assignment.standard_id},
    )
    assignment.delete()


# --- by rule -----------------------------------------------------------------------------------------


@dataclass
class RuleResult:
    standards: int = 0  # standards the rule covers
    schools: int = 0  # schools the rule covers
    applicable: int = 0  # applicable (school, standard) pairs
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # already assigned to the same people, or kept in fill mode
    skipped: int = 0  # pairs skipped because the school has no holder of the owner role
    schools_without_owner: list[str] = field(default_factory=list)
    schools_without_leader: list[str] = field(default_factory=list)

    @property
    def assigned(self) -> int:
        return self.created + self.updated

    def as_dict(self) -> dict:
        return {
            "standards": self.standards,
            "schools": self.schools,
            "applicable": self.applicable,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "schools_without_owner": self.schools_without_owner[:50],
            "schools_without_leader": self.schools_without_leader[:50],
        }


def group_subtree_ids(group: Group) -> set[int]:
    """The group and every group below it (one query for the edition's groups)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in Group.objects.filter(edition_id=group.edition_id).values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    found, stack = set(), [group.pk]
    while stack:
        pk = stack.pop()
        found.add(pk)
        stack.extend(children.get(pk, ()))
    return found


def _first_holders(school_ids, role: str) -> dict[int, int]:
    """school id → the user id of its first (oldest) active holder of `role`."""
    holders: dict[int, int] = {}
    rows = (
        Membership.objects.filter(unit_id__in=school_ids, role=role, user__is_active=True)
        .order_by("unit_id", "pk")
        .values_list("unit_id", "user_id")
    )
    for unit_id, user_id in rows:
        holders.setdefault(unit_id, user_id)
    return holders


@transaction.atomic
def assign_by_rule(
    *,
    edition: Edition,
    actor,
    group: Group | None = None,
    school_type: str = "",
    owner_role: str = Role.LIAISON,
    leader_role: str = Role.SCHOOL_HEAD,
    mode: str = FILL,
    request=None,
) -> RuleResult:
    """Assign every applicable standard of `group` (and below; all when None) at every school of
    `school_type` (all types when empty) to the school's holder of `owner_role`, with its holder of
    `leader_role` as 分管领导. Schools without an owner-role holder are skipped and counted.
    """
    access.require(permissions.can_assign_bureau(actor))
    _check_edition(edition)
    if mode not in MODE_LABELS:
        raise ValidationError(f"未知的分工方式：{mode}")
    if owner_role not in Role.values or (leader_role and leader_role not in Role.values):
        raise ValidationError("未知的角色")
    if group is not None and group.edition_id != edition.pk:
        raise ValidationError("所选测评项目不属于该版本")
    if school_type and school_type not in Unit.SchoolType.values:
        raise ValidationError(f"未知的学校类型：{school_type}")

    standards = Standard.objects.filter(edition=edition)
    if group is not None:
        standards = standards.filter(group_id__in=group_subtree_ids(group))
    standards = list(standards.values_list("pk", "school_types"))
    schools = access.visible_schools(actor).filter(is_active=True)
    if school_type:
        schools = schools.filter(school_type=school_type)
    schools = list(schools.order_by("path").values_list("pk", "name", "school_type"))
    school_ids = [s[0] for s in schools]
    owners = _first_holders(school_ids, owner_role)
    leaders = _first_holders(school_ids, leader_role) if leader_role else {}
    existing = {
        (a.school_id, a.standard_id): a
        for a in SchoolAssignment.objects.filter(
            school_id__in=school_ids, standard_id__in=[pk for pk, _ in standards]
        )
    }

    result = RuleResult(standards=len(standards), schools=len(schools))
    to_create, to_update = [], []
    now = timezone.now()
    for school_id, name, stype in schools:
        pairs = [pk for pk, types in standards if stype in (types or [])]
        if not pairs:
            continue
        result.applicable += len(pairs)
        owner_id = owners.get(school_id)
        if owner_id is None:
            result.skipped += len(pairs)
            result.schools_without_owner.append(name)
            continue
        leader_id = leaders.get(school_id)
        if leader_role and leader_id is None:
            result.schools_without_leader.append(name)
        for standard_id in pairs:
            current = existing.get((school_id, standard_id))
            if current is None:
                to_create.append(
                    SchoolAssignment(
                        school_id=school_id, standard_id=standard_id, owner_id=owner_id, leader_id=leader_id
                    )
                )
            elif mode == FILL or (current.owner_id, current.leader_id) == (owner_id, leader_id):
                result.unchanged += 1
            else:
                current.owner_id, current.leader_id, current.updated_at = owner_id, leader_id, now
                to_update.append(current)
    SchoolAssignment.objects.bulk_create(to_create, batch_size=500)
    SchoolAssignment.objects.bulk_update(to_update, ["owner", "leader", "updated_at"], batch_size=500)
    result.created, result.updated = len(to_create), len(to_update)
    audit.record(
        "duty.assign_rule",
        actor=actor,
        request=request,
        obj=edition,
        data={
            "group": group.code if group is not None else "",
            "school_type": school_type,
            "owner_role": owner_role,
            "leader_role": leader_role,
            "mode": mode,
            **result.as_dict(),
        },
    )
    return result


# --- the bureau's side -------------------------------------------------------------------------------


@transaction.atomic
def bureau_assignment_set(
    *, standard: Standard, department: Unit | None = None, person=None, actor, request=None
) -> BureauAssignment:
    """Name the lead department (default: the standard's own) and the bureau person for a standard."""
    access.require(permissions.can_assign_bureau(actor))
    _check_edition(standard.edition)
    department = department or (
        Unit.objects.filter(pk=standard.lead_department_id).first() if standard.lead_department_id else None
    )
    if department is not None and department.kind != Unit.Kind.DEPARTMENT:
        raise ValidationError("牵头科室必须是局机关科室")
    if person is not None:
        bureau_units = Unit.objects.filter(kind__in=[Unit.Kind.BUREAU, Unit.Kind.DEPARTMENT])
        if not person.is_active or not Membership.objects.filter(user=person, unit__in=bureau_units).exists():
            raise ValidationError(f"“{person}”不是教体局机关人员")
    assignment, created = BureauAssignment.objects.select_for_update().get_or_create(
        standard=standard, defaults={"department": department, "person": person}
    )
    if not created:
        if (assignment.department_id, assignment.person_id) == (
            getattr(department, "pk", None),
            getattr(person, "pk", None),
        ):
            return assignment
        assignment.department, assignment.person = department, person
        assignment.save(update_fields=["department", "person", "updated_at"])
    audit.record(
        "duty.assign_bureau",
        actor=actor,
        request=request,
        obj=assignment,
        data={
            "standard": standard.code,
            "edition_id": standard.edition_id,
            "department": getattr(department, "pk", None),
            "person": getattr(person, "pk", None),
        },
    )
    return assignment


# --- handover ----------------------------------------------------------------------------------------


@dataclass
class HandoverResult:
    owner: int = 0
    leader: int = 0
    bureau: int = 0
    tasks: int = 0

    @property
    def total(self) -> int:
        return self.owner + self.leader + self.bureau + self.tasks

    def as_dict(self) -> dict:
        return {"owner": self.owner, "leader": self.leader, "bureau": self.bureau, "tasks": self.tasks}


def handover_counts(*, person, actor) -> HandoverResult:
    """What a handover of `person` by `actor` would move (for the confirmation page)."""
    schools, bureau = _handover_reach(actor)
    open_tasks = Task.objects.filter(assignee=person).exclude(status=Task.Status.DONE)
    return HandoverResult(
        owner=SchoolAssignment.objects.filter(owner=person, school__in=schools).count(),
        leader=SchoolAssignment.objects.filter(leader=person, school__in=schools).count(),
        bureau=BureauAssignment.objects.filter(person=person).count() if bureau else 0,
        tasks=open_tasks.filter(school__in=schools).count(),
    )


def _handover_reach(actor):
    return permissions.handover_schools(actor), permissions.can_assign_bureau(actor)


@transaction.atomic
def handover(*, person, successor, actor, reason: str = "", request=None) -> HandoverResult:
    """Move every responsibility of `person` within the actor's reach to `successor`, in one transaction:
    school owner and 分管领导 posts, the bureau person of standards, and open tasks.

    The successor must hold a role at every school concerned, so no responsibility moves to someone who
    cannot act on it; otherwise nothing moves.
    """
    access.require(permissions.can_hand_over(actor))
    if successor is None or person is None:
        raise ValidationError("请选择移交人和接任人")
    if successor.pk == person.pk:
        raise ValidationError("接任人不能是移交人本人")
    if not successor.is_active:
        raise ValidationError(f"接任人“{successor}”已停用")
    schools, bureau = _handover_reach(actor)
    school_ids = set(schools.values_list("pk", flat=True))
    owned = SchoolAssignment.objects.select_for_update().filter(owner=person, school_id__in=school_ids)
    led = SchoolAssignment.objects.select_for_update().filter(leader=person, school_id__in=school_ids)
    tasks = (
        Task.objects.select_for_update()
        .filter(assignee=person, school_id__in=school_ids)
        .exclude(status=Task.Status.DONE)
    )
    concerned = (
        set(owned.values_list("school_id", flat=True))
        | set(led.values_list("school_id", flat=True))
        | set(tasks.values_list("school_id", flat=True))
    )
    member_of = set(
        Membership.objects.filter(user=successor, unit_id__in=concerned).values_list("unit_id", flat=True)
    )
    missing = concerned - member_of
    if missing:
        names = "、".join(
            Unit.objects.filter(pk__in=missing).order_by("path").values_list("name", flat=True)[:5]
        )
        raise ValidationError(
            f"接任人“{successor}”不是以下学校的人员：{names}{'等' if len(missing) > 5 else ''}。"
            "请先在这些学校为其登记角色，再办理移交"
        )
    bureau_rows = BureauAssignment.objects.none()
    if bureau:
        bureau_rows = BureauAssignment.objects.select_for_update().filter(person=person)
        if (
            bureau_rows.exists()
            and not Membership.objects.filter(
                user=successor, unit__kind__in=[Unit.Kind.BUREAU, Unit.Kind.DEPARTMENT]
            ).exists()
        ):
            raise ValidationError(f"接任人“{successor}”不是教体局机关人员，不能接任局级责任")
    now = timezone.now()
    result = HandoverResult(
        owner=owned.update(owner=successor, updated_at=now),
        leader=led.update(leader=successor, updated_at=now),
        tasks=tasks.update(assignee=successor, updated_at=now),
        bureau=bureau_rows.update(person=successor, updated_at=now),
    )
    audit.record(
        "duty.handover",
        actor=actor,
        request=request,
        obj=person,
        data={
            "from": person.pk,
            "from_username": person.get_username(),
            "to": successor.pk,
            "to_username": successor.get_username(),
            "reason": reason.strip()[:200],
            "scope": "all" if bureau else sorted(school_ids)[:200],
            **result.as_dict(),
        },
    )
    return result


# --- tasks -------------------------------------------------------------------------------------------

TRANSITIONS = {
    Task.Status.TODO: {Task.Status.DOING, Task.Status.DONE},
    Task.Status.DOING: {Task.Status.TODO, Task.Status.DONE},
    Task.Status.DONE: {Task.Status.DOING},  # reopen
}
TASK_FIELDS = ("title", "assignee", "due_date", "progress_note", "status")


def _check_task_values(*, school: Unit, standard: Standard, title: str, assignee, due_date) -> None:
    if not title.strip():
        raise ValidationError({"title": "请填写工作内容"})
    if not isinstance(due_date, dt.date):
        raise ValidationError({"due_date": "请填写完成时限"})
    if not standard.applies_to(school.school_type):
        raise ValidationError({"standard": f"标准 {standard.code} 不适用于本校"})
    if assignee is not None and (not assignee.is_active or not _member_of(assignee, school)):
        raise ValidationError({"assignee": f"“{assignee}”不是本校人员"})


@transaction.atomic
def task_create(
    *,
    school: Unit,
    standard: Standard,
    title: str,
    due_date: dt.date,
    assignee=None,
    progress_note: str = "",
    actor,
    request=None,
) -> Task:
    access.require(permissions.can_plan_at(actor, school))
    if standard.edition.status == Edition.Status.DRAFT:
        raise ValidationError({"standard": "草稿状态的测评体系不能制定工作计划"})
    _check_task_values(school=school, standard=standard, title=title, assignee=assignee, due_date=due_date)
    task = Task.objects.create(
        school=school,
        standard=standard,
        title=title.strip(),
        assignee=assignee,
        due_date=due_date,
        progress_note=progress_note.strip(),
        created_by=actor,
    )
    audit.record(
        "duty.task_create",
        actor=actor,
        request=request,
        obj=task,
        data={"school_id": school.pk, "standard": standard.code, "due_date": due_date.isoformat()},
    )
    return task


@transaction.atomic
def task_update(*, task: Task, actor, request=None, **fields) -> Task:
    """Change a task's fields; a status change must follow TRANSITIONS."""
    unknown = set(fields) - set(TASK_FIELDS)
    if unknown:
        raise TypeError(f"unknown task fields: {sorted(unknown)}")
    task = Task.objects.select_for_update().select_related("school", "standard").get(pk=task.pk)
    access.require(permissions.can_update_task(actor, task))
    if set(fields) - {"status", "progress_note"} and not permissions.can_plan_at(actor, task.school):
        # The assignee reports progress; changing what, who and when is the planner's.
        access.require(False)
    changed = {}
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        if name == "assignee":
            if getattr(value, "pk", None) != task.assignee_id:
                changed[name] = [task.assignee_id, getattr(value, "pk", None)]
                task.assignee = value
            continue
        if getattr(task, name) != value:
            if name == "status" and value not in TRANSITIONS.get(task.status, set()):
                labels = dict(Task.Status.choices)
                raise ValidationError(
                    {"status": f"任务不能从“{labels.get(task.status)}”改为“{labels.get(value, value)}”"}
                )
            changed[name] = [str(getattr(task, name)), str(value)]
            setattr(task, name, value)
    if not changed:
        return task
    _check_task_values(
        school=task.school,
        standard=task.standard,
        title=task.title,
        assignee=task.assignee if "assignee" in changed else None,
        due_date=task.due_date,
    )
    if "status" in changed:
        task.completed_at = timezone.now() if task.status == Task.Status.DONE else None
    task.save()
    audit.record("duty.task_update", actor=actor, request=request, obj=task, data={"changed": changed})
    return task


def task_complete(*, task: Task, actor, progress_note: str | None = None, request=None) -> Task:
    fields = {"status": Task.Status.DONE}
    if progress_note is not None:
        fields["progress_note"] = progress_note
    return task_update(task=task, actor=actor, request=request, **fields)
