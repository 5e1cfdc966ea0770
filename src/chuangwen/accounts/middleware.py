from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone

from chuangwen.core import audit

STARTED = "_cw_started"
SEEN = "_cw_seen"
# Refresh "last seen" at most once a minute: writing the session on every request costs a DB write.
SEEN_RESOLUTION = 60


class SessionLimitMiddleware:
    """End sessions idle for 30 minutes or older than 12 hours (both configurable)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            started = request.session.get(STARTED)
            seen = request.session.get(SEEN)
            if started is None or seen is None:
                request.session[STARTED] = started = now
                request.session[SEEN] = seen = now
            reason = None
            if now - started > settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds():
                reason = "absolute"
            elif now - seen > settings.SESSION_IDLE_TIMEOUT.total_seconds():
                reason = "idle"
            if reason:
                audit.record("auth.session_expired", actor=user, request=request, data={"reason": reason})
                logout(request)
                if request.path.startswith("/api/"):
                    from django.http import JsonResponse

                    return JsonResponse({"detail": "登录已超时，请重新登录"}, status=401)
                messages.warning(request, "登录已超时，请重新登录。")
                return redirect_to_login(request.get_full_path())
            if now - seen > SEEN_RESOLUTION:
                request.session[SEEN] = now
        return self.get_response(request)
