"""Who may see and change which units and rows: the one place that decides.

Every view, API endpoint, export and import asks these functions; nothing filters by role on its own.

Rules
- A role is held on a unit. It reaches that unit's subtree, except that bureau roles (系统管理员, 局领导,
  创文办, 科室负责人, 督查员) held on the bureau or one of its departments reach the whole bureau tree.
- A superuser is treated as 系统管理员 of everything.
- Changing units and schools, and importing them: 系统管理员 and 创文办 within their reach.
- Maintaining classes: as above, plus 学校一把手 and 创文联络员 of that school.
- Managing evaluation-index editions (and seeing drafts): 系统管理员 and 创文办; every role reads
  published and archived editions.
- Managing users and roles: 系统管理员.

The org models are looked up lazily so that `core` does not import the apps that depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from .roles import BUREAU_ROLES, CLASS_MANAGER_ROLES, UNIT_MANAGER_ROLES, Role

_CACHE_ATTR = "_chuangwen_scope"
_REACH_ATTR = "_chuangwen_reaches_all"
_MEMO_ATTR = "_chuangwen_memo"


@dataclass(frozen=True)
class Grant:
    role: str
    unit_id: int
    reach_path: str  # the path prefix of the subtree this grant reaches


@dataclass(frozen=True)
class Scope:
    everything: bool
    grants: tuple[Grant, ...]

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants) | (
            frozenset({Role.ADMIN}) if self.everything else frozenset()
        )

    def paths(self, roles: frozenset[str] | None = None) -> list[str]:
        """The minimal set of path prefixes reached by the grants (optionally of some roles only)."""
        prefixes = sorted({g.reach_path for g in self.grants if roles is None or g.role in roles})
        minimal: list[str] = []
        for p in prefixes:
            if not any(p.startswith(m) for m in minimal):
                minimal.append(p)
        return minimal


NOTHING = Scope(everything=False, grants=())


def _unit_model():
    return apps.get_model("org", "Unit")


def _membership_model():
    return apps.get_model("org", "Membership")


def scope_of(user) -> Scope:
    """The user's reach, computed once per request (cached on the user object)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    rows = (
        _membership_model()
        .objects.filter(user=user, unit__is_active=True)
        .values_list("role", "unit_id", "unit__path", "unit__kind")
    )
    grants = []
    for role, unit_id, path, kind in rows:
        reach = path
        if role in BUREAU_ROLES and kind in ("bureau", "department"):
            reach = "/" + path.strip("/").split("/")[0] + "/"
        grants.append(Grant(role=role, unit_id=unit_id, reach_path=reach))
    scope = Scope(everything=bool(user.is_superuser), grants=tuple(grants))
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget(user) -> None:
    """Drop the cached scope, after the user's roles changed."""
    if user is not None:
        for attr in (_CACHE_ATTR, _REACH_ATTR, _MEMO_ATTR):
            if hasattr(user, attr):
                delattr(user, attr)


def remember(user, key: str, compute):
    """`compute()` once per user object (one request), like the scope: for small facts about the user that
    several reads of one page need (e.g. whether they are responsible for any problem). `forget` drops it."""
    memo = getattr(user, _MEMO_ATTR, None)
    if memo is None:
        memo = {}
        setattr(user, _MEMO_ATTR, memo)
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def roles_of(user) -> frozenset[str]:
    return scope_of(user).roles


def role_label(user) -> str:
    roles = roles_of(user)
    return "、".join(label for value, label in Role.choices if value in roles)


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_system_admin(user) -> bool:
    return Role.ADMIN in roles_of(user)


def is_bureau_staff(user) -> bool:
    return bool(roles_of(user) & BUREAU_ROLES)


def reaches_every_unit(user, roles: frozenset[str] | None = None) -> bool:
    """Whether the user's grants (of `roles`, when given) reach every unit there is: a superuser, or
    grants whose paths include every top-level unit's (in a one-city install: any bureau role held on
    the bureau). Lets a list skip the path filter entirely. One small query, remembered on the user
    object for the request like the scope."""
    scope = scope_of(user)
    if scope.everything:
        return True
    paths = scope.paths(roles)
    if not paths:
        return False
    # Remembered per set of paths (several role sets usually give the same paths: one query a request).
    known = getattr(user, _REACH_ATTR, None)
    if known is None:
        known = {}
        setattr(user, _REACH_ATTR, known)
    key = tuple(paths)
    if key not in known:
        known[key] = not _unit_model().objects.filter(parent__isnull=True).exclude(path__in=paths).exists()
    return known[key]


