"""The problem ledger over JSON: list, read (with its timeline and photos), record, move along the workflow,
add photos, correct facts, complete a long-term problem's milestones, bulk moves, and the office's rules
(整改规则) — through the same selectors and services as the pages.

Who sees a problem is `selectors.visible_problems`; who may make which move is `workflow`. An illegal move
answers 422 with the workflow's message and changes nothing; a move the caller may not make answers 403.
"""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from chuangwen.campaigns.selectors import visible_rounds
from chuangwen.core import access
from chuangwen.core.calendar import SHANGHAI
from chuangwen.core.evidence.selectors import REUSE_MESSAGE
from chuangwen.core.models import EvidencePhoto
from chuangwen.index.models import Standard
from chuangwen.inspections import selectors as inspection_selectors
from chuangwen.inspections.api import Id, SmallInt, Text, refusals
from chuangwen.org.models import Unit

from . import deadlines, selectors, services, workflow
from .models import LedgerSettings, Light, Milestone, Problem, ProblemEvent, Severity, Source
from .models import Status as ProblemStatus
from .settings_service import LADDER_ROLES, MAX_STEPS, ledger_settings_save

router = Router()
STATUS_LABELS = dict(ProblemStatus.choices)
SEVERITY_LABELS = dict(Severity.choices)
SOURCE_LABELS = dict(Source.choices)
LIGHT_LABELS = dict(Light.choices)
EVENT_LABELS = dict(ProblemEvent.Kind.choices)
PURPOSE_LABELS = dict(EvidencePhoto.Purpose.choices)
MAX_BULK = 200
# What each move reads from the request body, so an app can show the right fields.
MOVE_FIELDS = {
    "assign": ["responsible_id", "severity", "deadline_days", "target_date", "note"],
    "accept": ["note"],
    "submit": ["cause", "measures", "note"],
    "approve": ["note"],
    "reject": ["reason"],
    "reopen": ["reason"],
    "void": ["reason"],
}


def _name(user) -> str:
    return (user.name or user.username) if user is not None else ""


def _rules(context) -> LedgerSettings:
    """The light rules, read once per request rather than once per row."""
    request = (context or {}).get("request")
    rules = getattr(request, "_ledger_rules", None)
    if rules is None:
        rules = LedgerSettings.current()
        if request is not None:
            request._ledger_rules = rules
    return rules


# --- schemas -----------------------------------------------------------------------------------------


class ProblemFields(Schema):
    id: int
    number: str
    school_id: int
    school_name: str
    standard_id: int | None
    standard_code: str
    round_id: int | None
    inspection_id: int | None
    answer_id: int | None
    source: str
    source_label: str
    description: str
    location: str
    found_by_id: int
    found_at: dt.datetime
    severity: str
    severity_label: str
    deadline_days: int | None
    target_date: dt.date | None
    deadline: dt.datetime | None
    calendar_gap: str
    responsible_id: int | None
    responsible_name: str
    status: str
    status_label: str
    light: str
    light_label: str
    assigned_at: dt.datetime | None
    accepted_at: dt.datetime | None
    submitted_at: dt.datetime | None
    closed_at: dt.datetime | None
    escalation_level: int
    listed_for_bulletin: bool
    reopen_count: int


class ProblemOut(ProblemFields):
    @staticmethod
    def resolve_school_name(obj):
        return obj.school.name

    @staticmethod
    def resolve_standard_code(obj):
        return obj.standard.code if obj.standard_id else ""

    @staticmethod
    def resolve_source_label(obj):
        return SOURCE_LABELS.get(obj.source, obj.source)

    @staticmethod
    def resolve_severity_label(obj):
        return SEVERITY_LABELS.get(obj.severity, obj.severity)

    @staticmethod
    def resolve_responsible_name(obj):
        return _name(obj.responsible) if obj.responsible_id else ""

    @staticmethod
    def resolve_status_label(obj):
        return STATUS_LABELS.get(obj.status, obj.status)

    @staticmethod
    def resolve_light(obj, context):
        return deadlines.light(obj, rules=_rules(context))

    @staticmethod
    def resolve_light_label(obj, context):
        light = deadlines.light(obj, rules=_rules(context))
        return LIGHT_LABELS.get(light, light)


