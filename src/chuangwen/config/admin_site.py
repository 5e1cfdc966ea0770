from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


class ChuangwenAdminSite(admin.AdminSite):
    """Django admin, open to system administrators only (role 系统管理员, not merely is_staff)."""

    site_header = "创文平台 · 系统管理"
    site_title = "创文平台系统管理"
    index_title = "数据管理"

    def has_permission(self, request):
        from chuangwen.core import access

        return bool(request.user.is_active and access.is_system_admin(request.user))

    def login(self, request, extra_context=None):
        # One login page for the whole product, with its lockout and audit trail. A signed-in user who
        # is not a system administrator is refused here; sending them to the login page would loop.
        if request.user.is_authenticated:
            raise PermissionDenied("系统管理后台仅对系统管理员开放")
        return redirect_to_login(request.GET.get("next") or request.get_full_path().replace("login/", ""))
