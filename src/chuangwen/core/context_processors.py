from django.conf import settings

from . import access


def chuangwen(request):
    user = getattr(request, "user", None)
    return {
        "site_name": settings.CHUANGWEN_SITE_NAME,
        "demo_mode": settings.CHUANGWEN_DEMO,
        "nav": {
            "is_admin": access.is_system_admin(user) if user else False,
            "can_manage_users": access.can_manage_users(user) if user else False,
            "can_import": (access.can_manage_units(user) or access.can_import_classes(user))
            if user
            else False,
            "can_view_audit": access.can_view_audit(user) if user else False,
        },
    }
