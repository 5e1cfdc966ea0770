"""Who may assign, hand over and plan: built on core.access so the reach rules stay in one place."""

from __future__ import annotations

from django.db.models import QuerySet

from chuangwen.core import access
from chuangwen.core.roles import Role

# Bureau-wide assignment (rules, Excel, bureau persons) and handover anywhere.
BUREAU_ASSIGNERS = frozenset({Role.ADMIN, Role.OFFICE})
# One-by-one assignment and work-plan tasks at a school: the bureau office, or the school's own head/liaison.
SCHOOL_ASSIGNERS = BUREAU_ASSIGNERS | {Role.SCHOOL_HEAD, Role.LIAISON}
# Handover: the bureau office anywhere; a school head for the people of their school.
HANDOVER_ROLES = BUREAU_ASSIGNERS | {Role.SCHOOL_HEAD}


def can_assign_bureau(user) -> bool:
    return access.scope_of(user).everything or access.has_role(user, *BUREAU_ASSIGNERS)


def can_assign_at(user, school) -> bool:
    return access.reaches(user, school, SCHOOL_ASSIGNERS)


def can_plan_at(user, school) -> bool:
    return access.reaches(user, school, SCHOOL_ASSIGNERS)


def can_hand_over(user) -> bool:
    return access.scope_of(user).everything or access.has_role(user, *HANDOVER_ROLES)


def handover_schools(user) -> QuerySet:
    """The schools whose responsibilities the user may hand over."""
    return access.filter_by_reach(
        access.visible_schools(user), user, path_field="path", roles=frozenset(HANDOVER_ROLES)
    )


def can_update_task(user, task) -> bool:
    return task.assignee_id == user.pk or can_plan_at(user, task.school)
