"""Inspections over JSON: a city platform or a mobile app drives the same start → answer → submit → correct
workflow as the pages, through the same services (they decide who may do what and refuse bad input).

Who sees an inspection is `selectors.visible_inspections`, the same rule as the pages.
"""

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate
from pydantic import AfterValidator

from chuangwen.campaigns.models import Round
from chuangwen.campaigns.selectors import sees_whole_round, visible_rounds
from chuangwen.core import access
from chuangwen.index.models import ScoringKind, Standard
from chuangwen.org.models import Unit

from . import scoring, selectors, services
from .models import NOT_APPLICABLE, Answer, Inspection

router = Router()
STATUS_LABELS = dict(Inspection.Status.choices)
KIND_LABELS = dict(Round.Kind.choices)
SCORING_LABELS = dict(ScoringKind.choices)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("不能包含 NUL 字符")
    return value


# Bounds on what a client may send, so that nonsense is refused with a 422 before it reaches the database.
DB_MAX_INT = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=DB_MAX_INT)]
SmallInt = Annotated[int, Field(ge=-32768, le=32767)]
Revision = Annotated[int, Field(ge=0, le=DB_MAX_INT)]
Text = Annotated[str, AfterValidator(_no_nul)]


@contextmanager
def refusals():
    """A service's "you may not" (ValidationError code "forbidden") is a 403 over the API, not a 422."""
    try:
        yield
    except ValidationError as exc:
        if getattr(exc, "code", None) == "forbidden":
            raise PermissionDenied("；".join(exc.messages)) from exc
        raise


def _name(user) -> str:
    return (user.name or user.username) if user is not None else ""


# --- schemas -----------------------------------------------------------------------------------------


class InspectionFields(Schema):
    id: int
    round_id: int
    round_name: str
    round_kind: str
    round_kind_label: str
    school_id: int
    school_name: str
    status: str
    status_label: str
    started_by_id: int
    started_by_name: str
    started_at: dt.datetime
    submitted_at: dt.datetime | None
    submitted_by_id: int | None
    applicable_points: Decimal | None
    obtained_points: Decimal | None
    raw_score: Decimal | None
    score: Decimal | None
    vetoed: bool
    veto_reason: str


class InspectionOut(InspectionFields):
    answered: int

    @staticmethod
    def resolve_round_name(obj):
        return obj.round.name

    @staticmethod
    def resolve_round_kind(obj):
        return obj.round.kind

    @staticmethod
    def resolve_round_kind_label(obj):
        return KIND_LABELS.get(obj.round.kind, obj.round.kind)

    @staticmethod
    def resolve_school_name(obj):
        return obj.school.name

    @staticmethod
    def resolve_status_label(obj):
        return STATUS_LABELS.get(obj.status, obj.status)

    @staticmethod
    def resolve_started_by_name(obj):
        return _name(obj.started_by)

    @staticmethod
    def resolve_started_at(obj):
        return obj.created_at

    @staticmethod
    def resolve_answered(obj):
        return obj.answer_count


class AnswerOut(Schema):
    id: int
    standard_id: int
    standard_code: str
    result: str
    occurrences: int
    note: str
    fraction: Decimal
    points: Decimal
    revision: int
    answered_by_id: int
    answered_by_name: str
    answered_at: dt.datetime
    photo_ids: list[int]
    problem_ids: list[int]

    @staticmethod
    def resolve_standard_code(obj):
        return obj.standard.code

    @staticmethod
    def resolve_photo_ids(obj):
        return getattr(obj, "photo_ids", [])

    @staticmethod
    def resolve_problem_ids(obj):
        return getattr(obj, "problem_ids", [])

    @staticmethod
    def resolve_answered_by_name(obj):
        return _name(obj.answered_by)


