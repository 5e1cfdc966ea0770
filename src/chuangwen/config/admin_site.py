from django.contrib import admin


class ChuangwenAdminSite(admin.AdminSite):
    """Django admin, open to system administrators only (role 系统管理员, not merely is_staff)."""

    site_header = "创文平台 · 系统管理"
    site_title = "创文平台系统管理"
    index_title = "数据管理"

    def has_permission(self, request):
        from chuangwen.core import access

        return bool(request.user.is_active and access.is_system_admin(request.user))