class EventOut(Schema):
    id: int
    kind: str
    kind_label: str
    move: str
    move_label: str
    from_status: str
    to_status: str
    to_status_label: str
    actor_id: int | None
    actor_name: str
    at: dt.datetime
    note: str
    data: dict


class PhotoOut(Schema):
    id: int
    purpose: str
    purpose_label: str
    label: str
    width: int
    height: int
    captured_at: dt.datetime | None
    uploaded_at: dt.datetime
    uploaded_by_id: int
    stamped_url: str
    thumbnail_url: str
    reused: bool
    reuse_message: str


class MilestoneOut(Schema):
    id: int
    title: str
    due_date: dt.date
    done_at: dt.datetime | None


class MoveOut(Schema):
    code: str
    label: str
    target: str
    target_label: str
    needs_reason: bool
    fields: list[str]


class ProblemDetailOut(ProblemFields):
    cause: str
    measures: str
    recheck_note: str
    rechecked_by_id: int | None
    rechecked_at: dt.datetime | None
    void_reason: str
    milestones: list[MilestoneOut]
    events: list[EventOut]
    photos: list[PhotoOut]
    moves: list[MoveOut]


class ProblemFilters(Schema):
    campaign: Id | None = Field(None, description="创建周期 id（其轮次发现的问题及周期内轮次外登记的问题）")
    status: Text = Field("", description="状态代码，或 open（待交办、待签收、整改中）")
    standard: Id | None = Field(None, description="标准 id")
    round_id: Id | None = Field(None, description="检查轮次 id")
    source: Text = Field("", description="发现方式：self/mock/unannounced/follow_up/daily/report")
    school: Id | None = Field(None, description="学校 id")
    district: Id | None = Field(None, description="区县 id（其下各学校）")
    school_type: Text = Field("", description="学校类型：kindergarten/primary/junior/nine_year/senior/…")
    responsible: Id | None = Field(None, description="责任人 id")
    overdue: bool = Field(False, description="只看已逾期的")
    q: Text = Field("", description="在问题描述和位置中查找")


class MilestoneIn(Schema):
    title: Text = Field(description="节点名称")
    due_date: dt.date = Field(description="节点完成日期")


class ProblemIn(Schema):
    school_id: Id = Field(description="学校 id")
    description: Text = Field(description="问题描述")
    location: Text = Field("", description="位置")
    standard_id: Id | None = Field(None, description="标准 id")
    standard_code: Text | None = Field(None, description="标准编号（须同时指定检查轮次或检查）")
    round_id: Id | None = Field(None, description="检查轮次 id")
    inspection_id: Id | None = Field(None, description="检查 id")
    answer_id: Id | None = Field(None, description="评分 id")
    source: Text | None = Field(None, description="发现方式：self/mock/unannounced/follow_up/daily/report")
    severity: Text = Field(
        Severity.IMMEDIATE, description="整改类型：immediate 立行立改/days 限期整改/long 长期整改"
    )
    deadline_days: SmallInt | None = Field(None, description="整改工作日数（限期整改）")
    target_date: dt.date | None = Field(None, description="目标日期（长期整改）")
    responsible_id: Id | None = Field(None, description="责任人 id")
    milestones: list[MilestoneIn] = Field(
        default_factory=list, max_length=50, description="整改节点（长期整改）"
    )
    assign: bool = Field(True, description="是否立即交办")


class MoveIn(Schema):
    move: Text = Field(description="操作：assign/accept/submit/approve/reject/reopen/void")
    reason: Text = Field("", description="原因")
    note: Text = Field("", description="说明")
    responsible_id: Id | None = Field(None, description="责任人 id")
    severity: Text | None = Field(None, description="整改类型")
    deadline_days: SmallInt | None = Field(None, description="整改工作日数")
    target_date: dt.date | None = Field(None, description="目标日期")
    cause: Text | None = Field(None, description="问题原因")
    measures: Text | None = Field(None, description="整改措施")