class PhotoOut(Schema):
    id: int
    label: str
    width: int
    height: int
    captured_at: dt.datetime | None
    uploaded_at: dt.datetime
    uploaded_by_id: int
    stamped_url: str
    thumbnail_url: str

    @staticmethod
    def resolve_stamped_url(obj):
        return reverse("core:evidence_stamped", args=[obj.pk])

    @staticmethod
    def resolve_thumbnail_url(obj):
        return reverse("core:evidence_thumbnail", args=[obj.pk])


class StandardItem(Schema):
    id: int
    code: str
    text: str
    points: Decimal
    scoring_kind: str
    scoring_kind_label: str
    results: list[str]
    negative_list: bool
    check_protocol: str
    answer_id: int | None
    revision: int


class InspectionDetailOut(InspectionFields):
    answered: int
    applicable: int
    running_score: Decimal | None
    running_vetoed: bool
    may_answer: bool
    may_correct: bool
    standards: list[StandardItem]
    answers: list[AnswerOut]


class InspectionFilters(Schema):
    round: Id | None = Field(None, description="检查轮次 id")
    school: Id | None = Field(None, description="学校 id")
    status: Text = Field("", description="in_progress 检查中 / submitted 已提交")


class StartIn(Schema):
    round_id: Id
    school_id: Id


class AnswerPut(Schema):
    result: Text = Field("", description="达标/基本达标/不达标、合格/不合格或不适用；按次扣分的标准留空")
    occurrences: SmallInt = Field(0, description="按次扣分的标准：发现几处")
    note: Text = ""
    revision: Revision | None = Field(None, description="上次看到的修订次数（新评分为 0）；不填则不检查")


class AnswerIn(AnswerPut):
    standard_id: Id | None = None
    standard_code: Text | None = None


class SubmitIn(Schema):
    partial: bool = False


class CorrectIn(Schema):
    answer_id: Id | None = None
    standard_code: Text | None = None
    result: Text = ""
    occurrences: SmallInt = 0
    note: Text | None = None
    reason: Text = ""


# --- helpers -----------------------------------------------------------------------------------------


def _inspection_or_404(user, inspection_id: Id) -> Inspection:
    return get_object_or_404(
        selectors.visible_inspections(user).select_related("round", "round__campaign", "school"),
        pk=inspection_id,
    )


def _standard(inspection: Inspection, *, standard_id=None, standard_code=None) -> Standard:
    """The standard an answer is for, named by id or by its code in the round's edition."""
    if (standard_id is None) == (standard_code is None or not standard_code.strip()):
        raise ValidationError({"standard": "请用 standard_id 或 standard_code 指定一项标准（二选一）"})
    edition_id = inspection.round.campaign.edition_id
    if standard_id is not None:
        standard = Standard.objects.filter(pk=standard_id).first()
        if standard is None:
            raise ValidationError({"standard": f"标准 {standard_id} 不存在"})
        return standard  # the service refuses a standard of another edition or school type, by name
    code = standard_code.strip()
    if "\x00" in code or len(code) > 30:
        raise ValidationError({"standard": "标准编号无效"})
    standard = Standard.objects.filter(edition_id=edition_id, code=code).first()
    if standard is None:
        raise ValidationError({"standard": f"本轮使用的测评体系中没有编号为 {code} 的标准"})
    return standard


def _with_links(inspection: Inspection, answers: list[Answer]) -> list[Answer]:
    """Give each answer the ids of its photos and of the ledger problems opened for it."""
    photos = selectors.photos_of(answers)
    problems = selectors.problems_of(inspection)
    for answer in answers:
        answer.photo_ids = [p.pk for p in photos.get(answer.pk, [])]
        answer.problem_ids = [p.pk for p in problems.get(answer.pk, [])]
    return answers


