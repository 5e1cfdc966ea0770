"""Pages: my notifications, and per-unit channel settings. Thin: form → service → redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chuangwen.core import access

from . import selectors, services
from .forms import ChannelConfigForm
from .models import ChannelConfig, Notification


@login_required
def notification_list(request):
    page = Paginator(selectors.notifications_for(request.user), 50).get_page(request.GET.get("page"))
    context = {"page": page, "can_manage_channels": selectors.can_manage_channels(request.user)}
    return render(request, "notify/list.html", context)


@login_required
def notification_open(request, pk: int):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(notification=notification, user=request.user)
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("notify:list")


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(notification=notification, user=request.user)
    return redirect("notify:list")


@login_required
@require_POST
def notification_read_all(request):
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"已将 {count} 条通知标为已读")
    return redirect("notify:list")


@login_required
def channel_units(request):
    access.require(selectors.can_manage_channels(request.user))
    units = selectors.channel_units(request.user)
    query = (request.GET.get("q") or "").strip()
    if query:
        units = units.filter(name__icontains=query)
    page = Paginator(units, 100).get_page(request.GET.get("page"))
    return render(request, "notify/channel_units.html", {"page": page, "q": query})


def _unit_for(request, unit_id: int):
    access.require(selectors.can_manage_channels(request.user))
    return get_object_or_404(selectors.channel_units(request.user), pk=unit_id)


@login_required
def unit_channels(request, unit_id: int):
    unit = _unit_for(request, unit_id)
    form = ChannelConfigForm(request.POST or None, instance=ChannelConfig(unit=unit))
    if request.method == "POST" and form.is_valid():
        config, secret = form.apply()
        services.channel_config_save(config=config, actor=request.user, request=request, new_secret=secret)
        messages.success(request, f"已添加通知渠道：{config}")
        return redirect("notify:unit_channels", unit_id=unit.pk)
    context = {
        "unit": unit,
        "configs": selectors.channels_of(unit),
        "outbox": selectors.recent_messages(unit),
        "form": form,
    }
    return render(request, "notify/unit_channels.html", context)


@login_required
def channel_edit(request, pk: int):
    access.require(selectors.can_manage_channels(request.user))
    config = get_object_or_404(
        ChannelConfig.objects.select_related("unit"), pk=pk, unit__in=selectors.channel_units(request.user)
    )
    form = ChannelConfigForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        config, secret = form.apply()
        services.channel_config_save(config=config, actor=request.user, request=request, new_secret=secret)
        messages.success(request, f"已保存通知渠道：{config}")
        return redirect("notify:unit_channels", unit_id=config.unit_id)
    return render(request, "notify/channel_edit.html", {"config": config, "unit": config.unit, "form": form})


@login_required
@require_POST
def channel_test(request, pk: int):
    access.require(selectors.can_manage_channels(request.user))
    config = get_object_or_404(ChannelConfig, pk=pk, unit__in=selectors.channel_units(request.user))
    if not config.enabled:
        messages.error(request, "该渠道已停用，请先启用再发送测试消息")
    else:
        sent = services.channel_config_test(config=config, actor=request.user, request=request)
        if sent:
            messages.success(request, "测试消息已排队发送，请稍后刷新查看投递记录")
        else:
            messages.error(request, "没有可发送的对象（邮件需收件人，短信需手机号）")
    return redirect("notify:unit_channels", unit_id=config.unit_id)
