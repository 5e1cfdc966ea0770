"""Writes of the ledger. Every change of a problem is a ProblemEvent and an audit-chain event, made in one
transaction with the notifications it causes (delivered by the worker once the transaction commits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chuangwen.core import access, audit
from chuangwen.core.evidence.selectors import find_reuse
from chuangwen.core.evidence.services import evidence_photo_attach, evidence_photo_create
from chuangwen.core.models import EvidencePhoto
from chuangwen.core.roles import Role
from chuangwen.notify.services import notify
from chuangwen.org.models import Unit

from . import deadlines, people, workflow
from .models import Milestone, Problem, ProblemEvent, Severity, Source, Status

RECORDER_ROLES = frozenset({Role.ADMIN, Role.OFFICE, Role.DEPT_HEAD, Role.INSPECTOR})
MAX_DESCRIPTION = 2000


def default_responsible(school: Unit, standard) -> int | None:
    """The standard's named owner at that school (项项有人抓), if there is one."""
    if standard is None:
        return None
    from chuangwen.duty.models import SchoolAssignment

    return (
        SchoolAssignment.objects.filter(school=school, standard=standard)
        .values_list("owner_id", flat=True)
        .first()
    )


def _link(problem: Problem) -> str:
    return f"/ledger/{problem.pk}/"


def _event(
    problem: Problem,
    *,
    kind: str,
    actor,
    request=None,
    move: str = "",
    from_status: str = "",
    note: str = "",
    data: dict | None = None,
    at: dt.datetime | None = None,
) -> ProblemEvent:
    data = data or {}
    audit_event = audit.record(
        f"problem.{move or kind}",
        actor=actor,
        request=request,
        obj=problem,
        data={"status": problem.status, "from": from_status, "note": note, **data},
        username="" if actor is not None else "system",
    )
    return ProblemEvent.objects.create(
        problem=problem,
        kind=kind,
        move=move,
        from_status=from_status,
        to_status=problem.status,
        actor=actor,
        at=at or timezone.now(),
        note=note,
        data=data,
        audit_seq=audit_event.seq,
    )


def _tell(
    problem: Problem, recipients: Iterable[int | None], *, title: str, body: str = "", kind: str
) -> None:
    ids = [r for r in dict.fromkeys(recipients) if r]
    if ids:
        notify(
            recipients=ids, kind=kind, title=title, body=body, link=_link(problem), unit_id=problem.school_id
        )


def _check_text(value: str, label: str, *, required: bool = True, limit: int = MAX_DESCRIPTION) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({label: "不能为空"})
    if len(value) > limit:
        raise ValidationError({label: f"不能超过 {limit} 字"})
    return value


def _check_responsible(school: Unit, user) -> None:
    if user is None:
        raise ValidationError({"responsible": "请指定责任人（该标准在本校尚无责任人）"})
    if not user.is_active:
        raise ValidationError({"responsible": f"{user} 已停用，不能作为责任人"})
    from chuangwen.org.models import Membership

    if not Membership.objects.filter(user=user, unit__path__startswith=school.path).exists() and not (
        Membership.objects.filter(user=user, unit__path__in=people._ancestor_paths(school)).exists()
    ):
        raise ValidationError({"responsible": f"{user} 不是{school.name}或其上级单位的人员"})


def may_record(user, school: Unit, *, source: str) -> bool:
    """Bureau staff reaching the school may record problems there; a school's head and liaison its own
    (自查)."""
    if access.reaches(user, school, RECORDER_ROLES):
        return True
    return source == Source.SELF and access.reaches(user, school, workflow.SCHOOL_LEAD_ROLES)


def _held(problem: Problem) -> bool:
    """A problem of an unannounced round stays with the bureau until that school's inspection is submitted."""
    from chuangwen.campaigns.models import Round

    if problem.round_id is None or problem.round.kind != Round.Kind.UNANNOUNCED:
        return False
    if problem.round.status == Round.Status.FINISHED:
        return False
    return problem.inspection_id is None or not problem.inspection.is_submitted


