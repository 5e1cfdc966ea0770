"""Pages of responsibility and work plans. Thin: form → service → redirect."""

from __future__ import annotations

import re
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from chuangwen.core import access
from chuangwen.core.forms import add_service_errors
from chuangwen.index.models import Standard
from chuangwen.org.imports.workbook import XLSX_CONTENT_TYPE
from chuangwen.org.models import Membership, Unit
from chuangwen.org.selectors import districts_for

from . import exports, imports, permissions, selectors, services
from .forms import AssignForm, BureauForm, HandoverForm, RuleForm, TaskForm, UploadForm
from .models import AssignmentUpload, BureauAssignment, Task

UNOWNED_SHOWN = 100
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\r\n\t]')
_CELL_CHARS = {selectors.OWNED: "■", selectors.UNOWNED: "□", selectors.NOT_APPLICABLE: "·"}


def _download(data: bytes, content_type: str, filename: str, fallback: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    name = _UNSAFE_FILENAME.sub("_", filename)
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


def _edition(request):
    return selectors.current_edition(request.GET.get("edition") or request.POST.get("edition"))


def _with_edition(url: str, edition) -> str:
    return f"{url}?edition={edition.pk}" if edition is not None else url


def _strip(cells: list[str], breaks: set[int]) -> str:
    """A school's row of the matrix as compact HTML: owned cells are bare text (the row's colour),
    runs of unowned cells sit in one <b>, not-applicable runs in one <i>, and a space separates the
    测评项目. Only fixed characters go in, so the result is safe to mark."""
    parts, run, state = [], [], None
    for index, cell in enumerate(cells):
        if index in breaks or cell != state:
            parts.append(_run(state, run))
            if index in breaks:
                parts.append(" ")
            run, state = [], cell
        run.append(_CELL_CHARS[cell])
    parts.append(_run(state, run))
    return mark_safe("".join(parts))  # noqa: S308 (fixed characters only)


def _run(state, run: list[str]) -> str:
    text = "".join(run)
    if not text or state == selectors.OWNED:
        return text
    tag = "b" if state == selectors.UNOWNED else "i"
    return f"<{tag}>{text}</{tag}>"


# --- coverage ----------------------------------------------------------------------------------------


@login_required
def coverage(request):
    edition = _edition(request)
    school_type = request.GET.get("school_type", "")
    district = request.GET.get("district", "")
    context = {
        "edition": edition,
        "editions": selectors.editions_in_use(),
        "school_types": Unit.SchoolType.choices,
        "districts": districts_for(request.user),
        "filters": {"school_type": school_type, "district": district},
        "can_assign_bureau": permissions.can_assign_bureau(request.user),
    }
    if edition is not None:
        matrix = selectors.coverage(
            user=request.user, edition=edition, school_type=school_type, district=district
        )
        breaks = {
            i for i, s in enumerate(matrix.standards) if i and s.project != matrix.standards[i - 1].project
        }
        for row in matrix.schools:
            row.strip = _strip(row.cells, breaks)
        projects = []
        for s in matrix.standards:
            if not projects or projects[-1]["name"] != s.project:
                projects.append({"name": s.project, "count": 0})
            projects[-1]["count"] += 1
        assignable = None  # None: every school
        if not context["can_assign_bureau"]:
            assignable = set(
                access.filter_by_reach(
                    Unit.objects.filter(kind=Unit.Kind.SCHOOL),
                    request.user,
                    path_field="path",
                    roles=frozenset(permissions.SCHOOL_ASSIGNERS),
                ).values_list("pk", flat=True)
            )
        context.update(
            matrix=matrix,
            projects=projects,
            unowned=matrix.unowned[:UNOWNED_SHOWN],
            unowned_more=max(0, len(matrix.unowned) - UNOWNED_SHOWN),
            standards_by_gap=sorted(matrix.standards, key=lambda s: (-s.unowned, s.code))[:100],
            assignable=assignable,
        )
    return render(request, "duty/coverage.html", context)


# --- assignment --------------------------------------------------------------------------------------


@login_required
def school_assign(request, school_id: int):
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    access.require(permissions.can_assign_at(request.user, school))
    edition = _edition(request)
    people = selectors.school_people(school)
    rows = selectors.school_assignments(user=request.user, school=school, edition=edition) if edition else []
    applicable = Standard.objects.filter(pk__in=[r["standard"].pk for r in rows]).order_by("position", "pk")
    initial = {}
    if request.GET.get("standard", "").isdigit():
        initial["standard"] = int(request.GET["standard"])
    form = AssignForm(request.POST or None, standards=applicable, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.assignment_set(
                school=school,
                standard=form.cleaned_data["standard"],
                owner=form.cleaned_data["owner"],
                leader=form.cleaned_data["leader"],
                actor=request.user,
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已为标准 {form.cleaned_data['standard'].code} 指定责任人。")
            return redirect(_with_edition(reverse("duty:school_assign", args=[school.pk]), edition))
    owned = sum(1 for r in rows if r["assignment"])
    return render(
        request,
        "duty/school_assign.html",
        {"school": school, "edition": edition, "rows": rows, "form": form, "owned": owned},
    )


@login_required
def rule_assign(request):
    access.require(permissions.can_assign_bureau(request.user))
    edition = _edition(request)
    form = RuleForm(request.POST or None, edition=edition) if edition else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.assign_by_rule(
                edition=edition,
                group=data["group"],
                school_type=data["school_type"],
                owner_role=data["owner_role"],
                leader_role=data["leader_role"],
                mode=data["mode"],
                actor=request.user,
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            text = (
                f"按规则分工完成：适用 {result.applicable} 项，新增 {result.created} 项，"
                f"更新 {result.updated} 项，保持不变 {result.unchanged} 项。"
            )
            if result.skipped:
                names = "、".join(result.schools_without_owner[:5])
                more = "等" if len(result.schools_without_owner) > 5 else ""
                text += (
                    f"另有 {result.skipped} 项未分配：{len(result.schools_without_owner)} 所学校"
                    f"（{names}{more}）没有登记该角色的人员。"
                )
            if result.schools_without_leader:
                text += f" {len(result.schools_without_leader)} 所学校没有登记分管领导角色，分管领导留空。"
            (messages.warning if result.skipped else messages.success)(request, text)
            return redirect(_with_edition(reverse("duty:coverage"), edition))
    return render(
        request,
        "duty/rule_form.html",
        {"edition": edition, "editions": selectors.editions_in_use(), "form": form},
    )


@login_required
def bureau_assign(request):
    access.require(permissions.can_assign_bureau(request.user))
    edition = _edition(request)
    standards = (
        Standard.objects.filter(edition=edition).order_by("position", "pk")
        if edition
        else Standard.objects.none()
    )
    initial = {"standard": int(request.GET["standard"])} if request.GET.get("standard", "").isdigit() else {}
    form = BureauForm(request.POST or None, standards=standards, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.bureau_assignment_set(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已保存标准 {form.cleaned_data['standard'].code} 的局级责任。")
            return redirect(_with_edition(reverse("duty:bureau_assign"), edition))
    assigned = (
        {
            b.standard_id: b
            for b in BureauAssignment.objects.filter(standard__edition=edition).select_related(
                "department", "person"
            )
        }
        if edition
        else {}
    )
    rows = [
        {"standard": s, "assignment": assigned.get(s.pk)} for s in standards.select_related("lead_department")
    ]
    return render(
        request,
        "duty/bureau_assign.html",
        {"edition": edition, "editions": selectors.editions_in_use(), "form": form, "rows": rows},
    )


# --- Excel -------------------------------------------------------------------------------------------


@login_required
def import_start(request):
    access.require(permissions.can_assign_bureau(request.user))
    edition = _edition(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if edition is not None and request.method == "POST" and form.is_valid():
        try:
            batch = imports.upload_create(
                edition=edition, upload=form.cleaned_data["file"], actor=request.user
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            return redirect("duty:import_preview", batch.pk)
    return render(
        request,
        "duty/import_start.html",
        {
            "edition": edition,
            "editions": selectors.editions_in_use(),
            "form": form,
            "batches": AssignmentUpload.objects.filter(uploaded_by=request.user).select_related("edition")[
                :10
            ],
        },
    )


def _own_upload(request, upload_id: int) -> AssignmentUpload:
    access.require(permissions.can_assign_bureau(request.user))
    return get_object_or_404(
        AssignmentUpload.objects.select_related("edition"), pk=upload_id, uploaded_by=request.user
    )


@login_required
def import_preview(request, upload_id: int):
    batch = _own_upload(request, upload_id)
    counts = (batch.summary or {}).get("counts", {})
    tiles = []
    if counts.get("total"):
        tiles = [
            {"value": counts["新增"], "label": "新增", "css": "text-success"},
            {"value": counts["更新"], "label": "更新", "css": "text-primary"},
            {"value": counts["无变化"], "label": "无变化"},
            {"value": counts["total"], "label": "通过校验" if batch.errors else "合计"},
        ]
    return render(
        request,
        "duty/import_preview.html",
        {
            "batch": batch,
            "summary": batch.summary or {},
            "tiles": tiles,
            "apply_label": f"确认导入（新增 {counts.get('新增', 0)}，更新 {counts.get('更新', 0)}）",
            "upload_url": _with_edition(reverse("duty:import_start"), batch.edition),
        },
    )


@login_required
@require_POST
def import_apply(request, upload_id: int):
    batch = _own_upload(request, upload_id)
    try:
        result = imports.upload_apply(batch=batch, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("duty:import_preview", batch.pk)
    if not result.ok:
        messages.error(request, f"导入未完成：重新校验发现 {len(result.errors)} 个问题，没有写入任何数据。")
        return redirect("duty:import_preview", batch.pk)
    counts = result.counts()
    messages.success(
        request,
        f"导入完成：新增 {counts['新增']} 项，更新 {counts['更新']} 项，无变化 {counts['无变化']} 项。",
    )
    return redirect(_with_edition(reverse("duty:coverage"), batch.edition))


@login_required
def import_template(request):
    access.require(permissions.can_assign_bureau(request.user))
    return _download(
        imports.template(_edition(request)), XLSX_CONTENT_TYPE, "责任分工导入模板.xlsx", "duty-template.xlsx"
    )


# --- handover ----------------------------------------------------------------------------------------


def _handover_people(user):
    schools = permissions.handover_schools(user)
    units = Membership.objects.filter(unit__in=schools)
    if permissions.can_assign_bureau(user):
        units = Membership.objects.all()
    return get_user_model().objects.filter(pk__in=units.values("user_id")).order_by("name", "username")


@login_required
def handover(request):
    access.require(permissions.can_hand_over(request.user))
    people = _handover_people(request.user)
    initial = {"person": int(request.GET["person"])} if request.GET.get("person", "").isdigit() else {}
    form = HandoverForm(request.POST or None, people=people, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.handover(
                person=data["person"],
                successor=data["successor"],
                reason=data["reason"],
                actor=request.user,
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"已将“{data['person']}”的 {result.total} 项责任移交给“{data['successor']}”："
                f"学校责任人 {result.owner} 项，分管领导 {result.leader} 项，局级责任 {result.bureau} 项，"
                f"未完成任务 {result.tasks} 项。",
            )
            return redirect("duty:handover")
    elif initial:
        person = people.filter(pk=initial["person"]).first()
        if person is not None:
            preview = {
                "person": person,
                "counts": services.handover_counts(person=person, actor=request.user),
            }
    return render(request, "duty/handover.html", {"form": form, "preview": preview, "people": people})


# --- work plans --------------------------------------------------------------------------------------


def _plan_school(request, school_id: int) -> Unit:
    return get_object_or_404(access.visible_schools(request.user), pk=school_id)


@login_required
def plan(request, school_id: int):
    school = _plan_school(request, school_id)
    edition = _edition(request)
    entries = selectors.school_plan(user=request.user, school=school, edition=edition)
    counts = {"total": 0, "done": 0, "overdue": 0}
    for entry in entries:
        for task in entry["tasks"]:
            counts["total"] += 1
            counts["done"] += task.is_done
            counts["overdue"] += task.overdue
    return render(
        request,
        "duty/plan.html",
        {
            "school": school,
            "edition": edition,
            "entries": entries,
            "counts": counts,
            "can_plan": permissions.can_plan_at(request.user, school),
            "user_id": request.user.pk,
        },
    )


def _task_form(request, school: Unit, edition, *, initial=None):
    rows = selectors.school_assignments(user=request.user, school=school, edition=edition) if edition else []
    standards = Standard.objects.filter(pk__in=[r["standard"].pk for r in rows]).order_by("position", "pk")
    return TaskForm(
        request.POST or None, standards=standards, people=selectors.school_people(school), initial=initial
    )


@login_required
def task_create(request, school_id: int):
    school = _plan_school(request, school_id)
    access.require(permissions.can_plan_at(request.user, school))
    edition = _edition(request)
    initial = {"status": Task.Status.TODO}
    if request.GET.get("standard", "").isdigit():
        initial["standard"] = int(request.GET["standard"])
    form = _task_form(request, school, edition, initial=initial)
    form.fields.pop("status")
    if request.method == "POST" and form.is_valid():
        try:
            services.task_create(school=school, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "任务已添加。")
            return redirect(_with_edition(reverse("duty:plan", args=[school.pk]), edition))
    return render(
        request,
        "duty/task_form.html",
        {"form": form, "school": school, "edition": edition, "title": "添加任务"},
    )


@login_required
def task_edit(request, task_id: int):
    task = get_object_or_404(selectors.task_list(user=request.user), pk=task_id)
    access.require(permissions.can_update_task(request.user, task))
    edition = task.standard.edition
    planner = permissions.can_plan_at(request.user, task.school)
    form = _task_form(
        request,
        task.school,
        edition,
        initial={
            "standard": task.standard_id,
            "title": task.title,
            "assignee": task.assignee_id,
            "due_date": task.due_date,
            "status": task.status,
            "progress_note": task.progress_note,
        },
    )
    form.fields.pop("standard")
    if not planner:  # the assignee reports status and progress only
        for name in ("title", "assignee", "due_date"):
            form.fields.pop(name)
    if request.method == "POST" and form.is_valid():
        try:
            services.task_update(task=task, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "任务已保存。")
            return redirect(_with_edition(reverse("duty:plan", args=[task.school_id]), edition))
    return render(
        request,
        "duty/task_form.html",
        {
            "form": form,
            "school": task.school,
            "edition": edition,
            "task": task,
            "title": f"编辑任务：{task.title}",
        },
    )


def _plan_export(request, school_id: int):
    school = _plan_school(request, school_id)
    edition = _edition(request)
    entries = selectors.school_plan(user=request.user, school=school, edition=edition)
    return school, entries


@login_required
def plan_xlsx(request, school_id: int):
    school, entries = _plan_export(request, school_id)
    data = exports.plan_xlsx(school=school, plan=entries, actor=request.user, request=request)
    today = timezone.localdate().strftime("%Y%m%d")
    return _download(
        data, XLSX_CONTENT_TYPE, f"{exports.title_for(school)}_{today}.xlsx", f"plan-{today}.xlsx"
    )


@login_required
def plan_docx(request, school_id: int):
    school, entries = _plan_export(request, school_id)
    data = exports.plan_docx(school=school, plan=entries, actor=request.user, request=request)
    today = timezone.localdate().strftime("%Y%m%d")
    return _download(
        data, exports.DOCX_CONTENT_TYPE, f"{exports.title_for(school)}_{today}.docx", f"plan-{today}.docx"
    )
