"""Pages. Thin: form → service → redirect; reads through the selectors.

The inspection page is made for a phone: each standard is a card whose form saves the moment an answer is
given (htmx posts it and swaps in the card the server renders). Without JavaScript the same forms post
normally and come back to the card's anchor.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from chuangwen.campaigns.selectors import visible_rounds
from chuangwen.core import access
from chuangwen.core.forms import add_service_errors
from chuangwen.index.models import Standard
from chuangwen.org.models import Unit

from . import scoring, selectors, services
from .forms import AnswerForm, CorrectForm, PhotoForm, ProblemForm, SubmitForm
from .models import Answer, Inspection


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _inspection(request, pk: int) -> Inspection:
    qs = selectors.visible_inspections(request.user).select_related(
        "round", "round__campaign", "school", "started_by", "submitted_by"
    )
    return get_object_or_404(qs, pk=pk)


def _standard(inspection: Inspection, standard_id: int) -> Standard:
    standard = get_object_or_404(
        Standard.objects.select_related("group"),
        pk=standard_id,
        edition_id=inspection.round.campaign.edition_id,
    )
    if not standard.applies_to(inspection.school.school_type):
        raise Http404
    return standard


def _anchor(inspection: Inspection, standard: Standard | None = None) -> str:
    url = reverse("inspections:detail", args=[inspection.pk])
    return f"{url}#s{standard.pk}" if standard is not None else url


def _errors(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _form_errors(form) -> str:
    return "；".join(str(e) for errors in form.errors.values() for e in errors)


def _may_edit(user, inspection: Inspection) -> bool:
    return not inspection.is_submitted and services.may_inspect(user, inspection.round, inspection.school)


def _card_response(
    request, inspection: Inspection, standard: Standard, *, error="", saved=False, posted=None
):
    """The card as the server now sees it (htmx), with the saved mark or the error, and the progress."""
    inspection.refresh_from_db(fields=["status"])  # a colleague may have submitted it meanwhile
    card = selectors.card_for(inspection, standard)
    return render(
        request,
        "inspections/_card_response.html",
        {
            "inspection": inspection,
            "card": card,
            "can_edit": _may_edit(request.user, inspection),
            "error": error,
            "saved_at": timezone.localtime() if saved else None,
            "posted": posted or {},
            "progress": selectors.progress(inspection),
        },
    )


def _done(request, inspection, standard, *, error: str = "", ok: str = "", posted=None, warning: str = ""):
    """Answer an htmx post with the card; a plain post with a message and a redirect to the card."""
    if _is_htmx(request):
        return _card_response(request, inspection, standard, error=error, saved=not error, posted=posted)
    if error:
        messages.error(request, f"{standard.code}：{error}")
    elif ok:
        messages.success(request, ok)
    if warning:
        messages.warning(request, warning)
    return redirect(_anchor(inspection, standard))


@login_required
def inspection_list(request):
    round_id = request.GET.get("round", "")
    round_id = int(round_id) if round_id.isdigit() else None
    page = Paginator(selectors.inspection_list(user=request.user, round_id=round_id), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "inspections/list.html",
        {
            "page": page,
            "rounds": selectors.filter_rounds(request.user),
            "round_id": round_id,
            "tasks": selectors.my_tasks(request.user),
        },
    )


@login_required
@require_POST
def inspection_start(request, round_id: int, school_id: int):
    round_ = get_object_or_404(visible_rounds(request.user).select_related("campaign"), pk=round_id)
    school = get_object_or_404(Unit, pk=school_id, kind=Unit.Kind.SCHOOL, round_entries__round=round_)
    access.require(services.may_inspect(request.user, round_, school))
    try:
        inspection = services.inspection_start(
            round_=round_, school=school, actor=request.user, request=request
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("campaigns:round_detail", round_.pk)
    return redirect("inspections:detail", inspection.pk)


@login_required
def inspection_detail(request, pk: int):
    inspection = _inspection(request, pk)
    sections, cards = selectors.sections(inspection)
    progress = selectors.progress(inspection, cards)
    can_correct = inspection.is_submitted and access.reaches(
        request.user, inspection.school, services.OFFICE_ROLES
    )
    problems = []
    if inspection.is_submitted:
        problems = [p for c in cards for p in c.problems]
    return render(
        request,
        "inspections/detail.html",
        {
            "inspection": inspection,
            "sections": sections,
            "progress": progress,
            "can_edit": _may_edit(request.user, inspection),
            "can_correct": can_correct,
            "submit_form": SubmitForm(),
            "lost_cards": [c for c in cards if c.answer is not None and c.answer.lost],
            "unchecked": [c for c in cards if c.answer is None],
            "problems": problems,
            "corrections": selectors.corrections(inspection) if inspection.is_submitted else [],
        },
    )


@login_required
@require_POST
def answer_save(request, pk: int, standard_id: int):
    inspection = _inspection(request, pk)
    standard = _standard(inspection, standard_id)
    access.require(services.may_inspect(request.user, inspection.round, inspection.school))
    form = AnswerForm(request.POST)
    posted = {"note": request.POST.get("note", ""), "occurrences": request.POST.get("occurrences", "")}
    if not form.is_valid():
        return _done(request, inspection, standard, error=_form_errors(form), posted=posted)
    deduction = not scoring.results_for(standard)
    values = form.values(deduction=deduction)
    if not deduction and not values["result"]:
        return _done(
            request, inspection, standard, error="请先选择评分结果，说明会随结果一起保存", posted=posted
        )
    try:
        answer = services.answer_save(
            inspection=inspection,
            standard=standard,
            **values,
            actor=request.user,
            expected_revision=form.cleaned_data.get("revision"),
            request=request,
        )
    except ValidationError as exc:
        return _done(request, inspection, standard, error=_errors(exc), posted=posted)
    outcome = answer.result or f"{answer.occurrences} 次"
    return _done(request, inspection, standard, ok=f"{standard.code} 已保存：{outcome}")


@login_required
@require_POST
def answer_photo(request, pk: int, standard_id: int):
    inspection = _inspection(request, pk)
    standard = _standard(inspection, standard_id)
    access.require(services.may_inspect(request.user, inspection.round, inspection.school))
    answer = (
        Answer.objects.filter(inspection=inspection, standard=standard).select_related("standard").first()
    )
    if answer is None:
        return _done(request, inspection, standard, error="请先给出本项的评分结果，再拍照上传")
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _done(request, inspection, standard, error=_form_errors(form))
    answer.inspection = inspection
    try:
        photo = services.answer_add_photo(
            answer=answer, file=form.cleaned_data["photo"], actor=request.user, request=request
        )
    except ValidationError as exc:
        return _done(request, inspection, standard, error=f"照片未保存：{_errors(exc)}")
    from chuangwen.core.evidence.selectors import REUSE_MESSAGE, find_reuse

    warning = REUSE_MESSAGE if find_reuse(photo) else ""
    if warning and _is_htmx(request):
        return _card_response(request, inspection, standard, error=f"照片已保存，但{warning}", saved=False)
    return _done(request, inspection, standard, ok=f"{standard.code} 的照片已上传", warning=warning)


@login_required
@require_POST
def answer_problem(request, pk: int, standard_id: int):
    from chuangwen.ledger.models import Problem, Status
    from chuangwen.ledger.services import problem_create

    inspection = _inspection(request, pk)
    standard = _standard(inspection, standard_id)
    access.require(services.may_inspect(request.user, inspection.round, inspection.school))
    answer = (
        Answer.objects.filter(inspection=inspection, standard=standard).select_related("standard").first()
    )
    if answer is None or not answer.lost:
        return _done(request, inspection, standard, error="本项没有失分，不需要登记问题")
    existing = Problem.objects.filter(answer=answer).exclude(status=Status.VOID).first()
    if existing is not None:
        return _done(request, inspection, standard, error=f"本项已登记问题 {existing.number}，不要重复登记")
    data = request.POST.copy()
    data.setdefault("description", selectors.card_for(inspection, standard).problem_text)
    data.setdefault("severity", "immediate")
    form = ProblemForm(data)
    posted = {"problem": data}  # shown again in the open form, so nothing typed is lost
    if not form.is_valid():
        return _done(request, inspection, standard, error=_form_errors(form), posted=posted)
    d = form.cleaned_data
    try:
        problem = problem_create(
            school=inspection.school,
            inspection=inspection,
            answer=answer,
            description=d["description"],
            location=d["location"],
            severity=d["severity"],
            deadline_days=d["deadline_days"],
            target_date=d["target_date"],
            actor=request.user,
            request=request,
        )
    except ValidationError as exc:
        return _done(request, inspection, standard, error=f"问题未登记：{_errors(exc)}", posted=posted)
    return _done(request, inspection, standard, ok=f"已登记问题 {problem.number}")


@login_required
@require_POST
def inspection_submit(request, pk: int):
    inspection = _inspection(request, pk)
    access.require(services.may_inspect(request.user, inspection.round, inspection.school))
    form = SubmitForm(request.POST)
    form.is_valid()
    try:
        inspection = services.inspection_submit(
            inspection=inspection,
            actor=request.user,
            partial=form.cleaned_data.get("partial", False),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect(reverse("inspections:detail", args=[inspection.pk]) + "#submit")
    text = f"检查已提交：{inspection.score} 分"
    if inspection.vetoed:
        text += f"（{inspection.veto_reason}，一票否决）"
    messages.success(request, text)
    return redirect("inspections:detail", inspection.pk)


@login_required
def answer_correct(request, pk: int, standard_id: int):
    inspection = _inspection(request, pk)
    standard = _standard(inspection, standard_id)
    access.require(access.reaches(request.user, inspection.school, services.OFFICE_ROLES))
    if not inspection.is_submitted:
        messages.error(request, "检查尚未提交，请直接在检查页修改评分")
        return redirect(_anchor(inspection, standard))
    answer = (
        Answer.objects.filter(inspection=inspection, standard=standard).select_related("standard").first()
    )
    if answer is None:
        messages.error(request, f"{standard.code} 在提交时未检查（部分检查），没有可更正的评分")
        return redirect(_anchor(inspection, standard))
    initial = {"result": answer.result, "occurrences": answer.occurrences, "note": answer.note}
    form = CorrectForm(request.POST or None, standard=standard, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.answer_correct(
                answer=answer,
                result=d["result"],
                occurrences=d["occurrences"],
                note=d["note"],
                reason=d["reason"],
                actor=request.user,
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            inspection.refresh_from_db()
            messages.success(request, f"{standard.code} 已更正，现得分 {inspection.score} 分")
            return redirect(_anchor(inspection, standard))
    return render(
        request,
        "inspections/correct.html",
        {"inspection": inspection, "standard": standard, "answer": answer, "form": form},
    )