@transaction.atomic
def problem_create(
    *,
    school: Unit,
    description: str,
    actor,
    standard=None,
    location: str = "",
    source: str | None = None,
    round_=None,
    inspection=None,
    answer=None,
    severity: str = Severity.IMMEDIATE,
    deadline_days: int | None = None,
    target_date: dt.date | None = None,
    responsible=None,
    milestones: Sequence[tuple[str, dt.date]] = (),
    photos: Sequence = (),
    assign: bool = True,
    request=None,
) -> Problem:
    """Record a problem; by default assign it at once, which notifies the responsible person.

    Without a responsible person (none given, and nobody owns the standard at the school) the problem
    stays 待交办 and the campaign office is told to name someone.

    Problems of an unannounced round are held (left 待交办) until the school's inspection is submitted.
    """
    if school.kind != Unit.Kind.SCHOOL:
        raise ValidationError({"school": "问题只能登记到学校"})
    if inspection is not None:
        round_ = inspection.round
        if inspection.school_id != school.pk:
            raise ValidationError({"school": "学校与检查不一致"})
    if answer is not None:
        if inspection is None or answer.inspection_id != inspection.pk:
            raise ValidationError({"answer": "评分不属于这次检查"})
        standard = standard or answer.standard
    if source is None:
        source = round_.kind if round_ is not None else Source.DAILY
    if source not in Source.values:
        raise ValidationError({"source": "发现方式无效"})
    if not may_record(actor, school, source=source):
        raise ValidationError(f"您不能在{school.name}登记问题", code="forbidden")
    if standard is not None and round_ is not None and standard.edition_id != round_.campaign.edition_id:
        raise ValidationError({"standard": "标准不属于本轮使用的测评体系版本"})
    if standard is not None and school.school_type not in standard.school_types:
        raise ValidationError(
            {"standard": f"标准 {standard.code} 不适用于{school.get_school_type_display()}"}
        )
    description = _check_text(description, "description")
    location = _check_text(location, "location", required=False, limit=200)
    if severity not in Severity.values:
        raise ValidationError({"severity": "整改类型无效"})
    days_ok = deadline_days is None or 1 <= deadline_days <= deadlines.MAX_DAYS
    if severity == Severity.DAYS and not days_ok:
        raise ValidationError({"deadline_days": f"限期整改的工作日数须在 1 到 {deadlines.MAX_DAYS} 之间"})
    if responsible is None:
        owner_id = default_responsible(school, standard)
        if owner_id is not None:
            from django.contrib.auth import get_user_model

            responsible = get_user_model().objects.get(pk=owner_id)
    problem = Problem.objects.create(
        school=school,
        standard=standard,
        round=round_,
        inspection=inspection,
        answer=answer,
        source=source,
        description=description,
        location=location,
        found_by=actor,
        found_at=timezone.now(),
        severity=severity,
        deadline_days=deadline_days if severity == Severity.DAYS else None,
        target_date=target_date if severity == Severity.LONG else None,
        responsible=responsible,
    )
    for title, due in milestones:
        Milestone.objects.create(
            problem=problem, title=_check_text(title, "milestones", limit=200), due_date=due
        )
    _event(
        problem,
        kind=ProblemEvent.Kind.CREATE,
        actor=actor,
        request=request,
        data={
            "school_id": school.pk,
            "standard": standard.code if standard else None,
            "round_id": round_.pk if round_ else None,
            "source": source,
            "severity": severity,
            "description": description,
            "responsible_id": responsible.pk if responsible else None,
        },
    )
    for photo in photos:
        _attach(problem, photo, actor=actor, request=request)
    if assign and not _held(problem) and responsible is None:
        # Nobody owns this standard at the school: leave it 待交办 and tell the office to name someone.
        _tell(
            problem,
            people.holders(problem.school, {Role.OFFICE}),
            kind="problem.unassigned",
            title=f"待交办：{school.name} 的问题 {problem.number} 没有责任人",
            body=description[:80],
        )
    elif assign and not _held(problem):
        problem_move(
            problem=problem,
            code="assign",
            actor=actor,
            request=request,
            responsible=responsible,
            severity=severity,
            deadline_days=deadline_days,
            target_date=target_date,
        )
        problem.refresh_from_db()
    return problem


