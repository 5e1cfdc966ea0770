"""Writes of inspections: start, save one answer (as it is given), submit, correct after submission.

Every answer saved and every score change goes into the audit chain; a change after submission is a
correction with a reason that recomputes the score and records before and after.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chuangwen.campaigns.models import Round
from chuangwen.core import access, audit
from chuangwen.core.roles import Role
from chuangwen.index.models import Standard
from chuangwen.notify.services import notify
from chuangwen.org.models import Unit

from . import scoring
from .models import Answer, Inspection

OFFICE_ROLES = frozenset({Role.ADMIN, Role.OFFICE})
SCHOOL_LEAD_ROLES = frozenset({Role.SCHOOL_HEAD, Role.LIAISON})
MAX_NOTE = 1000


def may_inspect(user, round_: Round, school: Unit, *, assigned: bool | None = None) -> bool:
    """Who scores a school in a round: its assigned inspectors (a self-check: the school's head and
    liaison) and the campaign office. `assigned` (whether the user is one of the round's inspectors) may be
    passed in when asking for many schools of one round."""
    if not getattr(user, "is_authenticated", False):
        return False
    if access.reaches(user, school, OFFICE_ROLES):
        return True
    if round_.kind == Round.Kind.SELF:
        return access.reaches(user, school, SCHOOL_LEAD_ROLES)
    return assigned if assigned is not None else round_.inspectors.filter(pk=user.pk).exists()


def applicable_standards(round_: Round, school: Unit) -> list[Standard]:
    """The standards of the round's edition that apply to the school's type, in index order."""
    standards = Standard.objects.filter(edition_id=round_.campaign.edition_id).select_related("group")
    return [s for s in standards.order_by("position", "pk") if school.school_type in (s.school_types or [])]


@transaction.atomic
def inspection_start(*, round_: Round, school: Unit, actor, request=None) -> Inspection:
    """Open (or return the open) inspection of a school in a round."""
    if not may_inspect(actor, round_, school):
        raise ValidationError(f"您不是本轮对{school.name}的检查人员", code="forbidden")
    if round_.status != Round.Status.IN_PROGRESS:
        raise ValidationError(f"“{round_.name}”{round_.get_status_display()}，不能检查", code="round_status")
    if not round_.round_schools.filter(school=school).exists():
        raise ValidationError(f"{school.name}不在“{round_.name}”的受检学校中", code="not_in_round")
    inspection, created = Inspection.objects.get_or_create(
        round=round_, school=school, defaults={"started_by": actor}
    )
    if created:
        audit.record(
            "inspection.start",
            actor=actor,
            request=request,
            obj=inspection,
            data={"round_id": round_.pk, "school_id": school.pk},
        )
    return inspection


def _standard_of(inspection: Inspection, standard: Standard) -> None:
    if standard.edition_id != inspection.round.campaign.edition_id:
        raise ValidationError({"standard": "标准不属于本轮使用的测评体系版本"})
    if inspection.school.school_type not in (standard.school_types or []):
        raise ValidationError({"standard": f"{standard.code} 不适用于本校"})


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": f"说明不能超过 {MAX_NOTE} 字"})
    return note


@transaction.atomic
def answer_save(
    *,
    inspection: Inspection,
    standard: Standard,
    result: str = "",
    occurrences: int = 0,
    note: str = "",
    actor,
    expected_revision: int | None = None,
    request=None,
) -> Answer:
    """Save one answer now. `expected_revision` (what the page last saw) refuses overwriting a newer answer
    from a colleague on another phone."""
    inspection = (
        Inspection.objects.select_for_update()
        .select_related("round", "school", "round__campaign")
        .get(pk=inspection.pk)
    )
    if not may_inspect(actor, inspection.round, inspection.school):
        raise ValidationError("您不是这次检查的检查人员", code="forbidden")
    if inspection.is_submitted:
        raise ValidationError("检查已提交，修改评分请使用“更正”并填写原因", code="submitted")
    _standard_of(inspection, standard)
    fraction, points = scoring.evaluate(standard, result=result, occurrences=occurrences)
    note = _note(note)
    answer = Answer.objects.filter(inspection=inspection, standard=standard).first()
    now = timezone.now()
    if answer is None:
        if expected_revision not in (None, 0):
            raise ValidationError("这条评分已被删除或尚未保存，请刷新页面", code="stale")
        answer = Answer(inspection=inspection, standard=standard, revision=1)
    else:
        if expected_revision is not None and expected_revision != answer.revision:
            raise ValidationError(
                f"{standard.code} 已被 {answer.answered_by} 于 "
                f"{timezone.localtime(answer.answered_at):%H:%M} 修改，请刷新后再评",
                code="stale",
            )
        answer.revision += 1
    answer.result = (result or "").strip()
    answer.occurrences = occurrences if not answer.result else 0
    answer.note = note
    answer.fraction = fraction
    answer.points = points
    answer.answered_by = actor
    answer.answered_at = now
    answer.save()
    audit.record(
        "inspection.answer",
        actor=actor,
        request=request,
        obj=inspection,
        data={
            "standard": standard.code,
            "result": answer.result,
            "occurrences": answer.occurrences,
            "fraction": str(fraction),
            "points": str(points),
            "revision": answer.revision,
            "note": note,
        },
    )
    return answer


def _apply_totals(inspection: Inspection) -> scoring.Totals:
    standards = applicable_standards(inspection.round, inspection.school)
    answers = {a.standard_id: a for a in inspection.answers.all()}
    t = scoring.totals(standards, answers)
    inspection.applicable_points = t.applicable
    inspection.obtained_points = t.obtained
    inspection.raw_score = t.raw_score
    inspection.score = t.score
    inspection.vetoed = t.vetoed
    inspection.veto_reason = t.veto_reason
    return t


@transaction.atomic
def inspection_submit(*, inspection: Inspection, actor, partial: bool = False, request=None) -> Inspection:
    """Compute and fix the score; lift an unannounced round's embargo for this school; release its problems.

    Every applicable standard must be answered unless `partial` (the inspector confirms that only some
    were checked; the others are left out of both sums).
    """
    inspection = (
        Inspection.objects.select_for_update()
        .select_related("round", "school", "round__campaign")
        .get(pk=inspection.pk)
    )
    if not may_inspect(actor, inspection.round, inspection.school):
        raise ValidationError("您不是这次检查的检查人员", code="forbidden")
    if inspection.is_submitted:
        raise ValidationError("这次检查已经提交过了", code="submitted")
    t = _apply_totals(inspection)
    if t.applicable == 0 and not t.vetoed:
        raise ValidationError("还没有任何评分，不能提交", code="empty")
    if t.unanswered and not partial:
        shown = "、".join(t.unanswered[:10]) + ("等" if len(t.unanswered) > 10 else "")
        raise ValidationError(
            f"还有 {len(t.unanswered)} 项标准未评分（{shown}）；"
            "如本次只检查部分标准，请勾选“仅检查部分标准”后提交",
            code="unanswered",
        )
    inspection.status = Inspection.Status.SUBMITTED
    inspection.submitted_at = timezone.now()
    inspection.submitted_by = actor
    inspection.save()
    audit.record(
        "inspection.submit",
        actor=actor,
        request=request,
        obj=inspection,
        data={
            "applicable_points": str(t.applicable),
            "obtained_points": str(t.obtained),
            "raw_score": str(t.raw_score),
            "score": str(t.score),
            "vetoed": t.vetoed,
            "unchecked": list(t.unanswered),
        },
    )
    from chuangwen.ledger.people import holders
    from chuangwen.ledger.services import release_held

    release_held(inspection=inspection, actor=actor, request=request)
    recipients = holders(inspection.school, SCHOOL_LEAD_ROLES)
    if recipients:
        notify(
            recipients=recipients,
            kind="inspection.submitted",
            title=f"{inspection.round.get_kind_display()}结果：{inspection.school.name} "
            f"{inspection.score} 分",
            body=inspection.veto_reason,
            link=f"/inspections/{inspection.pk}/",
            unit_id=inspection.school_id,
        )
    return inspection


@transaction.atomic
def answer_correct(
    *,
    answer: Answer,
    result: str = "",
    occurrences: int = 0,
    note: str | None = None,
    reason: str,
    actor,
    request=None,
) -> Answer:
    """Change an answer of a submitted inspection: the campaign office only, with a reason; rescored."""
    answer = Answer.objects.select_for_update().select_related("inspection", "standard").get(pk=answer.pk)
    inspection = (
        Inspection.objects.select_for_update()
        .select_related("round", "school", "round__campaign")
        .get(pk=answer.inspection_id)
    )
    if not access.reaches(actor, inspection.school, OFFICE_ROLES):
        raise ValidationError("只有创文办可以更正已提交的评分", code="forbidden")
    if not inspection.is_submitted:
        raise ValidationError("检查尚未提交，直接修改评分即可", code="not_submitted")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "更正评分必须填写原因"})
    fraction, points = scoring.evaluate(answer.standard, result=result, occurrences=occurrences)
    before = {
        "result": answer.result,
        "occurrences": answer.occurrences,
        "points": str(answer.points),
        "score": str(inspection.score),
    }
    answer.result = (result or "").strip()
    answer.occurrences = occurrences if not answer.result else 0
    if note is not None:
        answer.note = _note(note)
    answer.fraction = fraction
    answer.points = points
    answer.revision += 1
    answer.answered_by = actor
    answer.answered_at = timezone.now()
    answer.save()
    _apply_totals(inspection)
    inspection.save()
    audit.record(
        "inspection.correct",
        actor=actor,
        request=request,
        obj=inspection,
        data={
            "standard": answer.standard.code,
            "reason": reason,
            "before": before,
            "after": {
                "result": answer.result,
                "occurrences": answer.occurrences,
                "points": str(points),
                "score": str(inspection.score),
            },
        },
    )
    return answer


def answer_add_photo(*, answer: Answer, file, actor, request=None):
    """A photo taken while checking a standard, stamped with the school and the standard's code."""
    from chuangwen.core.evidence.services import evidence_photo_attach, evidence_photo_create
    from chuangwen.core.models import EvidencePhoto

    inspection = answer.inspection
    if not may_inspect(actor, inspection.round, inspection.school):
        raise ValidationError("您不是这次检查的检查人员", code="forbidden")
    if inspection.is_submitted:
        raise ValidationError("检查已提交，不能再添加照片", code="submitted")
    with transaction.atomic():
        photo = evidence_photo_create(
            file=file,
            uploaded_by=actor,
            school=inspection.school,
            purpose=EvidencePhoto.Purpose.FOUND,
            label=f"标准 {answer.standard.code}",
            actor=actor,
        )
        evidence_photo_attach(photo=photo, owner=answer, actor=actor)
    return photo