class CorrectionIn(Schema):
    """Only what is sent and differs from the problem is corrected; the reason is required."""

    reason: Text = Field(description="更正原因")
    description: Text | None = Field(None, description="问题描述")
    location: Text | None = Field(None, description="位置")
    responsible_id: Id | None = Field(None, description="责任人 id（改派）")
    deadline: dt.datetime | None = Field(None, description="整改时限（只能延后；不带时区按北京时间）")


class LadderStep(Schema):
    after: int = Field(description="逾期后第几个工作日")
    roles: list[Text] = Field(description=f"通知对象：{'/'.join(sorted(LADDER_ROLES))}")
    label: Text = Field("", max_length=50, description="说明")
    bulletin: bool = Field(False, description="列入通报")


class SettingsIn(Schema):
    default_days: int = Field(description="限期整改默认工作日数")
    yellow_ratio: Decimal = Field(description="临期比例（0 到 0.99）")
    yellow_min_hours: int = Field(description="临期最少小时数")
    remind_daily: bool = Field(description="逾期后每个工作日重复提醒责任人")
    ladder: list[LadderStep] = Field(max_length=MAX_STEPS, description="逾期升级规则")


class SettingsOut(Schema):
    default_days: int
    yellow_ratio: Decimal
    yellow_min_hours: int
    remind_daily: bool
    ladder: list[dict]
    updated_at: dt.datetime | None
    updated_by_id: int | None


class BulkMoveIn(MoveIn):
    ids: list[Id]


class BulkOut(Schema):
    count: int
    items: list[ProblemOut]


# --- helpers -----------------------------------------------------------------------------------------


def _problem_or_404(user, problem_id: Id) -> Problem:
    return get_object_or_404(
        selectors.visible_problems(user).select_related("school", "standard", "round", "responsible"),
        pk=problem_id,
    )


def _person(user_id: int | None, field: str = "responsible_id"):
    if user_id is None:
        return None
    person = get_user_model().objects.filter(pk=user_id).first()
    if person is None:
        raise ValidationError({field: f"用户 {user_id} 不存在"})
    return person


def _moves(user, problem: Problem) -> list[dict]:
    return [
        {
            "code": m.code,
            "label": m.label,
            "target": m.target,
            "target_label": STATUS_LABELS.get(m.target, m.target),
            "needs_reason": m.needs_reason,
            "fields": MOVE_FIELDS.get(m.code, []),
        }
        for m in workflow.allowed_moves(user, problem)
    ]


def _photos(problem: Problem) -> list[dict]:
    reused = {
        e.data.get("photo_id")
        for e in problem.events.filter(kind=ProblemEvent.Kind.PHOTO)
        if e.data.get("reuse_of")
    }
    photos = EvidencePhoto.objects.filter(
        owner_type=ContentType.objects.get_for_model(Problem), owner_id=problem.pk
    ).order_by("uploaded_at", "pk")
    return [
        {
            "id": p.pk,
            "purpose": p.purpose,
            "purpose_label": PURPOSE_LABELS.get(p.purpose, p.purpose),
            "label": p.label,
            "width": p.width,
            "height": p.height,
            "captured_at": p.captured_at,
            "uploaded_at": p.uploaded_at,
            "uploaded_by_id": p.uploaded_by_id,
            "stamped_url": reverse("core:evidence_stamped", args=[p.pk]),
            "thumbnail_url": reverse("core:evidence_thumbnail", args=[p.pk]),
            "reused": p.pk in reused,
            "reuse_message": REUSE_MESSAGE if p.pk in reused else "",
        }
        for p in photos
    ]


