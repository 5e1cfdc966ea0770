"""我的工作台: the home page every role lands on.

Apps add panels with `register_panel` in their AppConfig.ready(); a panel is a function of the user
that returns None (nothing to show) or a dict with `template` and its context.
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps

from . import access
from .roles import Role

Panel = Callable[[object], dict | None]
_panels: list[tuple[int, Panel]] = []


def register_panel(panel: Panel, *, order: int = 100) -> None:
    if all(p is not panel for _, p in _panels):
        _panels.append((order, panel))
        _panels.sort(key=lambda item: item[0])


def workbench_context(user) -> dict:
    membership = apps.get_model("org", "Membership")
    memberships = list(
        membership.objects.filter(user=user)
        .select_related("unit", "unit__parent")
        .order_by("unit__path", "role")
    )
    labels = dict(Role.choices)
    panels = [p for p in (panel(user) for _, panel in _panels) if p]
    return {
        "memberships": [
            {"unit": m.unit, "role": m.role, "role_label": labels.get(m.role, m.role)} for m in memberships
        ],
        "role_label": access.role_label(user),
        "panels": panels,
    }
