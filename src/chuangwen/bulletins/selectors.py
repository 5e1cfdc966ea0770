"""Reads of bulletins, and the one rule of who sees and manages which bulletin.

- 创文办 and 系统管理员 (campaign managers) draft, edit, issue and reissue; they see every bulletin,
  drafts included.
- Other bureau roles (局领导, 科室负责人, 督查员) read issued bulletins: all of them when their role is
  held on the city bureau, else those sent to a school in their reach (a district office).
- School roles read the issued bulletins sent to their school: addressed to every school in scope, or
  naming it (commended, criticised, or with problems listed) when addressed to those schools only.
"""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, QuerySet

from chuangwen.core import access
from chuangwen.core.roles import BUREAU_ROLES, SCHOOL_ROLES
from chuangwen.org.models import Unit

from .models import Bulletin, BulletinSchedule


def can_manage_bulletins(user) -> bool:
    return access.can_manage_campaigns(user)


def visible_bulletins(user) -> QuerySet[Bulletin]:
    if not getattr(user, "is_authenticated", False):
        return Bulletin.objects.none()
    if can_manage_bulletins(user):
        return Bulletin.objects.all()
    issued = Bulletin.objects.filter(status=Bulletin.Status.ISSUED)
    if access.reaches_every_unit(user, BUREAU_ROLES):
        return issued
    scope = access.scope_of(user)
    paths = scope.paths(BUREAU_ROLES | SCHOOL_ROLES)
    if not paths:
        return Bulletin.objects.none()
    through = Bulletin.recipients.through
    reached = through.objects.filter(
        access.path_q(paths, "unit__path"), bulletin_id=OuterRef("pk"), unit__kind=Unit.Kind.SCHOOL
    )
    return issued.filter(Exists(reached))


def bulletin_list(user, *, status: str = "") -> QuerySet[Bulletin]:
    qs = visible_bulletins(user).select_related("campaign", "round", "issued_by", "reissue_of")
    if status in Bulletin.Status.values:
        qs = qs.filter(status=status)
    # Drafts first (they need work), then the issued ones, newest first, on every database.
    return qs.order_by(F("issued_at").desc(nulls_first=True), "-created_at", "-pk")


def drafts_list() -> QuerySet[Bulletin]:
    return Bulletin.objects.filter(status=Bulletin.Status.DRAFT).order_by("-created_at", "-pk")


def schedules() -> QuerySet[BulletinSchedule]:
    return BulletinSchedule.objects.select_related("campaign").order_by("name", "pk")


def selectable_schools(bulletin: Bulletin) -> QuerySet[Unit]:
    """The schools a draft may commend or criticise: those of its round, or every active school."""
    qs = Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True)
    if bulletin.round_id:
        qs = qs.filter(inspection_rounds=bulletin.round_id)
    return qs.order_by("name", "pk")
