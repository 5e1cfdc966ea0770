from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import services
from .forms import LoginForm, TokenForm
from .models import UserSession


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def locked_out(request, response=None, credentials=None, *args, **kwargs):
    """django-axes calls this when a username is locked: show the login page with the reason."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "accounts/login.html",
        {
            "form": LoginForm(request),
            "locked_out": True,
            "lockout_minutes": minutes,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
        },
        status=403,
    )


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"

    def form_valid(self, form):
        old_key = self.request.session.session_key
        response = super().form_valid(form)
        # update_session_auth_hash() gave the session a new key: keep tracking it, or deactivating the
        # user later would miss this session.
        UserSession.objects.filter(session_key=old_key).update(session_key=self.request.session.session_key)
        from chuangwen.core import audit

        audit.record(
            "user.change_own_password", actor=self.request.user, request=self.request, obj=self.request.user
        )
        messages.success(self.request, "密码已修改。")
        return response

    def get_success_url(self):
        return "/"


@login_required
def token_list(request):
    form = TokenForm(request.POST or None)
    raw = None
    if request.method == "POST" and form.is_valid():
        _, raw = services.token_create(
            user=request.user, name=form.cleaned_data["name"], actor=request.user, request=request
        )
        form = TokenForm()
    tokens = request.user.api_tokens.all()
    return render(request, "accounts/token_list.html", {"tokens": tokens, "form": form, "raw": raw})


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = get_object_or_404(request.user.api_tokens, pk=token_id)
    services.token_revoke(token=token, actor=request.user, request=request)
    messages.success(request, f"令牌“{token.name}”已吊销。")
    return redirect("accounts:token_list")
