"""The organisation's panel on 我的工作台: the schools in the user's reach at a glance."""

from django.core.cache import cache
from django.db.models import Count, Q

from chuangwen.core import access

from .models import HUGE_CLASS_MIN, LARGE_CLASS_MIN, Unit

# The home page shows these figures on every visit; they may lag a change by this long. The key is the
# reach, so every bureau-wide user shares one entry and each school's staff another.
REACH_PANEL_SECONDS = 60


def reach_panel(user) -> dict | None:
    scope = access.scope_of(user)
    key = "cw:reach-panel:" + ("*" if scope.everything else "|".join(scope.paths()))
    return cache.get_or_set(key, lambda: _reach_panel(user), REACH_PANEL_SECONDS)


def _reach_panel(user) -> dict | None:
    schools = access.visible_schools(user)
    stats = schools.aggregate(schools=Count("id"))
    if not stats["schools"]:
        return None
    classes = access.visible_classes(user).aggregate(
        classes=Count("id"),
        large=Count("id", filter=Q(student_count__gte=LARGE_CLASS_MIN, student_count__lt=HUGE_CLASS_MIN)),
        huge=Count("id", filter=Q(student_count__gte=HUGE_CLASS_MIN)),
    )
    by_type = dict(schools.values_list("school_type").annotate(n=Count("id")).values_list("school_type", "n"))
    labels = dict(Unit.SchoolType.choices)
    single = stats["schools"] == 1
    return {
        "template": "org/panel_reach.html",
        "school_count": stats["schools"],
        "single_school": schools.first() if single else None,
        "by_type": [(labels[k], by_type[k]) for k in labels if k in by_type],
        "classes": classes,
    }
