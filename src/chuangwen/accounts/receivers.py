"""Every login, failure, lockout and logout goes into the audit chain."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from chuangwen.core import audit
from chuangwen.core.models import AuditEvent

from .middleware import SEEN, STARTED
from .models import UserSession


@receiver(user_logged_in, dispatch_uid="chuangwen_login")
def on_login(sender, request, user, **kwargs):
    from django.utils import timezone

    now = timezone.now().timestamp()
    if request is not None and hasattr(request, "session"):
        request.session[STARTED] = now
        request.session[SEEN] = now
        if not request.session.session_key:
            request.session.save()
        UserSession.objects.update_or_create(
            session_key=request.session.session_key,
            defaults={
                "user": user,
                "ip": audit.client_ip(request),
                "user_agent": request.META.get("HTTP_USER_AGENT", "")[:255],
            },
        )
    audit.record("auth.login", actor=user, request=request, obj=user)


@receiver(user_logged_out, dispatch_uid="chuangwen_logout")
def on_logout(sender, request, user, **kwargs):
    if request is not None and getattr(request, "session", None) is not None and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
    if user is not None:
        audit.record("auth.logout", actor=user, request=request, obj=user)


@receiver(user_login_failed, dispatch_uid="chuangwen_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    audit.record(
        "auth.login_failed",
        request=request,
        username=username,
        role="",
        object_type="accounts.user",
        object_repr=username,
        result=AuditEvent.Result.FAILURE,
    )


@receiver(user_locked_out, dispatch_uid="chuangwen_locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    audit.record(
        "auth.lockout",
        request=request,
        username=username or "",
        role="",
        object_type="accounts.user",
        object_repr=username or "",
        result=AuditEvent.Result.DENIED,
    )
