"""Pages of accountability (问责记录, 红黄牌). Thin: form → service → redirect; reads through the selectors.

A refused action re-renders the record page with the refusal (403 when the user may not make it, 400 when
the input or the record's state does not allow it); nothing changes.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from chuangwen.core import access
from chuangwen.core.forms import add_service_errors
from chuangwen.ledger.models import Status
from chuangwen.ledger.selectors import visible_problems
from chuangwen.org.models import Unit

from . import cards, exports, selectors, services
from .forms import AcknowledgeForm, CorrectForm, CreateForm, FilterForm, RevokeForm, RulesForm
from .models import CARD_KINDS, CardPeriod, CardRules, Record, RecordEvent

PER_PAGE = 20
MAX_PROBLEM_CHOICES = 100


def _status_of(exc: ValidationError) -> int:
    return 403 if getattr(exc, "code", None) == "forbidden" else 400


def _filter_units(user):
    """The units offered in the list's filter: for bureau readers, the units that have records."""
    if not selectors.is_bureau_reader(user):
        return []
    ids = selectors.visible_records(user).values("unit_id")
    return list(Unit.objects.filter(pk__in=ids).order_by("path").only("pk", "name"))


def _creatable_units(user):
    return access.filter_by_reach(
        Unit.objects.filter(kind__in=services.UNIT_KINDS, is_active=True),
        user,
        path_field="path",
        roles=services.CREATOR_ROLES,
    ).order_by("path")


def _can_create(user) -> bool:
    return access.scope_of(user).everything or access.has_role(user, *services.CREATOR_ROLES)


@login_required
def record_list(request):
    user = request.user
    form = FilterForm(request.GET or None, units=_filter_units(user))
    qs = selectors.record_list(user=user, filters=form.filters()).annotate(problem_count=Count("problems"))
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "accountability/list.html",
        {
            "form": form,
            "page": page,
            "query": params.urlencode(),
            "can_create": _can_create(user),
            "bureau": selectors.is_bureau_reader(user),
        },
    )


@login_required
def export(request):
    form = FilterForm(request.GET or None, units=_filter_units(request.user))
    filters = form.filters()
    qs = selectors.record_list(user=request.user, filters=filters).prefetch_related("problems")
    return exports.response(
        exports.write_records,
        qs,
        filename="问责记录",
        event="accountability.export",
        request=request,
        filters={k: str(v) for k, v in vars(filters).items() if v},
    )