def _detail(request, problem_id: Id) -> dict:
    problem = (
        Problem.objects.select_related("school", "standard", "round", "responsible")
        .prefetch_related("milestones")
        .get(pk=problem_id)
    )
    rules = _rules({"request": request})
    light = deadlines.light(problem, rules=rules)
    out = {f: getattr(problem, f) for f in ProblemFields.model_fields if hasattr(problem, f)}
    out.update(
        school_name=problem.school.name,
        standard_code=problem.standard.code if problem.standard_id else "",
        source_label=SOURCE_LABELS.get(problem.source, problem.source),
        severity_label=SEVERITY_LABELS.get(problem.severity, problem.severity),
        responsible_name=_name(problem.responsible) if problem.responsible_id else "",
        status_label=STATUS_LABELS.get(problem.status, problem.status),
        light=light,
        light_label=LIGHT_LABELS.get(light, light),
        cause=problem.cause,
        measures=problem.measures,
        recheck_note=problem.recheck_note,
        rechecked_by_id=problem.rechecked_by_id,
        rechecked_at=problem.rechecked_at,
        void_reason=problem.void_reason,
        milestones=[
            {"id": m.pk, "title": m.title, "due_date": m.due_date, "done_at": m.done_at}
            for m in problem.milestones.all()
        ],
        events=[
            {
                "id": e.pk,
                "kind": e.kind,
                "kind_label": EVENT_LABELS.get(e.kind, e.kind),
                "move": e.move,
                "move_label": workflow.MOVES[e.move].label if e.move in workflow.MOVES else "",
                "from_status": e.from_status,
                "to_status": e.to_status,
                "to_status_label": STATUS_LABELS.get(e.to_status, e.to_status),
                "actor_id": e.actor_id,
                "actor_name": _name(e.actor) if e.actor_id else "系统",
                "at": e.at,
                "note": e.note,
                "data": e.data,
            }
            for e in selectors.events(problem)
        ],
        photos=_photos(problem),
        moves=_moves(request.user, problem),
    )
    return out


def _move_kwargs(payload: MoveIn) -> dict:
    return {
        "code": payload.move,
        "reason": payload.reason,
        "note": payload.note,
        "responsible": _person(payload.responsible_id),
        "severity": payload.severity,
        "deadline_days": payload.deadline_days,
        "target_date": payload.target_date,
        "cause": payload.cause,
        "measures": payload.measures,
    }


# --- endpoints ---------------------------------------------------------------------------------------


@router.get("/problems", response=list[ProblemOut], tags=["检查台帐"], summary="问题列表")
@paginate(PageNumberPagination, page_size=100)
def list_problems(request, filters: Query[ProblemFilters]):
    status, source = filters.status, filters.source
    if status and status != "open" and status not in STATUS_LABELS:
        raise ValidationError({"status": f"未知的状态：{status}（可用：open、{'、'.join(STATUS_LABELS)}）"})
    if source and source not in SOURCE_LABELS:
        raise ValidationError({"source": f"未知的发现方式：{source}"})
    if filters.school_type and filters.school_type not in Unit.SchoolType.values:
        raise ValidationError({"school_type": f"未知的学校类型：{filters.school_type}"})
    return selectors.problem_list(
        user=request.user,
        campaign_id=filters.campaign,
        status=status,
        standard_id=filters.standard,
        round_id=filters.round_id,
        source=source,
        school_id=filters.school,
        district_id=filters.district,
        school_type=filters.school_type,
        responsible_id=filters.responsible,
        overdue=filters.overdue,
        q=filters.q.strip()[:100],
    )


