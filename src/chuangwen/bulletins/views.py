"""Pages of bulletins. Thin: form → service → redirect; reads through the selectors."""

from __future__ import annotations

import base64
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from chuangwen.core import access
from chuangwen.core.forms import add_service_errors

from . import charts, outline, output, schedule, selectors, services
from .forms import CreateForm, EditForm, ScheduleForm, SettingsForm
from .models import Bulletin, BulletinSchedule, BulletinSettings


def _visible(request, bulletin_id: int) -> Bulletin:
    return get_object_or_404(
        selectors.visible_bulletins(request.user).select_related(
            "campaign", "round", "issued_by", "reissue_of"
        ),
        pk=bulletin_id,
    )


def _managed(request, bulletin_id: int) -> Bulletin:
    access.require(selectors.can_manage_bulletins(request.user))
    return _visible(request, bulletin_id)


def _as_of(bulletin: Bulletin):
    raw = (bulletin.content or {}).get("as_of")
    try:
        return dt.datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _refusal(request, exc: ValidationError) -> None:
    messages.error(request, "；".join(exc.messages))


@login_required
def bulletin_list(request):
    status = request.GET.get("status", "")
    can_manage = selectors.can_manage_bulletins(request.user)
    return render(
        request,
        "bulletins/list.html",
        {
            "bulletins": selectors.bulletin_list(request.user, status=status)[:200],
            "status": status,
            "statuses": Bulletin.Status.choices,
            "can_manage": can_manage,
        },
    )