@login_required
def create(request):
    user = request.user
    access.require(_can_create(user))
    units = list(_creatable_units(user))
    raw = request.POST.get("unit") or request.GET.get("unit") or ""
    unit = next((u for u in units if str(u.pk) == raw), None)
    problems = []
    if unit is not None:
        problems = list(
            visible_problems(user)
            .filter(school__path__startswith=unit.path)
            .exclude(status=Status.VOID)
            .select_related("school")
            .order_by("-found_at", "-pk")[:MAX_PROBLEM_CHOICES]
        )
    load_only = request.method == "POST" and "load" in request.POST
    initial = {"unit": unit.pk} if unit else {}
    if request.GET.get("kind"):
        initial["kind"] = request.GET["kind"]
    data = request.POST if request.method == "POST" and not load_only else None
    form = CreateForm(data, units=units, problems=problems, initial=initial)
    if data is not None and form.is_valid():
        d = form.cleaned_data
        chosen = [p for p in problems if p.pk in set(d["problems"])]
        try:
            record = services.record_create(
                kind=d["kind"],
                unit=unit,
                reason=d["reason"],
                date=d["date"],
                problems=chosen,
                talk_at=d.get("talk_at"),
                talk_place=d.get("talk_place", ""),
                talk_people=d.get("talk_people", ""),
                actor=user,
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已登记{record.get_kind_display()}（{record.number}），已通知该单位。")
            return redirect("accountability:detail", record.pk)
    status = 400 if data is not None else 200
    return render(
        request,
        "accountability/create.html",
        {"form": form, "unit": unit, "problems": problems},
        status=status,
    )


def _record(request, record_id: int) -> Record:
    qs = selectors.visible_records(request.user).select_related(
        "unit", "created_by", "acknowledged_by", "revoked_by", "card_period", "follows", "bulletin"
    )
    return get_object_or_404(qs, pk=record_id)


def _detail(request, record: Record, *, forms: dict | None = None, error=None, status: int = 200):
    user = request.user
    forms = forms or {}
    ctx = {
        "record": record,
        "events": record.events.select_related("actor").order_by("at", "pk"),
        "problems": selectors.visible_problems_of(user, record),
        "hidden_problems": record.problems.count(),
        "error": error or [],
        "can_acknowledge": not record.is_revoked
        and not record.is_acknowledged
        and services.may_acknowledge(user, record),
        "can_manage": not record.is_revoked and services.may_manage(user, record),
        "head_role": services.head_role(record.unit),
        "EVENT_KINDS": dict(RecordEvent.Kind.choices),
    }
    ctx["hidden_problems"] -= ctx["problems"].count()
    if ctx["can_acknowledge"]:
        ctx["ack_form"] = forms.get("ack") or AcknowledgeForm()
    if ctx["can_manage"]:
        ctx["revoke_form"] = forms.get("revoke") or RevokeForm(prefix="revoke")
        ctx["correct_form"] = forms.get("correct") or CorrectForm(
            prefix="correct",
            talk=record.kind == "talk",
            initial={
                "reason": record.reason,
                "date": record.date,
                "talk_at": timezone.localtime(record.talk_at) if record.talk_at else None,
                "talk_place": record.talk_place,
                "talk_people": record.talk_people,
                "talk_outcome": record.talk_outcome,
            },
        )
    return render(request, "accountability/detail.html", ctx, status=status)


@login_required
def detail(request, record_id: int):
    return _detail(request, _record(request, record_id))


@login_required
@require_POST
def acknowledge(request, record_id: int):
    record = _record(request, record_id)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            services.record_acknowledge(
                record=record, actor=request.user, note=form.cleaned_data["note"], request=request
            )
        except ValidationError as exc:
            return _detail(request, record, error=exc.messages, status=_status_of(exc))
        messages.success(request, "已确认。")
        return redirect("accountability:detail", record.pk)
    return _detail(request, record, forms={"ack": form}, status=400)


@login_required
@require_POST
def revoke(request, record_id: int):
    record = _record(request, record_id)
    form = RevokeForm(request.POST, prefix="revoke")
    if not services.may_manage(request.user, record):
        return _detail(request, record, error=["只有创文办可以撤销问责记录"], status=403)
    if form.is_valid():
        try:
            services.record_revoke(
                record=record, reason=form.cleaned_data["reason"], actor=request.user, request=request
            )
        except ValidationError as exc:
            return _detail(request, record, error=exc.messages, status=_status_of(exc))
        messages.success(request, "已撤销，记录保留在历史中。")
        return redirect("accountability:detail", record.pk)
    return _detail(request, record, forms={"revoke": form}, status=400)


@login_required
@require_POST
def correct(request, record_id: int):
    record = _record(request, record_id)
    if not services.may_manage(request.user, record):
        return _detail(request, record, error=["只有创文办可以更正问责记录"], status=403)
    form = CorrectForm(request.POST, prefix="correct", talk=record.kind == "talk")
    if form.is_valid():
        try:
            services.record_correct(
                record=record,
                changes=form.changes(record),
                reason=form.cleaned_data["correct_reason"],
                actor=request.user,
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已更正，原内容保留在历史中。")
            return redirect("accountability:detail", record.pk)
    return _detail(request, record, forms={"correct": form}, status=400)


@login_required
def rules(request):
    access.require(access.can_manage_campaigns(request.user))
    current = CardRules.current()
    form = RulesForm(request.POST or None, initial=current.snapshot() | {"start_date": current.start_date})
    if request.method == "POST" and form.is_valid():
        try:
            cards.card_rules_save(values=form.cleaned_data, actor=request.user, request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "红黄牌规则已保存，自下一个未评定的周期起适用。")
            return redirect("accountability:rules")
    start, end = cards.next_period(current)
    return render(
        request,
        "accountability/rules.html",
        {
            "form": form,
            "current": current,
            "next_start": start,
            "next_end": end,
            "periods": CardPeriod.objects.select_related("evaluated_by")[:12],
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def card_list(request):
    user = request.user
    current = CardRules.current()
    today = timezone.localdate()
    rows = selectors.card_rows(user=user, today=today, repeat_days=current.repeat_days)
    start, end = cards.next_period(current)
    return render(
        request,
        "accountability/cards.html",
        {
            "rows": rows,
            "rules": current,
            "next_start": start,
            "next_end": end,
            "last_period": CardPeriod.objects.first(),
            "can_evaluate": access.can_manage_campaigns(user),
            "bureau": selectors.is_bureau_reader(user),
        },
    )


@login_required
def card_export(request):
    current = CardRules.current()
    rows = selectors.card_rows(user=request.user, today=timezone.localdate(), repeat_days=current.repeat_days)
    return exports.response(
        exports.write_cards, rows, filename="红黄牌", event="accountability.cards_export", request=request
    )


@login_required
@require_POST
def card_evaluate(request):
    try:
        result = cards.cards_evaluate(actor=request.user, request=request)
    except ValidationError as exc:
        if getattr(exc, "code", None) == "forbidden":
            access.require(False)
        messages.error(request, "；".join(exc.messages))
        return redirect("accountability:cards")
    if result.periods:
        more = "；还有已结束的周期待评定，请再次点击（后台每小时也会继续评定）" if result.more else ""
        messages.success(request, f"已评定 {len(result.periods)} 个周期，亮牌 {len(result.cards)} 张{more}。")
    else:
        messages.info(
            request,
            f"没有已结束而未评定的周期；下一个周期 {result.next_start:%Y-%m-%d} 至 "
            f"{result.next_end:%Y-%m-%d}，结束后评定。",
        )
    return redirect("accountability:cards")


@login_required
def unit_history(request, unit_id: int):
    user = request.user
    unit = get_object_or_404(selectors.visible_units(user), pk=unit_id)
    if unit.kind == Unit.Kind.BUREAU:
        raise Http404
    records = (
        selectors.visible_records(user)
        .filter(unit=unit)
        .select_related("unit", "acknowledged_by", "card_period")
        .annotate(problem_count=Count("problems"))
        .order_by("-date", "-pk")
    )
    page = Paginator(records, PER_PAGE).get_page(request.GET.get("page"))
    current = CardRules.current()
    today = timezone.localdate()
    unit_cards = (
        selectors.visible_records(user)
        .filter(unit=unit, kind__in=CARD_KINDS, revoked_at__isnull=True)
        .select_related("card_period")
    )
    in_force = [r for r in unit_cards if cards.in_force(r, today=today, repeat_days=current.repeat_days)]
    return render(
        request,
        "accountability/unit.html",
        {
            "unit": unit,
            "page": page,
            "summary": selectors.unit_summary(unit),
            "in_force": in_force,
            "can_create": services.may_create(user, unit) and unit.kind in services.UNIT_KINDS,
        },
    )
