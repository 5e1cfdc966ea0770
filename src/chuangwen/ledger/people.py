"""Who is told: the people holding a role at a school, or above it (department heads, leaders, office)."""

from __future__ import annotations

from django.db.models import Q

from chuangwen.core.roles import Role
from chuangwen.org.models import Membership, Unit


def _ancestor_paths(school: Unit) -> list[str]:
    parts = [p for p in school.path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


def holders(school: Unit, roles, *, standard=None) -> list[int]:
    """User ids holding any of `roles` for this school.

    School roles are looked up on the school itself; bureau roles on the units above it. Department
    heads are taken from the standard's lead department when it has one.
    """
    roles = set(roles)
    ids: list[int] = []
    school_roles = roles & {Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST, Role.TEACHER}
    if school_roles:
        ids += Membership.objects.filter(
            unit=school, role__in=school_roles, user__is_active=True
        ).values_list("user_id", flat=True)
    bureau_roles = roles & {Role.LEADER, Role.OFFICE, Role.INSPECTOR, Role.ADMIN}
    above = _ancestor_paths(school)
    if Role.DEPT_HEAD in roles:
        department = getattr(standard, "lead_department", None) if standard is not None else None
        qs = Membership.objects.filter(role=Role.DEPT_HEAD, user__is_active=True)
        if department is not None:
            found = list(qs.filter(unit=department).values_list("user_id", flat=True))
        else:
            found = []
        if not found and above:  # no lead department, or nobody in it: the department heads above the school
            found = list(
                qs.filter(Q(unit__path__in=above) | Q(unit__parent__path__in=above)).values_list(
                    "user_id", flat=True
                )
            )
        ids += found
    if bureau_roles and above:
        ids += Membership.objects.filter(
            unit__path__in=above, role__in=bureau_roles, user__is_active=True
        ).values_list("user_id", flat=True)
    return list(dict.fromkeys(ids))
