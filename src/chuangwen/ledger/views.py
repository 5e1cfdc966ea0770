"""Pages of the problem ledger (检查台帐). Thin: form → service → redirect; reads through the selectors.

A refused action re-renders the problem page with the refusal on the form that was sent (403 when the
user may not make it, 400 when the input or the problem's state does not allow it); nothing changes.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chuangwen.campaigns.selectors import active_edition
from chuangwen.core import access
from chuangwen.core import calendar as workdays
from chuangwen.core.evidence.selectors import REUSE_MESSAGE, find_reuse
from chuangwen.core.forms import add_service_errors
from chuangwen.core.models import EvidencePhoto
from chuangwen.index.models import Standard
from chuangwen.inspections.models import Answer
from chuangwen.org.models import Unit

from . import deadlines, list_rows, listing, selectors, services, workflow
from .forms import (
    AssignForm,
    BulkForm,
    CorrectForm,
    CreateForm,
    EmptyForm,
    FilterForm,
    LadderFormSet,
    NoteForm,
    PhotoForm,
    ReasonForm,
    SettingsForm,
    SubmitForm,
    people_of,
)
from .models import LedgerSettings, Milestone, Problem, Severity, Source, Status
from .settings_service import ledger_settings_save

# Rows per page: 20 by default, as phones show them (one card each); 50 or 100 on request (?per=).
PAGE_SIZES = (20, 50, 100)
REASON_LABELS = {"reject": "不通过原因", "reopen": "重新打开原因", "void": "作废原因"}
MOVE_STYLES = {
    "assign": "primary",
    "accept": "primary",
    "submit": "success",
    "approve": "success",
    "reject": "warning",
    "reopen": "warning",
    "void": "danger",
}
BULK_LABELS = {"assign": "交办", "approve": "复核通过", "reject": "复核不通过"}


def _visible(request, problem_id: int) -> Problem:
    qs = selectors.visible_problems(request.user).select_related(
        "school",
        "standard",
        "round",
        "round__campaign",
        "inspection",
        "answer",
        "found_by",
        "responsible",
        "assigned_by",
        "rechecked_by",
    )
    return get_object_or_404(qs, pk=problem_id)


def _status_of(exc: ValidationError) -> int:
    return 403 if getattr(exc, "code", None) == "forbidden" else 400


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- the list ---------------------------------------------------------------------------------------


def _without(params, *names: str) -> str:
    """The query string without some parameters (for links that set them anew)."""
    params = params.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@login_required
def problem_list(request):
    user = request.user
    bureau = access.is_bureau_staff(user)
    choices = listing.filter_choices(user, bureau=bureau)
    school_param = request.GET.get("school", "")
    if bureau:
        people = (
            [(p.pk, p.name or p.username) for p in people_of([int(school_param)])]
            if school_param.isdigit()
            else []
        )
    else:
        people = choices["people"]
    form = FilterForm(request.GET or None, options=choices, people=people, show_school=bureau)
    filters = form.filters()
    qs = selectors.problem_list(user=user, **filters).select_related(None).values(*list_rows.LIST_FIELDS)
    total = listing.count(user, filters)
    per = request.GET.get("per", "")
    per_page = int(per) if per.isdigit() and int(per) in PAGE_SIZES else PAGE_SIZES[0]
    page = listing.CappedPaginator(qs, per_page, total=total).get_page(request.GET.get("page"))
    rules = LedgerSettings.for_display()
    now = timezone.now()
    detail = reverse("ledger:detail", args=[0])[: -len("0/")]  # one reverse for the page, not two per row
    can_bulk = access.can_manage_campaigns(user)
    rows = [list_rows.row(values, now=now, rules=rules, detail=detail) for values in page.object_list]
    for row in rows:
        row["html"] = list_rows.row_html(row, bureau=bureau, can_bulk=can_bulk)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "ledger/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "bureau": bureau,
            "query": params.urlencode(),
            "can_bulk": can_bulk,
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
            "per_query": _without(request.GET, "page", "per"),
            "filters_set": sum(1 for value in filters.values() if value),
            "bulk_people": people if (can_bulk and bureau and school_param.isdigit()) else [],
            "severities": [c for c in Severity.choices if c[0] != Severity.LONG],
            "default_days": rules.default_days,
            "can_create": access.has_role(user, *services.RECORDER_ROLES, *workflow.SCHOOL_LEAD_ROLES),
            "can_settings": access.can_manage_campaigns(user),
        },
    )


@login_required
def export(request):
    """The filtered ledger as the office's .xlsx layout (the same filters as the list)."""
    from .exports import export_response

    filters = FilterForm(request.GET or None).filters()
    return export_response(
        selectors.problem_list(user=request.user, **filters), filters=filters, request=request
    )