def _attach(problem: Problem, photo: EvidencePhoto, *, actor, request=None) -> None:
    if photo.school_id != problem.school_id:
        raise ValidationError({"photos": "照片不属于这所学校"})
    evidence_photo_attach(photo=photo, owner=problem, actor=actor)
    reuse = [p.pk for p in find_reuse(photo)]
    _event(
        problem,
        kind=ProblemEvent.Kind.PHOTO,
        actor=actor,
        request=request,
        data={"photo_id": photo.pk, "purpose": photo.purpose, "sha256": photo.sha256, "reuse_of": reuse},
    )


def problem_add_photo(*, problem: Problem, file, purpose: str, actor, request=None) -> EvidencePhoto:
    """Upload a photo of the problem (发现问题) or of its fix (整改后), stamped with the problem number."""
    if purpose == EvidencePhoto.Purpose.AFTER:
        allowed = workflow.WHO["school"](actor, problem) and problem.status in {
            Status.ASSIGNED,
            Status.IN_PROGRESS,
        }
        refusal = "只有责任人或学校负责人、联络员可以在整改期间上传整改后照片"
    elif purpose == EvidencePhoto.Purpose.FOUND:
        allowed = (problem.found_by_id == actor.pk or workflow.WHO["reviewer"](actor, problem)) and (
            problem.status not in {Status.CLOSED, Status.VOID}
        )
        refusal = "只有发现人或教体局人员可以补充问题照片"
    else:
        raise ValidationError({"purpose": "照片用途无效"})
    if not allowed:
        raise ValidationError(refusal, code="forbidden")
    with transaction.atomic():
        locked = Problem.objects.select_for_update().get(pk=problem.pk)
        photo = evidence_photo_create(
            file=file,
            uploaded_by=actor,
            school=locked.school,
            purpose=purpose,
            label=f"问题 {locked.number}",
            actor=actor,
        )
        _attach(locked, photo, actor=actor, request=request)
    return photo


def _assign(problem: Problem, *, actor, responsible, severity, deadline_days, target_date, now) -> dict:
    responsible = responsible or problem.responsible
    if responsible is None:
        owner_id = default_responsible(problem.school, problem.standard)
        if owner_id is not None:
            from django.contrib.auth import get_user_model

            responsible = get_user_model().objects.get(pk=owner_id)
    _check_responsible(problem.school, responsible)
    severity = severity or problem.severity
    deadline = deadlines.compute(severity=severity, start=now, days=deadline_days, target=target_date)
    problem.responsible = responsible
    problem.severity = severity
    problem.deadline_days = deadline_days if severity == Severity.DAYS else None
    if severity == Severity.DAYS and problem.deadline_days is None:
        from .models import LedgerSettings

        problem.deadline_days = LedgerSettings.current().default_days
    problem.target_date = target_date if severity == Severity.LONG else None
    problem.deadline = deadline.at
    problem.calendar_gap = "、".join(str(y) for y in deadline.gap_years)
    problem.assigned_at = now
    problem.assigned_by = actor
    problem.escalation_level = 0
    problem.last_reminded_on = None
    return {
        "responsible_id": responsible.pk,
        "severity": severity,
        "deadline": deadline.at.isoformat(),
        "calendar_gap": list(deadline.gap_years),
    }


