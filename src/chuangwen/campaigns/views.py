"""Pages of campaigns and rounds. Thin: form → service → redirect; reads through the selectors."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from chuangwen.core import access
from chuangwen.core.forms import add_service_errors
from chuangwen.inspections.selectors import round_actions

from . import selectors, services
from .forms import SAMPLE, CampaignForm, FollowUpForm, InspectorsForm, RoundForm
from .models import TRANSITIONS, Campaign, Round

TRANSITION_LABELS = {Round.Status.IN_PROGRESS: "开始检查", Round.Status.FINISHED: "结束本轮"}


@login_required
def round_list(request):
    campaign_id = request.GET.get("campaign", "")
    campaign_id = int(campaign_id) if campaign_id.isdigit() else None
    rounds = selectors.round_list(user=request.user, campaign_id=campaign_id)
    return render(
        request,
        "campaigns/round_list.html",
        {
            "rounds": rounds,
            "campaigns": selectors.campaign_list(),
            "campaign_id": campaign_id,
            "can_manage": access.can_manage_campaigns(request.user),
        },
    )


@login_required
def round_detail(request, round_id: int):
    round_ = get_object_or_404(
        selectors.visible_rounds(request.user).select_related("campaign", "campaign__edition"), pk=round_id
    )
    whole = selectors.sees_whole_round(request.user, round_)
    can_manage = access.can_manage_campaigns(request.user)
    schools = list(selectors.round_schools(user=request.user, round_=round_))
    # What the viewer may do at each school (开始检查 / 继续检查 / 查看结果), read once for the round.
    actions = round_actions(request.user, round_, schools)
    return render(
        request,
        "campaigns/round_detail.html",
        {
            "round": round_,
            "schools": schools,
            "school_rows": [(s, *actions.get(s.pk, ("", None))) for s in schools],
            "inspectors": round_.inspectors.order_by("name", "username") if whole else [],
            "whole": whole,
            "can_manage": can_manage,
            "moves": [(s, TRANSITION_LABELS.get(s, s)) for s in sorted(TRANSITIONS[round_.status])]
            if can_manage
            else [],
        },
    )


@login_required
def campaign_create(request):
    access.require(access.can_manage_campaigns(request.user))
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(**form.cleaned_data, actor=request.user, request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已创建“{campaign.name}”。")
            return redirect("campaigns:round_create", campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "title": "新建创建周期"})


@login_required
def round_create(request, campaign_id: int):
    access.require(access.can_manage_campaigns(request.user))
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    form = RoundForm(
        request.POST or None,
        schools=access.visible_schools(request.user).filter(is_active=True).order_by("path"),
        inspectors=selectors.inspector_candidates(),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        sampled = data["scope"] == SAMPLE
        try:
            round_ = services.round_create(
                campaign=campaign,
                kind=data["kind"],
                name=data["name"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                schools=None if sampled else data["schools"],
                sample_size=data["sample_size"] if sampled else None,
                sample_seed=data["sample_seed"] if sampled else None,
                inspectors=data["inspectors"],
                actor=request.user,
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已创建检查轮次“{round_.name}”。")
            return redirect("campaigns:round_detail", round_.pk)
    return render(
        request,
        "campaigns/form.html",
        {"form": form, "title": f"新建检查轮次 · {campaign.name}", "campaign": campaign},
    )


@login_required
def round_inspectors(request, round_id: int):
    access.require(access.can_manage_campaigns(request.user))
    round_ = get_object_or_404(selectors.visible_rounds(request.user), pk=round_id)
    form = InspectorsForm(
        request.POST or None,
        inspectors=selectors.inspector_candidates(),
        initial={"inspectors": list(round_.inspectors.all())},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.round_assign_inspectors(
                round_=round_, inspectors=form.cleaned_data["inspectors"], actor=request.user, request=request
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已更新督查员。")
            return redirect("campaigns:round_detail", round_.pk)
    return render(request, "campaigns/form.html", {"form": form, "title": f"指派督查员 · {round_.name}"})


@login_required
@require_POST
def round_transition(request, round_id: int):
    access.require(access.can_manage_campaigns(request.user))
    round_ = get_object_or_404(selectors.visible_rounds(request.user), pk=round_id)
    try:
        round_ = services.round_transition(
            round_=round_, to=request.POST.get("to", ""), actor=request.user, request=request
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"检查轮次已{round_.get_status_display()}。")
    return redirect("campaigns:round_detail", round_.pk)


@login_required
def round_follow_up(request, round_id: int):
    """生成跟踪督查: a follow-up round over the schools with open problems from this and chosen rounds."""
    access.require(access.can_manage_campaigns(request.user))
    round_ = get_object_or_404(selectors.visible_rounds(request.user).select_related("campaign"), pk=round_id)
    campaign = round_.campaign
    today = timezone.localdate()
    form = FollowUpForm(
        request.POST or None,
        rounds=campaign.rounds.order_by("-start_date", "-pk"),
        inspectors=selectors.inspector_candidates(),
        initial={
            "previous_rounds": [round_],
            "name": f"{round_.name} · 跟踪督查",
            "start_date": today,
            "end_date": today + dt.timedelta(days=7),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            follow_up = services.round_create_follow_up(
                campaign=campaign,
                previous_rounds=data["previous_rounds"],
                name=data["name"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                inspectors=data["inspectors"],
                actor=request.user,
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"已生成跟踪督查“{follow_up.name}”，覆盖 {follow_up.schools.count()} 所学校。"
            )
            return redirect("campaigns:round_detail", follow_up.pk)
    return render(
        request,
        "campaigns/form.html",
        {"form": form, "title": f"生成跟踪督查 · {round_.name}", "campaign": campaign},
    )