@login_required
@require_POST
def bulk(request):
    access.require(access.can_manage_campaigns(request.user))
    back = _safe_next(request, reverse("ledger:list"))
    ids = list(dict.fromkeys(int(i) for i in request.POST.getlist("ids") if i.isdigit()))
    form = BulkForm(request.POST)
    if not ids:
        messages.error(request, "请先勾选要处理的问题。")
        return redirect(back)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect(back)
    data = form.cleaned_data
    code = data["code"]
    problems = list(selectors.visible_problems(request.user).filter(pk__in=ids).order_by("pk"))
    if len(problems) != len(ids):
        messages.error(request, "所选问题中有不存在或您无权查看的问题，本批未做任何更改。")
        return redirect(back)
    kwargs: dict = {}
    if code == "assign":
        if data.get("responsible"):
            person = get_user_model().objects.filter(pk=data["responsible"]).first()
            if person is None:
                messages.error(request, "所选责任人不存在，本批未做任何更改。")
                return redirect(back)
            kwargs["responsible"] = person
        kwargs["severity"] = data.get("severity") or None
        kwargs["deadline_days"] = data.get("deadline_days")
    elif code == "reject":
        kwargs["reason"] = data.get("reason", "")
    else:
        kwargs["note"] = data.get("reason", "")
    try:
        services.problems_bulk_move(
            problems=problems, code=code, actor=request.user, request=request, **kwargs
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已{BULK_LABELS[code]} {len(problems)} 个问题。")
    return redirect(back)


# --- one problem ------------------------------------------------------------------------------------


def _move_form(code: str, problem: Problem, data=None, files=None):
    if code == "assign":
        return AssignForm(
            data,
            school=problem.school,
            initial={
                "responsible": problem.responsible_id,
                "severity": problem.severity,
                "deadline_days": problem.deadline_days,
                "target_date": problem.target_date,
            },
            prefix="assign",
        )
    if code == "submit":
        form = SubmitForm(
            data, files, initial={"cause": problem.cause, "measures": problem.measures}, prefix="submit"
        )
        since = problem.rechecked_at or problem.found_at
        fresh = services.after_photos(problem).filter(uploaded_at__gte=since).exists()
        form.fields["photo"].required = not fresh
        if fresh:
            form.fields["photo"].help_text = "已上传整改后照片；可再补充一张"
        return form
    if code == "approve":
        return NoteForm(data, prefix="approve")
    if code in REASON_LABELS:
        form = ReasonForm(data, prefix=code)
        form.fields["reason"].label = REASON_LABELS[code]
        return form
    return EmptyForm(data, prefix=code)


def _photos(problem: Problem) -> tuple[list, list]:
    problem_ct = ContentType.objects.get_for_model(Problem)
    owner = Q(owner_type=problem_ct, owner_id=problem.pk)
    if problem.answer_id:
        owner |= Q(owner_type=ContentType.objects.get_for_model(Answer), owner_id=problem.answer_id)
    photos = list(EvidencePhoto.objects.filter(owner).order_by("uploaded_at", "pk"))
    found = [
        p for p in photos if p.purpose != EvidencePhoto.Purpose.AFTER or p.owner_type_id != problem_ct.pk
    ]
    after = []
    for photo in photos:
        if photo.purpose != EvidencePhoto.Purpose.AFTER or photo.owner_type_id != problem_ct.pk:
            continue
        reuse = []
        for other in find_reuse(photo):
            is_problem = other.owner_type_id == problem_ct.pk and other.owner_id
            reuse.append(
                {
                    "photo": other,
                    "problem_url": reverse("ledger:detail", args=[other.owner_id]) if is_problem else "",
                    "label": other.label or (f"照片 #{other.pk}"),
                    "school": other.school.name if other.school else "",
                }
            )
        after.append({"photo": photo, "reuse": reuse})
    return found, after


def _event_label(ev) -> str:
    labels = dict(Status.choices)
    if ev.move and ev.move in workflow.MOVES:
        text = workflow.MOVES[ev.move].label
        if ev.from_status and ev.to_status and ev.from_status != ev.to_status:
            text += (
                f"（{labels.get(ev.from_status, ev.from_status)} → {labels.get(ev.to_status, ev.to_status)}）"
            )
        return text
    return ev.get_kind_display()


def _render_detail(request, problem: Problem, *, failed=None, error: list | None = None, status: int = 200):
    user = request.user
    rules = LedgerSettings.current()
    light = deadlines.light(problem, rules=rules)
    forms = {}
    for move in workflow.allowed_moves(user, problem):
        forms[move.code] = {
            "move": move,
            "form": _move_form(move.code, problem),
            "style": MOVE_STYLES[move.code],
        }
    failed_kind = ""
    if failed is not None:
        failed_kind, form = failed
        if failed_kind in forms:
            forms[failed_kind]["form"] = form
    who = workflow.WHO
    school_side = who["school"](user, problem)
    office = who["office"](user, problem)
    open_ = problem.status not in {Status.CLOSED, Status.VOID}
    can_after = school_side and problem.status in {Status.ASSIGNED, Status.IN_PROGRESS}
    can_found = (problem.found_by_id == user.pk or who["reviewer"](user, problem)) and open_
    photo_form = failed[1] if failed_kind == "photo" else PhotoForm(initial={"purpose": "after"})
    correct_form = None
    if open_ and (office or school_side):
        correct_form = (
            failed[1]
            if failed_kind == "correct"
            else CorrectForm(
                initial={"description": problem.description, "location": problem.location},
                problem=problem,
                office=office,
            )
        )
    found, after = _photos(problem)
    gap = ""
    if problem.calendar_gap:
        gap = f"{problem.calendar_gap}年节假日未录入，时限仅按周末计算"
    context = {
        "problem": problem,
        "light": light,
        "light_class": deadlines.LIGHT_CLASSES[light],
        "moves": list(forms.values()),
        "failed": failed_kind,
        "error": error or [],
        "found_photos": found,
        "after_photos": after,
        "reuse_message": REUSE_MESSAGE,
        "can_after": can_after,
        "can_found": can_found,
        "photo_form": photo_form,
        "correct_form": correct_form,
        "milestones": list(problem.milestones.all()),
        "can_milestone": school_side and problem.status in {Status.ASSIGNED, Status.IN_PROGRESS},
        "events": [{"e": ev, "what": _event_label(ev)} for ev in selectors.events(problem)],
        "calendar_gap": gap,
    }
    return render(request, "ledger/detail.html", context, status=status)


@login_required
def detail(request, problem_id: int):
    return _render_detail(request, _visible(request, problem_id))


@login_required
@require_POST
def move(request, problem_id: int, code: str):
    problem = _visible(request, problem_id)
    if code not in workflow.MOVES:
        raise Http404
    try:  # who and state first, so a refused user is told why rather than asked to fill the form
        workflow.check_move(request.user, problem, code, reason=None)
    except ValidationError as exc:
        return _render_detail(request, problem, error=exc.messages, status=_status_of(exc))
    form = _move_form(code, problem, request.POST, request.FILES)
    if not form.is_valid():
        return _render_detail(request, problem, failed=(code, form), status=400)
    data = form.cleaned_data
    kwargs: dict = {}
    if code == "assign":
        kwargs = {
            "responsible": data.get("responsible"),
            "severity": data["severity"],
            "deadline_days": data.get("deadline_days"),
            "target_date": data.get("target_date"),
        }
    elif code == "submit":
        kwargs = {"cause": data["cause"], "measures": data["measures"], "after_photo": data.get("photo")}
    elif code == "approve":
        kwargs = {"note": data.get("note", "")}
    elif code in REASON_LABELS:
        kwargs = {"reason": data["reason"]}
    try:
        problem = services.problem_move(
            problem=problem, code=code, actor=request.user, request=request, **kwargs
        )
    except ValidationError as exc:
        if getattr(exc, "error_dict", None) and "photos" in exc.error_dict:
            exc = ValidationError({"photo": exc.error_dict["photos"]})
        add_service_errors(form, exc)
        problem.refresh_from_db()
        return _render_detail(request, problem, failed=(code, form), status=_status_of(exc))
    messages.success(request, f"问题 {problem.number} 已{workflow.MOVES[code].label}。")
    return redirect("ledger:detail", problem.pk)


@login_required
@require_POST
def photo(request, problem_id: int):
    problem = _visible(request, problem_id)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_detail(request, problem, failed=("photo", form), status=400)
    try:
        services.problem_add_photo(
            problem=problem,
            file=form.cleaned_data["photo"],
            purpose=form.cleaned_data["purpose"],
            actor=request.user,
            request=request,
        )
    except ValidationError as exc:
        add_service_errors(form, exc if _status_of(exc) == 403 else ValidationError({"photo": exc.messages}))
        return _render_detail(request, problem, failed=("photo", form), status=_status_of(exc))
    messages.success(request, "照片已上传。")
    return redirect("ledger:detail", problem.pk)


@login_required
@require_POST
def correct(request, problem_id: int):
    problem = _visible(request, problem_id)
    office = workflow.WHO["office"](request.user, problem)
    if not office and not workflow.WHO["school"](request.user, problem):
        return _render_detail(request, problem, error=[f"您不能更正问题 {problem.number}"], status=403)
    form = CorrectForm(request.POST, problem=problem, office=office)
    if not form.is_valid():
        return _render_detail(request, problem, failed=("correct", form), status=400)
    try:
        services.problem_correct(
            problem=problem,
            changes=form.changes(),
            reason=form.cleaned_data["reason"],
            actor=request.user,
            request=request,
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _render_detail(request, problem, failed=("correct", form), status=_status_of(exc))
    messages.success(request, f"问题 {problem.number} 已更正。")
    return redirect("ledger:detail", problem.pk)


@login_required
@require_POST
def milestone_done(request, milestone_id: int):
    milestone = get_object_or_404(
        Milestone.objects.select_related("problem"),
        pk=milestone_id,
        problem__in=selectors.visible_problems(request.user).values("pk"),
    )
    try:
        services.milestone_done(milestone=milestone, actor=request.user, request=request)
    except ValidationError as exc:
        problem = _visible(request, milestone.problem_id)
        return _render_detail(request, problem, error=exc.messages, status=_status_of(exc))
    messages.success(request, f"整改节点“{milestone.title}”已完成。")
    return redirect("ledger:detail", milestone.problem_id)


# --- recording a problem ----------------------------------------------------------------------------


def _record_schools(user) -> list[int]:
    """The schools where the user may record some problem (自查 is the widest source)."""
    return [
        s.pk
        for s in access.visible_schools(user).filter(is_active=True)
        if services.may_record(user, s, source=Source.SELF)
    ]


@login_required
def create(request):
    user = request.user
    school_ids = _record_schools(user)
    access.require(bool(school_ids))
    schools = Unit.objects.filter(pk__in=school_ids).order_by("path")
    bureau_recorder = any(access.reaches(user, s, services.RECORDER_ROLES) for s in schools)
    sources = set(Source.values) if bureau_recorder else {Source.SELF}
    edition = active_edition()
    standards = Standard.objects.filter(edition=edition) if edition else Standard.objects.none()
    form = CreateForm(
        request.POST or None,
        request.FILES or None,
        schools=schools,
        standards=standards,
        sources=sources,
        initial={"school": school_ids[0] if len(school_ids) == 1 else None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # Someone who may record but not assign (e.g. a department head) leaves the problem 待交办.
        probe = Problem(school=data["school"], source=data["source"], found_by=user)
        assign = workflow.WHO["assigner"](user, probe)
        try:
            with transaction.atomic():  # the problem and its photos, or nothing
                problem = services.problem_create(
                    school=data["school"],
                    description=data["description"],
                    actor=user,
                    standard=data.get("standard"),
                    location=data.get("location", ""),
                    source=data["source"],
                    severity=data["severity"],
                    deadline_days=data.get("deadline_days"),
                    target_date=data.get("target_date"),
                    responsible=data.get("responsible"),
                    assign=assign,
                    request=request,
                )
                for upload in data.get("photos") or []:
                    try:
                        services.problem_add_photo(
                            problem=problem,
                            file=upload,
                            purpose=EvidencePhoto.Purpose.FOUND,
                            actor=user,
                            request=request,
                        )
                    except ValidationError as exc:
                        raise ValidationError(
                            {"photos": [f"{upload.name}：{m}" for m in exc.messages]}
                        ) from exc
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if problem.status == Status.NEW:
                messages.success(request, f"已登记问题 {problem.number}，待交办。")
            else:
                messages.success(request, f"已登记并交办问题 {problem.number}。")
            return redirect("ledger:detail", problem.pk)
    return render(request, "ledger/create.html", {"form": form, "edition": edition})


# --- the office's rules -----------------------------------------------------------------------------


@login_required
def settings_edit(request):
    access.require(access.can_manage_campaigns(request.user))
    current = LedgerSettings.current()
    initial = {
        "default_days": current.default_days,
        "yellow_ratio": current.yellow_ratio,
        "yellow_min_hours": current.yellow_min_hours,
        "remind_daily": current.remind_daily,
    }
    form = SettingsForm(request.POST or None, initial=initial)
    ladder = LadderFormSet(
        request.POST or None,
        prefix="ladder",
        initial=[
            {
                "after": s.get("after"),
                "roles": s.get("roles", []),
                "label": s.get("label", ""),
                "bulletin": bool(s.get("bulletin")),
            }
            for s in (current.ladder or [])
        ],
    )
    if request.method == "POST":
        form_ok, ladder_ok = form.is_valid(), ladder.is_valid()
        if form_ok and ladder_ok:
            values = dict(form.cleaned_data)
            values["ladder"] = [s for s in (f.step() for f in ladder.forms) if s is not None]
            try:
                ledger_settings_save(values=values, actor=request.user, request=request)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "整改规则已保存。")
                return redirect("ledger:settings")
    today = timezone.localdate()
    warning = workdays.calendar_warning(today, today + dt.timedelta(days=365))
    return render(
        request,
        "ledger/settings.html",
        {
            "form": form,
            "ladder": ladder,
            "current": current,
            "calendar_warning": str(warning) if warning else "",
            "holiday_url": reverse("admin:core_holidayday_changelist"),
            "is_admin": access.is_system_admin(request.user),
        },
    )
