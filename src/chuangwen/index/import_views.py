"""The index import wizard (upload → preview → confirm), the template and the edition downloads.

Thin: form → imports → redirect. Only 系统管理员 and 创文办 (`access.can_manage_index`).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from chuangwen.core import access
from chuangwen.core.staging_services import check_size
from chuangwen.org.imports import XLSX_CONTENT_TYPE

from . import imports
from .models import Edition, IndexImportBatch

_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\r\n\t]')


class IndexUploadForm(forms.Form):
    fmt = forms.ChoiceField(
        label="文件格式",
        choices=[("xlsx", "Excel（.xlsx，任务分解表格式）"), ("yaml", "YAML（.yaml / .yml，系统导出格式）")],
        initial="xlsx",
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label="文件",
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx,.yaml,.yml"}),
        error_messages={"required": "请选择要上传的文件", "empty": "上传的文件是空的"},
    )
    name = forms.CharField(
        label="新版本名称",
        max_length=200,
        required=False,
        help_text="如：全国文明城市测评体系（教育系统任务分解）2026版。YAML 文件可留空，使用文件中的名称",
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    code = forms.CharField(
        label="新版本代码",
        max_length=60,
        required=False,
        help_text="字母、数字和连字符，如 city-2026。YAML 文件可留空",
        widget=forms.TextInput(attrs={"class": "form-control", "autocapitalize": "off"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        message = check_size(upload.size or 0)
        if message:
            raise ValidationError(message)
        return upload

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        fmt = data.get("fmt")
        if upload is not None and fmt:
            detected = imports.format_of(upload.name or "")
            if detected is not None and detected != fmt:
                self.add_error(
                    "file", f"文件扩展名与所选格式不符：请选择 {'Excel' if detected == 'xlsx' else 'YAML'}"
                )
        if fmt == "xlsx" and not (data.get("name") and data.get("code")):
            self.add_error("code" if data.get("name") else "name", "导入 Excel 时请填写新版本的名称和代码")
        return data


def _own_batch(request, batch_id: int) -> IndexImportBatch:
    access.require(access.can_manage_index(request.user))
    return get_object_or_404(IndexImportBatch, pk=batch_id, uploaded_by=request.user)


def _download(data: bytes, content_type: str, filename: str, fallback: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    name = _UNSAFE_FILENAME.sub("_", filename)
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


@login_required
def import_start(request):
    access.require(access.can_manage_index(request.user))
    form = IndexUploadForm()
    if request.method == "POST":
        form = IndexUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                batch = imports.index_import_batch_create(
                    fmt=form.cleaned_data["fmt"],
                    upload=form.cleaned_data["file"],
                    name=form.cleaned_data["name"].strip(),
                    code=form.cleaned_data["code"].strip(),
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error("file", exc.messages)
            else:
                return redirect("index:import_preview", batch.pk)
    return render(
        request,
        "index/import_start.html",
        {
            "form": form,
            "max_size": f"{settings.IMPORT_MAX_BYTES // (1024 * 1024)} MB",
            "max_rows": imports.tree.max_rows(),
            "batches": IndexImportBatch.objects.filter(uploaded_by=request.user)[:10],
        },
    )


@login_required
def import_preview(request, batch_id: int):
    batch = _own_batch(request, batch_id)
    summary = batch.summary or {}
    tiles = []
    if summary.get("standards"):
        items = summary.get("items")
        contents_label = "测评内容 / 子项" if items else "测评内容"
        tiles = [
            {"value": summary["projects"], "label": "测评项目"},
            {"value": summary["contents"], "extra": items, "label": contents_label},
            {"value": summary["standards"], "label": "测评标准", "css": "text-primary"},
            {"value": summary["total_points"], "label": "总分"},
        ]
    return render(
        request,
        "index/import_preview.html",
        {"batch": batch, "summary": summary, "tiles": tiles, "apply_label": "确认导入为草稿版本"},
    )


@login_required
@require_POST
def import_apply(request, batch_id: int):
    batch = _own_batch(request, batch_id)
    try:
        result = imports.index_import_batch_apply(batch=batch, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("index:import_preview", batch.pk)
    if result.edition is None:
        messages.error(
            request,
            f"导入未完成：重新校验发现 {result.error_count} 个问题，没有写入任何数据。请修改后重新上传。",
        )
        return redirect("index:import_preview", batch.pk)
    counts = result.counts()
    messages.success(
        request,
        f"已导入草稿版本“{result.edition.name}”："
        f"测评标准 {counts['standards']} 条，总分 {counts['total_points']} 分。",
    )
    return redirect("index:edition_detail", result.edition.pk)


@login_required
@require_POST
def import_discard(request, batch_id: int):
    batch = _own_batch(request, batch_id)
    try:
        imports.index_import_batch_discard(batch=batch, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("index:import_preview", batch.pk)
    messages.info(request, "已作废该批次，可以重新上传。")
    return redirect("index:import_start")


@login_required
def import_template(request):
    access.require(access.can_manage_index(request.user))
    return _download(
        imports.template_bytes(), XLSX_CONTENT_TYPE, "测评体系导入模板.xlsx", "index-template.xlsx"
    )


@login_required
def edition_export(request, edition_id: int, fmt: str):
    access.require(access.can_manage_index(request.user))
    edition = get_object_or_404(Edition, pk=edition_id)
    if fmt == "yaml":
        text = imports.export_yaml(edition, actor=request.user, request=request)
        return _download(
            text.encode("utf-8"), imports.YAML_CONTENT_TYPE, f"{edition.name}.yaml", f"{edition.code}.yaml"
        )
    data = imports.export_xlsx(edition, actor=request.user, request=request)
    return _download(data, XLSX_CONTENT_TYPE, f"{edition.name}.xlsx", f"{edition.code}.xlsx")
