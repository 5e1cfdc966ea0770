from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import access, selectors
from .workbench import workbench_context


@login_required
def home(request):
    """我的工作台: the user's units and roles, and the panels later features add."""
    return render(request, "core/home.html", workbench_context(request.user))


@never_cache
@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": str(exc.__class__.__name__)}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def ping(request):
    """The trivial endpoint the load benchmark compares against: no session, no database."""
    return HttpResponse("pong", content_type="text/plain")


@login_required
def audit_list(request):
    access.require(access.can_view_audit(request.user))
    events = selectors.audit_events(
        event_type=request.GET.get("type", ""), actor=request.GET.get("actor", "").strip()
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/audit_list.html",
        {"page": page, "type": request.GET.get("type", ""), "actor": request.GET.get("actor", "")},
    )


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    return render(request, "errors/500.html", status=500)
