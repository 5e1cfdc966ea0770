from django.contrib.admin.apps import AdminConfig


class ChuangwenAdminConfig(AdminConfig):
    default_site = "chuangwen.config.admin_site.ChuangwenAdminSite"