@login_required
def bulletin_create(request):
    access.require(selectors.can_manage_bulletins(request.user))
    form = CreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            bulletin = services.bulletin_create(**form.cleaned_data, actor=request.user, request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已生成通报草稿，请修改文字和表扬、批评名单后预览、印发。")
            return redirect("bulletins:edit", bulletin.pk)
    return render(request, "bulletins/create.html", {"form": form})


@login_required
def bulletin_detail(request, bulletin_id: int):
    bulletin = _visible(request, bulletin_id)
    chart_list = charts.charts_for(bulletin.content or {})
    images = {c.key: "data:image/png;base64," + base64.b64encode(c.png).decode() for c in chart_list}
    doc = outline.build(bulletin)
    blocks = [(b, images.get(b.chart, "")) for b in doc.blocks]
    return render(
        request,
        "bulletins/detail.html",
        {
            "bulletin": bulletin,
            "outline": doc,
            "blocks": blocks,
            "can_manage": selectors.can_manage_bulletins(request.user),
            "reissues": bulletin.reissues.order_by("-created_at") if bulletin.is_issued else [],
            "as_of": _as_of(bulletin),
        },
    )


@login_required
def bulletin_edit(request, bulletin_id: int):
    bulletin = _managed(request, bulletin_id)
    if bulletin.is_issued:
        messages.error(request, "该通报已印发，不能修改；如需更正，请“重新印发”。")
        return redirect("bulletins:detail", bulletin.pk)
    schools = selectors.selectable_schools(bulletin)
    initial = {
        **{f: getattr(bulletin, f) for f in services.TEXT_FIELDS},
        "addressed_to_all": bulletin.addressed_to_all,
        "commended": list(bulletin.commended.values_list("pk", flat=True)),
        "criticised": list(bulletin.criticised.values_list("pk", flat=True)),
    }
    form = EditForm(request.POST or None, initial=initial, schools=schools)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.bulletin_update(
                bulletin=bulletin,
                actor=request.user,
                request=request,
                commended=data.pop("commended"),
                criticised=data.pop("criticised"),
                addressed_to_all=data.pop("addressed_to_all"),
                **data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "草稿已保存。")
            return redirect("bulletins:detail", bulletin.pk)
    return render(request, "bulletins/edit.html", {"bulletin": bulletin, "form": form})


def _post_action(request, bulletin_id: int, action, success: str, *, to_new: bool = False):
    bulletin = _managed(request, bulletin_id)
    try:
        result = action(bulletin=bulletin, actor=request.user, request=request)
    except ValidationError as exc:
        _refusal(request, exc)
        return redirect("bulletins:detail", bulletin.pk)
    messages.success(request, success.format(b=result or bulletin))
    if result is None:
        return redirect("bulletins:list")
    return redirect("bulletins:edit" if to_new else "bulletins:detail", result.pk)


@login_required
@require_POST
def bulletin_refresh(request, bulletin_id: int):
    return _post_action(request, bulletin_id, services.bulletin_refresh, "已按最新数据重新生成。")


@login_required
def bulletin_issue(request, bulletin_id: int):
    bulletin = _managed(request, bulletin_id)
    if request.method != "POST":
        if bulletin.is_issued:
            return redirect("bulletins:detail", bulletin.pk)
        recipients = services.recipients_of(bulletin)
        return render(
            request,
            "bulletins/issue.html",
            {
                "bulletin": bulletin,
                "schools": len(recipients),
                "commended": bulletin.commended.order_by("name"),
                "criticised": bulletin.criticised.order_by("name"),
                "prefix": BulletinSettings.current().prefix,
                "year": timezone.localdate().year,
            },
        )
    return _post_action(
        request, bulletin_id, services.bulletin_issue, "已印发 {b.number}，并已发送到各学校。"
    )


@login_required
@require_POST
def bulletin_reissue(request, bulletin_id: int):
    return _post_action(
        request, bulletin_id, services.bulletin_reissue, "已生成更正草稿，印发后将取得新的文号。", to_new=True
    )


@login_required
@require_POST
def bulletin_delete(request, bulletin_id: int):
    return _post_action(request, bulletin_id, services.bulletin_delete, "草稿已删除。")


def _download(bulletin: Bulletin, data: bytes, ext: str, content_type: str) -> HttpResponse:
    from urllib.parse import quote

    response = HttpResponse(data, content_type=content_type)
    name = output.filename(bulletin, ext)
    response["Content-Disposition"] = (
        f"attachment; filename=\"bulletin.{ext}\"; filename*=UTF-8''{quote(name)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def bulletin_docx(request, bulletin_id: int):
    bulletin = _visible(request, bulletin_id)
    return _download(bulletin, output.docx_bytes(bulletin), "docx", output.DOCX_TYPE)


@login_required
def bulletin_pdf(request, bulletin_id: int):
    bulletin = _visible(request, bulletin_id)
    return _download(bulletin, output.pdf_bytes(bulletin), "pdf", output.PDF_TYPE)


@login_required
def schedule_list(request):
    access.require(selectors.can_manage_bulletins(request.user))
    form = ScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            schedule.schedule_create(**form.cleaned_data, actor=request.user, request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已添加通报计划：到期时自动生成草稿（不会自动印发）。")
            return redirect("bulletins:schedules")
    return render(request, "bulletins/schedules.html", {"form": form, "schedules": selectors.schedules()})


@login_required
@require_POST
def schedule_toggle(request, schedule_id: int):
    access.require(selectors.can_manage_bulletins(request.user))
    item = get_object_or_404(BulletinSchedule, pk=schedule_id)
    item = schedule.schedule_toggle(schedule=item, actor=request.user, request=request)
    messages.success(request, f"“{item.name}”已{'启用' if item.active else '停用'}。")
    return redirect("bulletins:schedules")


@login_required
def settings_edit(request):
    access.require(selectors.can_manage_bulletins(request.user))
    cfg = BulletinSettings.current()
    initial = {f: getattr(cfg, f) for f in ("number_prefix", "issuer_name", "header_text", "addressee")}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_save(**form.cleaned_data, actor=request.user, request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "通报设置已保存。")
            return redirect("bulletins:list")
    return render(request, "bulletins/settings.html", {"form": form, "settings": cfg})
