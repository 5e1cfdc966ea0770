from __future__ import annotations

from django.apps import apps
from django.db.models import F, QuerySet

from chuangwen.core import access
from chuangwen.core.roles import Role

from .models import ChannelConfig, Notification, Outbox

CHANNEL_MANAGERS = frozenset({Role.ADMIN, Role.OFFICE, Role.SCHOOL_HEAD})


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(user) -> QuerySet[Notification]:
    """Mine, unread first, newest first."""
    return Notification.objects.filter(recipient=user).order_by(
        F("read_at").desc(nulls_first=True), "-created_at", "-pk"
    )


def can_manage_channels(user) -> bool:
    return access.scope_of(user).everything or access.has_role(user, *CHANNEL_MANAGERS)


def channel_units(user) -> QuerySet:
    """Units whose channels the user may set: 系统管理员/创文办 within reach, a school head their school."""
    units = apps.get_model("org", "Unit").objects.filter(is_active=True)
    return access.filter_by_reach(units, user, path_field="path", roles=CHANNEL_MANAGERS).order_by("path")


def channels_of(unit) -> QuerySet[ChannelConfig]:
    return ChannelConfig.objects.filter(unit=unit)


def recent_messages(unit, limit: int = 20) -> list[Outbox]:
    return list(
        Outbox.objects.filter(unit=unit)
        .select_related("config")
        .prefetch_related("delivery_attempts")[:limit]
    )