@transaction.atomic
def problem_move(
    *,
    problem: Problem,
    code: str,
    actor,
    request=None,
    reason: str = "",
    note: str = "",
    responsible=None,
    severity: str | None = None,
    deadline_days: int | None = None,
    target_date: dt.date | None = None,
    cause: str | None = None,
    measures: str | None = None,
    after_photo=None,
) -> Problem:
    """Make one move of the workflow; refuse illegal moves with the reason (see workflow.check_move).

    `after_photo`: with 提交整改, an uploaded file stored as the after-photo in the same transaction, so it
    counts only if the move goes through (a refused move leaves no photo on the problem)."""
    # of=self: PostgreSQL refuses FOR UPDATE on the nullable side of the outer join to the standard.
    locked = Problem.objects.select_for_update(of=("self",))
    problem = locked.select_related("school", "standard").get(pk=problem.pk)
    move = workflow.check_move(actor, problem, code, reason=reason)
    now = timezone.now()
    before = problem.status
    data: dict = {}
    note = (reason or note or "").strip()
    if len(note) > MAX_DESCRIPTION:
        raise ValidationError({"reason": f"说明不能超过 {MAX_DESCRIPTION} 字"})
    if code == "assign":
        data = _assign(
            problem,
            actor=actor,
            responsible=responsible,
            severity=severity,
            deadline_days=deadline_days,
            target_date=target_date,
            now=now,
        )
    elif code == "accept":
        problem.accepted_at = now
    elif code == "submit":
        if after_photo is not None:
            try:
                problem_add_photo(
                    problem=problem,
                    file=after_photo,
                    purpose=EvidencePhoto.Purpose.AFTER,
                    actor=actor,
                    request=request,
                )
            except ValidationError as exc:
                raise ValidationError({"photos": exc.messages}) from exc
        problem.cause = _check_text(cause if cause is not None else problem.cause, "cause")
        problem.measures = _check_text(measures if measures is not None else problem.measures, "measures")
        since = problem.rechecked_at if problem.rechecked_at else problem.found_at
        if not after_photos(problem).filter(uploaded_at__gte=since).exists():
            raise ValidationError({"photos": "提交整改前请上传至少一张整改后的照片"})
        problem.submitted_at = now
        data = {"cause": problem.cause, "measures": problem.measures}
    elif code in {"approve", "reject"}:
        problem.rechecked_by = actor
        problem.rechecked_at = now
        problem.recheck_note = note
        if code == "approve":
            problem.closed_at = now
    elif code == "reopen":
        problem.closed_at = None
        problem.reopen_count += 1
        severity, target = problem.severity, problem.target_date
        if severity == Severity.LONG and (target is None or target < timezone.localdate(now)):
            severity, target = Severity.DAYS, None  # the target has passed: a fresh working-day limit
        deadline = deadlines.compute(severity=severity, start=now, days=problem.deadline_days, target=target)
        problem.severity = severity
        problem.deadline = deadline.at
        problem.calendar_gap = "、".join(str(y) for y in deadline.gap_years)
        problem.assigned_at = now
        problem.escalation_level = 0
        problem.last_reminded_on = None
        data = {"deadline": deadline.at.isoformat()}
    elif code == "void":
        problem.void_reason = note
    problem.status = move.target
    problem.save()
    _event(
        problem,
        kind=ProblemEvent.Kind.MOVE,
        move=code,
        from_status=before,
        actor=actor,
        request=request,
        note=note,
        data=data,
        at=now,
    )
    _notify_move(problem, code, actor=actor)
    return problem


def _notify_move(problem: Problem, code: str, *, actor) -> None:
    number = problem.number
    school = problem.school.name
    if code == "assign":
        deadline = timezone.localtime(problem.deadline).strftime("%m月%d日 %H:%M")
        recipients = [problem.responsible_id, *people.holders(problem.school, {Role.LIAISON})]
        _tell(
            problem,
            recipients,
            kind="problem.assigned",
            title=f"【{problem.get_severity_display()}】{school}：{problem.description[:40]}",
            body=f"问题 {number} 已交办，请于 {deadline} 前完成整改并上传整改后照片。",
        )
    elif code == "submit":
        recipients = [problem.assigned_by_id, problem.found_by_id]
        _tell(
            problem, recipients, kind="problem.submitted", title=f"{school} 已提交整改，待复核：问题 {number}"
        )
    elif code in {"approve", "reject", "reopen"}:
        titles = {
            "approve": "复核通过，已销号",
            "reject": "复核不通过，请继续整改",
            "reopen": "已重新打开，请整改",
        }
        recipients = [problem.responsible_id]
        if code != "approve":
            recipients += people.holders(problem.school, {Role.LIAISON})
        _tell(
            problem,
            recipients,
            kind=f"problem.{code}",
            title=f"问题 {number} {titles[code]}",
            body=problem.recheck_note if code != "reopen" else "",
        )


def after_photos(problem: Problem):
    from django.contrib.contenttypes.models import ContentType

    return EvidencePhoto.objects.filter(
        owner_type=ContentType.objects.get_for_model(Problem),
        owner_id=problem.pk,
        purpose=EvidencePhoto.Purpose.AFTER,
    )


CORRECTABLE = {"description": "问题描述", "location": "位置", "responsible": "责任人", "deadline": "整改时限"}


