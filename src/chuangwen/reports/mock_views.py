"""模拟测评 pages: the draw with its estimate (GET), and the round made from it in one click (POST).

Thin: form → `reports.mock` → render or redirect. The seed, when left blank, is drawn once and put into
the address (a redirect), so the page shown can always be reproduced and the one-click round uses the
very seed on the page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chuangwen.campaigns.models import Campaign
from chuangwen.core import access
from chuangwen.core.forms import add_service_errors

from . import figures, mock

NUMBER = {"class": "form-control", "inputmode": "numeric"}
DECIMAL = {"class": "form-control", "inputmode": "decimal", "step": "0.01"}


class MockForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label="创建周期",
        queryset=Campaign.objects.none(),
        empty_label=None,
        widget=forms.Select({"class": "form-select"}),
        error_messages={"required": "请选择创建周期", "invalid_choice": "请选择一个创建周期"},
    )
    n = forms.IntegerField(
        label="抽样学校数",
        min_value=1,
        widget=forms.NumberInput(NUMBER),
        error_messages={
            "required": "请填写抽样学校数",
            "invalid": "抽样学校数必须是正整数",
            "min_value": "抽样学校数必须至少为 1",
        },
    )
    seed = forms.IntegerField(
        label="随机种子",
        required=False,
        min_value=0,
        max_value=mock.MAX_SEED,
        widget=forms.NumberInput(NUMBER),
        help_text="留空则随机生成；生成的种子显示在这里并随轮次记录，相同种子可重现同一抽样",
        error_messages={
            "invalid": "随机种子必须是整数（或留空随机生成）",
            "min_value": "随机种子不能为负数",
            "max_value": f"随机种子不能超过 {mock.MAX_SEED}",
        },
    )
    threshold = forms.DecimalField(
        label="达标线（分）",
        min_value=0,
        max_value=100,
        decimal_places=2,
        initial=mock.DEFAULT_THRESHOLD,
        widget=forms.NumberInput(DECIMAL),
        help_text="估计低于此分数的概率；未成年人思想道德建设测评低于 85 分不能申报",
        error_messages={
            "required": "请填写达标线",
            "invalid": "达标线必须是 0～100 的数字",
            "min_value": "达标线不能小于 0",
            "max_value": "达标线不能大于 100",
            "max_decimal_places": "达标线最多两位小数",
        },
    )
    unscored = forms.DecimalField(
        label="未检查学校计分",
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
        widget=forms.NumberInput(DECIMAL),
        help_text="留空：本周期还没有检查得分的学校不纳入抽样和估计（下方列出）；填写：按此分数纳入",
        error_messages={
            "invalid": "未检查学校计分必须是 0～100 的数字",
            "min_value": "未检查学校计分不能小于 0",
            "max_value": "未检查学校计分不能大于 100",
            "max_decimal_places": "未检查学校计分最多两位小数",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.select_related("edition").order_by(
            "-start_date", "-pk"
        )
        self.fields["campaign"].label_from_instance = lambda c: (
            c.name if c.status == Campaign.Status.ACTIVE else f"{c.name}（已结束）"
        )


def _render(request, form, result=None):
    return render(
        request,
        "reports/mock.html",
        {
            "form": form,
            "result": result,
            "can_create": mock.can_create_round(request.user),
            "has_campaign": Campaign.objects.exists(),
        },
    )


@login_required
def mock_draw(request):
    access.require(mock.can_view(request.user))
    submitted = "n" in request.GET
    active = figures.active_campaign()
    form = MockForm(
        request.GET if submitted else None,
        initial={"campaign": active.pk if active else None, "threshold": mock.DEFAULT_THRESHOLD},
    )
    result = None
    if submitted and form.is_valid():
        data = form.cleaned_data
        if data["seed"] is None:
            query = request.GET.copy()
            query["seed"] = str(mock.new_seed())
            return redirect(f"{request.path}?{query.urlencode()}")
        try:
            result = mock.mock_draw(
                campaign=data["campaign"],
                n=data["n"],
                seed=data["seed"],
                threshold=data["threshold"],
                unscored_value=data["unscored"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    return _render(request, form, result)


def _school_ids(raw: str | None) -> list[int] | bool | None:
    """The page's drawn schools ("3,5,8"): None when not sent, False when malformed."""
    if raw is None or not raw.strip():
        return None
    parts = [p.strip() for p in raw.split(",")]
    if not all(p.isdigit() for p in parts):
        return False
    return [int(p) for p in parts]


@login_required
@require_POST
def mock_round(request):
    """按此抽样创建模拟测评轮次: the same campaign, n, seed and treatment of uninspected schools."""
    access.require(mock.can_create_round(request.user))
    form = MockForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        shown = _school_ids(request.POST.get("schools"))
        if data["seed"] is None:
            form.add_error("seed", "请先抽样，再按页面上的种子创建轮次")
        elif shown is False:
            form.add_error(None, "抽中学校的记录无效，请重新抽样")
        else:
            try:
                round_ = mock.mock_round_create(
                    campaign=data["campaign"],
                    n=data["n"],
                    seed=data["seed"],
                    unscored_value=data["unscored"],
                    expected_school_ids=shown,
                    actor=request.user,
                    request=request,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"已创建模拟测评轮次“{round_.name}”，覆盖抽中的 {round_.sample_size} 所学校。",
                )
                return redirect("campaigns:round_detail", round_.pk)
    return _render(request, form)