def path_q(paths: list[str], path_field: str) -> Q:
    """Rows whose `path_field` lies under any of `paths` (nothing when there are none)."""
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{path_field}__startswith": p})
    return q


def filter_by_reach(qs: QuerySet, user, *, path_field: str, roles: frozenset[str] | None = None) -> QuerySet:
    """Narrow any queryset to rows whose unit path lies within the user's reach."""
    scope = scope_of(user)
    if scope.everything:
        return qs
    paths = scope.paths(roles)
    if not paths:
        return qs.none()
    return qs.filter(path_q(paths, path_field))


def visible_units(user) -> QuerySet:
    return filter_by_reach(_unit_model().objects.all(), user, path_field="path")


def visible_schools(user) -> QuerySet:
    return visible_units(user).filter(kind="school")


def visible_classes(user) -> QuerySet:
    klass = apps.get_model("org", "SchoolClass")
    return filter_by_reach(klass.objects.all(), user, path_field="school__path")


def reaches(user, unit, roles: frozenset[str] | None = None) -> bool:
    """Whether the unit lies in the user's reach (through grants of `roles` only, when given)."""
    scope = scope_of(user)
    if scope.everything:
        return True
    return any(unit.path.startswith(p) for p in scope.paths(roles))


def can_view_unit(user, unit) -> bool:
    return reaches(user, unit)


def can_change_unit(user, unit) -> bool:
    return reaches(user, unit, UNIT_MANAGER_ROLES)


def can_manage_units(user) -> bool:
    """May create units and import schools (somewhere)."""
    return scope_of(user).everything or has_role(user, *UNIT_MANAGER_ROLES)


def can_change_classes(user, school) -> bool:
    return reaches(user, school, UNIT_MANAGER_ROLES | CLASS_MANAGER_ROLES)


def class_import_schools(user) -> QuerySet:
    """Schools whose classes the user may import."""
    return filter_by_reach(
        _unit_model().objects.filter(kind="school"),
        user,
        path_field="path",
        roles=UNIT_MANAGER_ROLES | CLASS_MANAGER_ROLES,
    )


def can_import_classes(user) -> bool:
    return scope_of(user).everything or has_role(user, *(UNIT_MANAGER_ROLES | CLASS_MANAGER_ROLES))


def runs_the_city(user, roles: frozenset[str] = UNIT_MANAGER_ROLES) -> bool:
    """Whether the user holds one of `roles` for the whole city (on the bureau, or a superuser): what
    city-wide things need — the evaluation index, campaigns and rounds, the ledger's rules, bulletins
    and their 文号, the card rules, the audit log. The same role held on a district (a 区县创文办) reaches
    that district's schools and problems only and manages none of these (decision 0024)."""
    return reaches_every_unit(user, roles)


def can_manage_index(user) -> bool:
    """May create, edit, publish and archive evaluation-index editions (and see drafts)."""
    return runs_the_city(user)


def can_manage_campaigns(user) -> bool:
    """May create campaigns and rounds, assign inspectors and move rounds along, and act for the city's
    创文办 elsewhere (ledger rules and bulk moves, bulletins, card rules, mock evaluation): 创文办 or
    系统管理员 held for the whole city.

    Who may see which round is `chuangwen.campaigns.selectors.visible_rounds`.
    """
    return runs_the_city(user)


def can_manage_users(user) -> bool:
    return is_system_admin(user)


def can_view_audit(user) -> bool:
    """The audit log is the whole city's: 系统管理员, 局领导 and 创文办 held for the whole city."""
    return runs_the_city(user, frozenset({Role.ADMIN, Role.LEADER, Role.OFFICE}))


def require(allowed: bool) -> None:
    """Raise PermissionDenied (403) unless allowed."""
    if not allowed:
        raise PermissionDenied("您没有权限执行此操作")
