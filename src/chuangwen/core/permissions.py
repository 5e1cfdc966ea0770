from django.contrib.auth.backends import BaseBackend

from . import access


class SystemAdminBackend(BaseBackend):
    """Give 系统管理员 every Django model permission, so the admin works for them without is_superuser.

    It authenticates nobody; it only answers permission questions.
    """

    def has_perm(self, user_obj, perm, obj=None):
        return bool(user_obj.is_active and access.is_system_admin(user_obj))

    def has_module_perms(self, user_obj, app_label):
        return bool(user_obj.is_active and access.is_system_admin(user_obj))
