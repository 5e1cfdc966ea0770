"""The import wizard (choose, upload, preview, confirm) and the Excel exports.

Thin: form → imports → redirect.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from chuangwen.core import access

from . import imports, selectors
from .models import LARGE_CLASS_MIN, ImportBatch

KIND_HELP = {
    ImportBatch.Kind.SCHOOLS: "按学校代码新增或更新学校：名称、类型、性质、区县、地址、学生数、教职工数。",
    ImportBatch.Kind.CLASSES: "按“学校代码 + 年级 + 班级名”新增或更新班级：班主任和学生数。",
}
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\r\n\t]')


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportBatch.Kind.choices, widget=forms.HiddenInput)
    file = forms.FileField(
        label="Excel 文件（.xlsx）",
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": f".xlsx,{imports.XLSX_CONTENT_TYPE}"}
        ),
        error_messages={"required": "请选择要上传的 Excel 文件", "empty": "上传的文件是空的"},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        message = imports.check_size(upload.size or 0)
        if message:
            raise ValidationError(message)
        return upload


def _form(kind: str, data=None, files=None) -> ImportUploadForm:
    return ImportUploadForm(data, files, initial={"kind": kind}, auto_id=f"id_{kind}_%s")


def _own_batch(request, batch_id: int) -> ImportBatch:
    """The user's own batch (another user's is a 404), while they still may import its kind (else 403)."""
    batch = get_object_or_404(ImportBatch, pk=batch_id, uploaded_by=request.user)
    access.require(imports.can_import(request.user, batch.kind))
    return batch


def _xlsx_response(data: bytes, filename: str, fallback: str) -> HttpResponse:
    response = HttpResponse(data, content_type=imports.XLSX_CONTENT_TYPE)
    name = _UNSAFE_FILENAME.sub("_", filename)
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


@login_required
def import_start(request):
    kinds = imports.importable_kinds(request.user)
    access.require(bool(kinds))
    forms_by_kind = {kind: _form(kind) for kind in kinds}
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        access.require(kind in kinds)
        form = forms_by_kind[kind] = _form(kind, request.POST, request.FILES)
        if form.is_valid():
            try:
                batch = imports.import_batch_create(
                    kind=kind, upload=form.cleaned_data["file"], actor=request.user
                )
            except ValidationError as exc:
                form.add_error("file", exc.messages)
            else:
                return redirect("org:import_preview", batch.pk)
    # School users are told which schools their class files may name; the bureau may name any.
    class_schools = []
    if not access.can_manage_units(request.user):
        schools = access.class_import_schools(request.user).order_by("path")
        class_schools = list(schools.values_list("name", flat=True)[:4])
    cards = [
        {
            "kind": kind,
            "label": ImportBatch.Kind(kind).label,
            "form": forms_by_kind[kind],
            "help": KIND_HELP[kind],
            "template_url": reverse("org:import_template", args=[kind]),
        }
        for kind in kinds
    ]
    return render(
        request,
        "org/import_start.html",
        {
            "cards": cards,
            "class_schools": class_schools,
            "max_size": f"{settings.IMPORT_MAX_BYTES // (1024 * 1024)} MB",
            "max_rows": settings.IMPORT_MAX_ROWS,
            "batches": ImportBatch.objects.filter(uploaded_by=request.user)[:10],
        },
    )


@login_required
def import_preview(request, batch_id: int):
    batch = _own_batch(request, batch_id)
    summary = batch.summary or {}
    tiles = []
    if summary.get("total"):
        tiles = [
            {"value": summary["create"], "label": "新增", "css": "text-success"},
            {"value": summary["update"], "label": "更新", "css": "text-primary"},
            {"value": summary["unchanged"], "label": "无变化"},
            {"value": summary["total"], "label": "通过校验" if batch.errors else "合计"},
        ]
    return render(
        request,
        "org/import_preview.html",
        {
            "batch": batch,
            "summary": summary,
            "tiles": tiles,
            "apply_label": f"确认导入（新增 {summary.get('create', 0)}，更新 {summary.get('update', 0)}）",
        },
    )


@login_required
@require_POST
def import_apply(request, batch_id: int):
    batch = _own_batch(request, batch_id)
    try:
        result = imports.import_batch_apply(batch=batch, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("org:import_preview", batch.pk)
    if not result.ok:
        messages.error(
            request,
            f"导入未完成：预览之后数据有变化，重新校验发现 {result.error_count} 个问题，"
            "没有写入任何数据。请修改后重新上传。",
        )
        return redirect("org:import_preview", batch.pk)
    counts = result.counts
    messages.success(
        request,
        f"导入完成：新增 {counts['create']} 条，更新 {counts['update']} 条，"
        f"无变化 {counts['unchanged']} 条。",
    )
    if batch.kind == ImportBatch.Kind.SCHOOLS:
        return redirect(reverse("org:unit_list") + "?kind=school")
    return redirect("org:class_list")


@login_required
@require_POST
def import_discard(request, batch_id: int):
    batch = _own_batch(request, batch_id)
    try:
        imports.import_batch_discard(batch=batch, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("org:import_preview", batch.pk)
    messages.info(request, "已作废该批次，可以重新上传。")
    return redirect("org:import_start")


@login_required
def import_template(request, kind: str):
    if kind not in ImportBatch.Kind.values:
        raise Http404
    access.require(imports.can_import(request.user, kind))
    if kind == ImportBatch.Kind.SCHOOLS:
        districts = [
            d.name for d in selectors.districts_for(request.user) if access.can_change_unit(request.user, d)
        ]
        return _xlsx_response(
            imports.school_template(districts=districts), "学校导入模板.xlsx", "school-import-template.xlsx"
        )
    schools = access.class_import_schools(request.user).order_by("path").values_list("code", "name")
    return _xlsx_response(
        imports.class_template(schools=schools), "班级导入模板.xlsx", "class-import-template.xlsx"
    )


@login_required
def school_export(request):
    filters = {key: request.GET.get(key, "").strip() for key in ("q", "school_type", "district", "ownership")}
    schools = selectors.school_list(user=request.user, **filters)
    data = imports.export_schools(schools, actor=request.user, request=request, filters=filters)
    today = timezone.localdate().strftime("%Y%m%d")
    return _xlsx_response(data, f"学校名单_{today}.xlsx", f"schools-{today}.xlsx")


@login_required
def class_export(request):
    school = None
    school_id = request.GET.get("school", "").strip()
    if school_id:
        if not school_id.isdigit():
            raise Http404
        school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    classes = selectors.class_list(user=request.user, school=school)
    # The class list page's own filters, so that the export matches what the page shows.
    size = request.GET.get("size", "")
    if size == "large":
        classes = classes.filter(student_count__gte=LARGE_CLASS_MIN)
    q = request.GET.get("q", "").strip()
    if q:
        classes = classes.filter(school__name__icontains=q)
    filters = {"school": school_id, "size": size, "q": q}
    data = imports.export_classes(classes, actor=request.user, request=request, filters=filters)
    today = timezone.localdate().strftime("%Y%m%d")
    prefix = f"{school.name}_" if school is not None else ""
    return _xlsx_response(data, f"{prefix}班级名单_{today}.xlsx", f"classes-{today}.xlsx")
