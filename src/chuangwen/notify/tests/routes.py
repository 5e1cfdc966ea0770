"""Permission-matrix rows of the notify pages (see tests/test_permission_matrix.py)."""

from __future__ import annotations

from tests.matrix import ALL, Route

from chuangwen.core.roles import Role

CHANNEL_MANAGERS = {Role.ADMIN, Role.OFFICE, Role.SCHOOL_HEAD}


def _mine(city, user) -> int:
    from chuangwen.notify.models import Notification

    return Notification.objects.create(recipient=user, title="矩阵通知", link="/").pk


def _config(city) -> int:
    from chuangwen.notify.models import ChannelConfig

    config, _ = ChannelConfig.objects.get_or_create(
        unit=city.school_a, kind="webhook", defaults={"settings": {"url": "http://127.0.0.1:9/hook"}}
    )
    return config.pk


ROUTES: dict[str, Route] = {
    "notify:list": Route(lambda c, u: "/notify/", ALL),
    "notify:open": Route(lambda c, u: f"/notify/{_mine(c, u)}/", ALL, ok=302),
    "notify:read": Route(lambda c, u: f"/notify/{_mine(c, u)}/read/", ALL, method="post", ok=302),
    "notify:read_all": Route(lambda c, u: "/notify/read-all/", ALL, method="post", ok=302),
    "notify:channel_units": Route(lambda c, u: "/notify/channels/", CHANNEL_MANAGERS),
    "notify:unit_channels": Route(lambda c, u: f"/notify/channels/unit/{c.school_a.pk}/", CHANNEL_MANAGERS),
    "notify:channel_edit": Route(lambda c, u: f"/notify/channels/{_config(c)}/edit/", CHANNEL_MANAGERS),
    # Queues a test message only (the matrix runs without on_commit callbacks, so nothing is sent).
    "notify:channel_test": Route(
        lambda c, u: f"/notify/channels/{_config(c)}/test/", CHANNEL_MANAGERS, method="post", ok=302
    ),
}