def _detail(inspection: Inspection, user) -> dict:
    inspection = Inspection.objects.select_related("round", "round__campaign", "school", "started_by").get(
        pk=inspection.pk
    )
    answers = _with_links(inspection, list(inspection.answers.select_related("standard", "answered_by")))
    by_standard = {a.standard_id: a for a in answers}
    standards = services.applicable_standards(inspection.round, inspection.school)
    running = scoring.totals(standards, by_standard)
    may_answer = not inspection.is_submitted and services.may_inspect(
        user, inspection.round, inspection.school
    )
    may_correct = inspection.is_submitted and access.reaches(user, inspection.school, services.OFFICE_ROLES)
    return {
        "id": inspection.pk,
        "round_id": inspection.round_id,
        "round_name": inspection.round.name,
        "round_kind": inspection.round.kind,
        "round_kind_label": KIND_LABELS.get(inspection.round.kind, inspection.round.kind),
        "school_id": inspection.school_id,
        "school_name": inspection.school.name,
        "status": inspection.status,
        "status_label": STATUS_LABELS.get(inspection.status, inspection.status),
        "started_by_id": inspection.started_by_id,
        "started_by_name": _name(inspection.started_by),
        "started_at": inspection.created_at,
        "submitted_at": inspection.submitted_at,
        "submitted_by_id": inspection.submitted_by_id,
        "applicable_points": inspection.applicable_points,
        "obtained_points": inspection.obtained_points,
        "raw_score": inspection.raw_score,
        "score": inspection.score,
        "vetoed": inspection.vetoed,
        "veto_reason": inspection.veto_reason,
        "answered": len(standards) - len(running.unanswered),
        "applicable": len(standards),
        "running_score": running.score,
        "running_vetoed": running.vetoed,
        "may_answer": may_answer,
        "may_correct": may_correct,
        "standards": [
            {
                "id": s.pk,
                "code": s.code,
                "text": s.text,
                "points": s.points,
                "scoring_kind": s.scoring_kind,
                "scoring_kind_label": SCORING_LABELS.get(s.scoring_kind, s.scoring_kind),
                "results": [*scoring.results_for(s), *([] if s.negative_list else [NOT_APPLICABLE])],
                "negative_list": s.negative_list,
                "check_protocol": s.check_protocol,
                "answer_id": by_standard[s.pk].pk if s.pk in by_standard else None,
                "revision": by_standard[s.pk].revision if s.pk in by_standard else 0,
            }
            for s in standards
        ],
        "answers": answers,
    }


# --- endpoints ---------------------------------------------------------------------------------------


@router.get("/", response=list[InspectionOut], tags=["检查"], summary="可见的学校检查列表")
@paginate(PageNumberPagination, page_size=100)
def list_inspections(request, filters: Query[InspectionFilters]):
    qs = selectors.visible_inspections(request.user).select_related("round", "school", "started_by")
    if filters.round is not None:
        qs = qs.filter(round_id=filters.round)
    if filters.school is not None:
        qs = qs.filter(school_id=filters.school)
    status = filters.status
    if status:
        if status not in STATUS_LABELS:
            raise ValidationError({"status": f"未知的检查状态：{status}（可用：{'、'.join(STATUS_LABELS)}）"})
        qs = qs.filter(status=status)
    return qs.annotate(answer_count=Count("answers")).order_by("-created_at", "-pk")


@router.post(
    "/",
    response={200: InspectionDetailOut, 201: InspectionDetailOut},
    tags=["检查"],
    summary="开始检查（已开始的返回原检查）",
)
def start_inspection(request, payload: StartIn):
    round_ = get_object_or_404(visible_rounds(request.user).select_related("campaign"), pk=payload.round_id)
    schools = Q(pk__in=access.visible_schools(request.user).values("pk"))
    if sees_whole_round(request.user, round_):
        schools |= Q(round_entries__round=round_)
    school = get_object_or_404(
        Unit.objects.filter(kind="school").filter(schools).distinct(), pk=payload.school_id
    )
    existed = Inspection.objects.filter(round=round_, school=school).exists()
    with refusals():
        inspection = services.inspection_start(
            round_=round_, school=school, actor=request.user, request=request
        )
    return Status(200 if existed else 201, _detail(inspection, request.user))