@router.post("/problems", response={201: ProblemDetailOut}, tags=["检查台帐"], summary="登记问题")
def create_problem(request, payload: ProblemIn):
    """By default the problem is assigned at once (its responsible person is notified); a problem of an
    unannounced round stays 待交办 until the school's inspection is submitted."""
    user = request.user
    school = get_object_or_404(access.visible_schools(user), pk=payload.school_id)
    inspection = answer = round_ = None
    if payload.inspection_id is not None:
        inspection = get_object_or_404(
            inspection_selectors.visible_inspections(user).select_related("round", "round__campaign"),
            pk=payload.inspection_id,
        )
        round_ = inspection.round
    elif payload.round_id is not None:
        round_ = get_object_or_404(visible_rounds(user).select_related("campaign"), pk=payload.round_id)
    if payload.answer_id is not None:
        if inspection is None:
            raise ValidationError({"answer_id": "指定评分时须同时指定 inspection_id"})
        answer = inspection.answers.select_related("standard").filter(pk=payload.answer_id).first()
        if answer is None:
            raise ValidationError({"answer_id": "评分不属于这次检查"})
    days = payload.deadline_days
    if payload.severity == Severity.DAYS and days is not None and not 1 <= days <= deadlines.MAX_DAYS:
        raise ValidationError({"deadline_days": f"限期整改的工作日数须在 1 到 {deadlines.MAX_DAYS} 之间"})
    standard = None
    if payload.standard_id is not None:
        standard = Standard.objects.filter(pk=payload.standard_id).first()
        if standard is None:
            raise ValidationError({"standard_id": f"标准 {payload.standard_id} 不存在"})
    elif payload.standard_code and payload.standard_code.strip():
        if round_ is None:
            raise ValidationError(
                {"standard_code": "按编号指定标准时须同时指定检查轮次或检查，或改用 standard_id"}
            )
        code = payload.standard_code.strip()
        standard = Standard.objects.filter(edition_id=round_.campaign.edition_id, code=code).first()
        if standard is None:
            raise ValidationError({"standard_code": f"本轮使用的测评体系中没有编号为 {code} 的标准"})
    with refusals():
        problem = services.problem_create(
            school=school,
            description=payload.description,
            location=payload.location,
            standard=standard,
            source=payload.source,
            round_=round_,
            inspection=inspection,
            answer=answer,
            severity=payload.severity,
            deadline_days=payload.deadline_days,
            target_date=payload.target_date,
            responsible=_person(payload.responsible_id),
            milestones=[(m.title, m.due_date) for m in payload.milestones],
            assign=payload.assign,
            actor=user,
            request=request,
        )
    return Status(201, _detail(request, problem.pk))


