"""User management for system administrators: people, their roles on units, deactivation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from chuangwen.accounts import services as account_services
from chuangwen.accounts.models import User
from chuangwen.core import access
from chuangwen.core.forms import add_service_errors

from . import services
from .forms import MembershipForm, SetPasswordForm, UserCreateForm, UserEditForm
from .models import Membership


def _require_admin(request):
    access.require(access.can_manage_users(request.user))


@login_required
def user_list(request):
    _require_admin(request)
    q = request.GET.get("q", "").strip()
    users = User.objects.all().prefetch_related("memberships__unit").order_by("username")
    if q:
        users = users.filter(
            Q(username__icontains=q) | Q(name__icontains=q) | Q(memberships__unit__name__icontains=q)
        ).distinct()
    state = request.GET.get("state", "")
    if state == "inactive":
        users = users.filter(is_active=False)
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "org/user_list.html", {"page": page, "q": q, "state": state})


@login_required
def user_create(request):
    _require_admin(request)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = account_services.user_create(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已创建用户“{user.name}”。请为其分配角色。")
            return redirect("org:user_detail", user.pk)
    return render(request, "org/user_form.html", {"form": form, "title": "新建用户"})


@login_required
def user_detail(request, user_id: int):
    _require_admin(request)
    person = get_object_or_404(User, pk=user_id)
    edit_form = UserEditForm(initial={"name": person.name, "email": person.email})
    membership_form = MembershipForm(units=access.visible_units(request.user))
    if request.method == "POST":
        edit_form = UserEditForm(request.POST)
        if edit_form.is_valid():
            data = edit_form.cleaned_data
            try:
                account_services.user_update(
                    user=person,
                    name=data["name"],
                    phone=data["phone"] or person.phone,
                    email=data["email"],
                    actor=request.user,
                    request=request,
                )
            except ValidationError as exc:
                add_service_errors(edit_form, exc)
            else:
                messages.success(request, "已保存。")
                return redirect("org:user_detail", person.pk)
    return render(
        request,
        "org/user_detail.html",
        {
            "person": person,
            "memberships": Membership.objects.filter(user=person).select_related("unit"),
            "edit_form": edit_form,
            "membership_form": membership_form,
            "password_form": SetPasswordForm(),
            "sessions": person.server_sessions.count(),
        },
    )


@login_required
@require_POST
def user_grant(request, user_id: int):
    _require_admin(request)
    person = get_object_or_404(User, pk=user_id)
    form = MembershipForm(request.POST, units=access.visible_units(request.user))
    if form.is_valid():
        try:
            services.membership_grant(user=person, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            for msg in exc.messages:
                messages.error(request, msg)
        else:
            messages.success(request, "角色已分配。")
    else:
        for errors in form.errors.values():
            for msg in errors:
                messages.error(request, msg)
    return redirect("org:user_detail", person.pk)


@login_required
@require_POST
def user_revoke(request, user_id: int, membership_id: int):
    _require_admin(request)
    membership = get_object_or_404(Membership, pk=membership_id, user_id=user_id)
    services.membership_revoke(membership=membership, actor=request.user, request=request)
    messages.success(request, "角色已撤销。")
    return redirect("org:user_detail", user_id)


@login_required
@require_POST
def user_set_active(request, user_id: int):
    _require_admin(request)
    person = get_object_or_404(User, pk=user_id)
    try:
        if request.POST.get("active") == "1":
            account_services.user_reactivate(user=person, actor=request.user, request=request)
            messages.success(request, f"已启用“{person.name}”。")
        else:
            account_services.user_deactivate(user=person, actor=request.user, request=request)
            messages.success(request, f"已停用“{person.name}”，其所有登录会话已结束。")
    except ValidationError as exc:
        for msg in exc.messages:
            messages.error(request, msg)
    return redirect("org:user_detail", person.pk)


@login_required
@require_POST
def user_password(request, user_id: int):
    _require_admin(request)
    person = get_object_or_404(User, pk=user_id)
    form = SetPasswordForm(request.POST)
    if form.is_valid():
        try:
            account_services.user_set_password(
                user=person, password=form.cleaned_data["password"], actor=request.user, request=request
            )
        except ValidationError as exc:
            for msg in exc.messages:
                messages.error(request, msg)
        else:
            messages.success(request, "密码已重置。")
    return redirect("org:user_detail", person.pk)


@login_required
@require_POST
def user_end_sessions(request, user_id: int):
    _require_admin(request)
    person = get_object_or_404(User, pk=user_id)
    ended = account_services.user_end_sessions(user=person, actor=request.user, request=request)
    messages.success(request, f"已结束 {ended} 个登录会话。")
    return redirect("org:user_detail", person.pk)