@router.get("/{inspection_id}", response=InspectionDetailOut, tags=["检查"], summary="检查详情、评分和得分")
def get_inspection(request, inspection_id: Id):
    return _detail(_inspection_or_404(request.user, inspection_id), request.user)


def _save(request, inspection: Inspection, standard: Standard, payload) -> Answer:
    with refusals():
        answer = services.answer_save(
            inspection=inspection,
            standard=standard,
            result=payload.result,
            occurrences=payload.occurrences,
            note=payload.note,
            expected_revision=payload.revision,
            actor=request.user,
            request=request,
        )
    return _with_links(
        inspection, [Answer.objects.select_related("standard", "answered_by").get(pk=answer.pk)]
    )[0]


@router.post("/{inspection_id}/answers", response=AnswerOut, tags=["检查"], summary="保存一项评分")
def save_answer(request, inspection_id: Id, payload: AnswerIn):
    """`revision` is the answer's revision the app last saw (0 for a new answer); a newer answer saved
    meanwhile from another phone is not overwritten (422)."""
    inspection = _inspection_or_404(request.user, inspection_id)
    standard = _standard(inspection, standard_id=payload.standard_id, standard_code=payload.standard_code)
    return _save(request, inspection, standard, payload)


@router.put(
    "/{inspection_id}/answers/{standard_code}",
    response=AnswerOut,
    tags=["检查"],
    summary="保存一项评分（按标准编号）",
)
def put_answer(request, inspection_id: Id, standard_code: str, payload: AnswerPut):
    inspection = _inspection_or_404(request.user, inspection_id)
    standard = _standard(inspection, standard_code=standard_code)
    return _save(request, inspection, standard, payload)


@router.post(
    "/{inspection_id}/answers/{standard_code}/photos",
    response={201: PhotoOut},
    tags=["检查"],
    summary="为一项评分上传照片（先保存评分）",
)
def add_answer_photo(request, inspection_id: Id, standard_code: str, file: File[UploadedFile]):
    inspection = _inspection_or_404(request.user, inspection_id)
    standard = _standard(inspection, standard_code=standard_code)
    answer = inspection.answers.select_related("inspection", "standard").filter(standard=standard).first()
    if answer is None:
        raise ValidationError({"standard": f"{standard.code} 还没有评分，请先保存评分再上传照片"})
    with refusals():
        photo = services.answer_add_photo(answer=answer, file=file, actor=request.user, request=request)
    return Status(201, photo)


@router.post("/{inspection_id}/submit", response=InspectionDetailOut, tags=["检查"], summary="提交检查")
def submit_inspection(request, inspection_id: Id, payload: SubmitIn):
    """`partial`: only some standards were checked; the unanswered ones are left out of both sums."""
    inspection = _inspection_or_404(request.user, inspection_id)
    with refusals():
        inspection = services.inspection_submit(
            inspection=inspection, partial=payload.partial, actor=request.user, request=request
        )
    return _detail(inspection, request.user)


@router.post(
    "/{inspection_id}/corrections",
    response=InspectionDetailOut,
    tags=["检查"],
    summary="更正已提交的评分（须填写原因）",
)
def correct_answer(request, inspection_id: Id, payload: CorrectIn):
    inspection = _inspection_or_404(request.user, inspection_id)
    answers = inspection.answers.select_related("standard")
    if payload.answer_id is not None:
        answer = answers.filter(pk=payload.answer_id).first()
    elif payload.standard_code and payload.standard_code.strip():
        answer = answers.filter(standard__code=payload.standard_code.strip()).first()
    else:
        raise ValidationError({"answer": "请用 answer_id 或 standard_code 指定要更正的评分"})
    if answer is None:
        raise ValidationError({"answer": "这次检查中没有这条评分"})
    with refusals():
        services.answer_correct(
            answer=answer,
            result=payload.result,
            occurrences=payload.occurrences,
            note=payload.note,
            reason=payload.reason,
            actor=request.user,
            request=request,
        )
    return _detail(inspection, request.user)