@transaction.atomic
def problem_correct(*, problem: Problem, changes: dict, reason: str, actor, request=None) -> Problem:
    """Correct a problem's facts. Never a silent edit: a new event with the reason and before/after.

    The office may correct anything listed in CORRECTABLE; the school's head or liaison may hand the
    problem to another person of the school (改派责任人). Deadlines may only move later.
    """
    problem = Problem.objects.select_for_update().select_related("school").get(pk=problem.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "更正必须填写原因"})
    if problem.status in {Status.CLOSED, Status.VOID}:
        raise ValidationError(f"问题 {problem.number} {problem.get_status_display()}，不能更正")
    unknown = set(changes) - set(CORRECTABLE)
    if unknown or not changes:
        raise ValidationError("没有可更正的内容")
    office = workflow.WHO["office"](actor, problem)
    if not office and not (set(changes) == {"responsible"} and workflow.WHO["school"](actor, problem)):
        raise ValidationError(f"您不能更正问题 {problem.number}", code="forbidden")
    before, after = {}, {}
    for field, value in changes.items():
        if field == "responsible":
            _check_responsible(problem.school, value)
            before[field], after[field] = problem.responsible_id, value.pk
            problem.responsible = value
        elif field == "deadline":
            if problem.deadline is None:
                raise ValidationError({"deadline": "问题尚未交办，没有整改时限"})
            if value <= problem.deadline or value <= timezone.now():
                raise ValidationError({"deadline": "整改时限只能延后，且不能早于现在"})
            before[field], after[field] = problem.deadline.isoformat(), value.isoformat()
            problem.deadline = value
            problem.escalation_level = 0
        else:
            value = _check_text(value, field, limit=200 if field == "location" else MAX_DESCRIPTION)
            before[field], after[field] = getattr(problem, field), value
            setattr(problem, field, value)
    problem.save()
    _event(
        problem,
        kind=ProblemEvent.Kind.EDIT,
        actor=actor,
        request=request,
        note=reason,
        data={"before": before, "after": after},
    )
    if "responsible" in changes:
        _tell(
            problem,
            [problem.responsible_id],
            kind="problem.assigned",
            title=f"问题 {problem.number} 已改由您负责",
        )
    return problem


@transaction.atomic
def problems_bulk_move(
    *, problems: Sequence[Problem], code: str, actor, request=None, **kwargs
) -> list[Problem]:
    """Make the same move on many problems, all or nothing: one refusal refuses the batch, naming it."""
    if not problems:
        raise ValidationError("请先选择问题")
    done = []
    for problem in problems:
        try:
            done.append(problem_move(problem=problem, code=code, actor=actor, request=request, **kwargs))
        except ValidationError as exc:
            messages = "；".join(exc.messages)
            raise ValidationError(f"问题 {problem.number}：{messages}（本批未做任何更改）") from exc
    return done


@transaction.atomic
def milestone_done(*, milestone: Milestone, actor, request=None) -> Milestone:
    problem = milestone.problem
    if not workflow.WHO["school"](actor, problem):
        raise ValidationError("只有责任人或学校负责人、联络员可以完成整改节点", code="forbidden")
    if milestone.done_at is not None:
        raise ValidationError("该节点已完成")
    if problem.status not in {Status.ASSIGNED, Status.IN_PROGRESS}:
        raise ValidationError(
            f"问题 {problem.number} 当前为“{problem.get_status_display()}”，只有整改期间可以完成整改节点"
        )
    milestone.done_at = timezone.now()
    milestone.save(update_fields=["done_at", "updated_at"])
    _event(
        problem,
        kind=ProblemEvent.Kind.MILESTONE,
        actor=actor,
        request=request,
        note=milestone.title,
        data={"milestone_id": milestone.pk},
    )
    return milestone


def release_held(*, inspection, actor, request=None) -> int:
    """Assign the problems an unannounced inspection held back, now that it is submitted."""
    count = 0
    for problem in Problem.objects.filter(inspection=inspection, status=Status.NEW).order_by("pk"):
        if problem.responsible_id is None and default_responsible(problem.school, problem.standard) is None:
            continue  # left 待交办 for the office to name someone
        problem_move(problem=problem, code="assign", actor=actor, request=request)
        count += 1
    return count