@router.post(
    "/problems/bulk-moves", response=BulkOut, tags=["检查台帐"], summary="批量流转（全部成功或全部不做）"
)
def bulk_move_problems(request, payload: BulkMoveIn):
    ids = list(dict.fromkeys(payload.ids))
    if not ids:
        raise ValidationError({"ids": "请先选择问题"})
    if len(ids) > MAX_BULK:
        raise ValidationError({"ids": f"一次最多处理 {MAX_BULK} 个问题"})
    found = {p.pk: p for p in selectors.visible_problems(request.user).filter(pk__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationError(
            {"ids": f"以下问题不存在或无权访问：{'、'.join(missing[:20])}（本批未做任何更改）"}
        )
    done = services.problems_bulk_move(
        problems=[found[i] for i in ids], actor=request.user, request=request, **_move_kwargs(payload)
    )
    items = list(
        Problem.objects.filter(pk__in=[p.pk for p in done]).select_related(
            "school", "standard", "responsible"
        )
    )
    order = {pk: n for n, pk in enumerate(ids)}
    items.sort(key=lambda p: order[p.pk])
    return {"count": len(items), "items": items}


@router.get(
    "/problems/{problem_id}", response=ProblemDetailOut, tags=["检查台帐"], summary="问题详情与处理记录"
)
def get_problem(request, problem_id: Id):
    return _detail(request, _problem_or_404(request.user, problem_id).pk)


@router.get(
    "/problems/{problem_id}/moves", response=list[MoveOut], tags=["检查台帐"], summary="当前用户可做的操作"
)
def problem_moves(request, problem_id: Id):
    return _moves(request.user, _problem_or_404(request.user, problem_id))


@router.post(
    "/problems/{problem_id}/moves",
    response=ProblemDetailOut,
    tags=["检查台帐"],
    summary="流转问题（交办、签收…）",
)
def move_problem(request, problem_id: Id, payload: MoveIn):
    """`move`: assign 交办, accept 签收, submit 提交整改, approve 复核通过并销号, reject 复核不通过,
    reopen 重新打开, void 作废. A move not allowed in the problem's state answers 422 with the reason."""
    problem = _problem_or_404(request.user, problem_id)
    with refusals():
        services.problem_move(problem=problem, actor=request.user, request=request, **_move_kwargs(payload))
    return _detail(request, problem.pk)


@router.post(
    "/problems/{problem_id}/photos",
    response={201: PhotoOut},
    tags=["检查台帐"],
    summary="上传问题照片（purpose: found 发现问题 / after 整改后）",
)
def add_problem_photo(request, problem_id: Id, file: File[UploadedFile], purpose: Form[Text] = "found"):
    problem = _problem_or_404(request.user, problem_id)
    if purpose not in {EvidencePhoto.Purpose.FOUND, EvidencePhoto.Purpose.AFTER}:
        raise ValidationError({"purpose": "照片用途只能是 found（发现问题）或 after（整改后）"})
    with refusals():
        photo = services.problem_add_photo(
            problem=problem, file=file, purpose=purpose, actor=request.user, request=request
        )
    return Status(201, next(p for p in _photos(problem) if p["id"] == photo.pk))


@router.post(
    "/problems/{problem_id}/corrections",
    response=ProblemDetailOut,
    tags=["检查台帐"],
    summary="更正问题（留痕，须填原因）",
)
def correct_problem(request, problem_id: Id, payload: CorrectionIn):
    """创文办 may correct the description, location, responsible person and deadline (only later); the
    school's head, liaison or the responsible person may only hand the problem to another person of the
    school (改派). Each correction is a new event with the reason and before/after, never a silent edit."""
    problem = _problem_or_404(request.user, problem_id)
    office = workflow.WHO["office"](request.user, problem)
    if not office and not workflow.WHO["school"](request.user, problem):
        raise PermissionDenied(f"您不能更正问题 {problem.number}")
    changes: dict = {}
    if payload.description is not None and payload.description.strip() != problem.description:
        changes["description"] = payload.description
    if payload.location is not None and payload.location.strip() != (problem.location or ""):
        changes["location"] = payload.location
    responsible = _person(payload.responsible_id)
    if responsible is not None and responsible.pk != problem.responsible_id:
        changes["responsible"] = responsible
    if payload.deadline is not None:
        deadline = payload.deadline
        changes["deadline"] = deadline if timezone.is_aware(deadline) else deadline.replace(tzinfo=SHANGHAI)
    with refusals():
        services.problem_correct(
            problem=problem, changes=changes, reason=payload.reason, actor=request.user, request=request
        )
    return _detail(request, problem.pk)


@router.post(
    "/problems/{problem_id}/milestones/{milestone_id}/done",
    response=ProblemDetailOut,
    tags=["检查台帐"],
    summary="完成长期整改的一个节点",
)
def complete_milestone(request, problem_id: Id, milestone_id: Id):
    """The responsible person, or the school's head or liaison; a milestone already done answers 422."""
    problem = _problem_or_404(request.user, problem_id)
    milestone = get_object_or_404(
        Milestone.objects.select_related("problem"), pk=milestone_id, problem=problem
    )
    with refusals():
        services.milestone_done(milestone=milestone, actor=request.user, request=request)
    return _detail(request, problem.pk)


def _settings_out(rules: LedgerSettings) -> dict:
    return {
        "default_days": rules.default_days,
        "yellow_ratio": rules.yellow_ratio,
        "yellow_min_hours": rules.yellow_min_hours,
        "remind_daily": rules.remind_daily,
        "ladder": list(rules.ladder or []),
        "updated_at": rules.updated_at,  # None until the office first saves the rules
        "updated_by_id": rules.updated_by_id,
    }


@router.get("/settings", response=SettingsOut, tags=["检查台帐"], summary="整改规则（创文办）")
def get_ledger_settings(request):
    if not access.can_manage_campaigns(request.user):
        raise PermissionDenied("只有创文办可以查看整改规则")
    return _settings_out(LedgerSettings.current())


@router.put("/settings", response=SettingsOut, tags=["检查台帐"], summary="修改整改规则（创文办）")
def put_ledger_settings(request, payload: SettingsIn):
    """The whole rules at once (as the page saves them); audited with before and after.

    `ladder`: up to 10 steps `{"after": n, "roles": [...], "label": "", "bulletin": false}`, a step firing
    on the (n+1)-th working day past the deadline; roles from liaison, school_head, dept_head, leader,
    office, responsible."""
    values = payload.dict()
    with refusals():
        rules = ledger_settings_save(values=values, actor=request.user, request=request)
    return _settings_out(rules)
