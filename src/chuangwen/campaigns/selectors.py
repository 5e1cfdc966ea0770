"""Reads of campaigns and rounds. `visible_rounds` is the one rule of who sees which round."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from chuangwen.core import access
from chuangwen.core.roles import SCHOOL_ROLES, Role
from chuangwen.org.models import Unit

from .models import Campaign, Round, RoundInspector, RoundSchool

# Bureau roles that oversee rounds: they see every round covering a school in their reach.
OVERSEER_ROLES = frozenset({Role.ADMIN, Role.LEADER, Role.OFFICE, Role.DEPT_HEAD})
# Who may be assigned to inspect a round.
INSPECTOR_ROLES = frozenset({Role.INSPECTOR, Role.OFFICE})


def _schools_in(paths: list[str]) -> Q:
    """Rounds covering a school under `paths`, as EXISTS over the round's schools: it stops at the first
    match, where a join read every round × school row (twice the time with 30 rounds of 60 schools) and
    needed a second pass to drop the duplicates."""
    if not paths:
        return Q(pk__in=[])
    covered = RoundSchool.objects.filter(access.path_q(paths, "school__path"), round=OuterRef("pk"))
    return Q(Exists(covered))


def visible_rounds(user) -> QuerySet:
    """The rounds `user` may see.

    - Overseers (系统管理员, 局领导, 创文办, 科室负责人): every round covering a school in their reach.
    - 督查员: the rounds they are assigned to, plus the announced rounds covering a school in their reach.
    - School roles: the rounds that include their school, except an unannounced (暗访) round, which stays
      hidden from a school until it is finished or until THAT school's inspection in it is submitted;
      the other schools of the round still do not see it (nor learn that it exists).
    """
    scope = access.scope_of(user)
    if not user.is_authenticated:
        return Round.objects.none()
    if scope.everything:
        return Round.objects.all()
    announced = ~Q(kind=Round.Kind.UNANNOUNCED)
    q = _schools_in(scope.paths(OVERSEER_ROLES))
    if Role.INSPECTOR in scope.roles:
        assigned = RoundInspector.objects.filter(round=OuterRef("pk"), user=user)
        q |= Q(Exists(assigned)) | (announced & _schools_in(scope.paths(frozenset({Role.INSPECTOR}))))
    school_paths = scope.paths(SCHOOL_ROLES)
    if school_paths:
        q |= (announced | Q(status=Round.Status.FINISHED)) & _schools_in(school_paths)
        q |= Q(pk__in=_inspected_rounds(school_paths))
    return Round.objects.filter(q)  # no joins: no duplicates


def _inspected_rounds(paths: list[str]) -> QuerySet:
    """Ids of the rounds in which a school under `paths` has a submitted inspection (the embargo lift)."""
    from chuangwen.inspections.models import Inspection

    q = Q(pk__in=[])
    for p in paths:
        q |= Q(school__path__startswith=p)
    return Inspection.objects.filter(q, status=Inspection.Status.SUBMITTED).values("round_id")


def sees_whole_round(user, round_: Round) -> bool:
    """Whether the user sees every school and the sampling of a (visible) round, not only their own."""
    scope = access.scope_of(user)
    if scope.everything or scope.paths(OVERSEER_ROLES):
        return True
    return round_.inspectors.filter(pk=user.pk).exists() or (
        Role.INSPECTOR in scope.roles and round_.kind != Round.Kind.UNANNOUNCED
    )


def round_list(*, user, campaign_id: int | None = None) -> QuerySet:
    qs = visible_rounds(user).select_related("campaign", "campaign__edition")
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    return qs.annotate(school_count=Count("round_schools", distinct=True)).order_by("-start_date", "-pk")


def round_schools(*, user, round_: Round) -> QuerySet:
    """The schools of a round the user may see: all of them, or only those in a school user's reach."""
    qs = Unit.objects.filter(round_entries__round=round_).order_by("path")
    if sees_whole_round(user, round_):
        return qs
    return access.filter_by_reach(qs, user, path_field="path", roles=SCHOOL_ROLES)


def campaign_list() -> QuerySet:
    return Campaign.objects.select_related("edition").order_by("-start_date", "-pk")


def inspector_candidates() -> QuerySet:
    """Active users holding 督查员 or 创文办."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__role__in=INSPECTOR_ROLES)
        .distinct()
        .order_by("name", "username")
    )


def followed_problem_ids(round_: Round) -> list[int]:
    """The problems a 跟踪督查 round follows, as recorded when it was created (empty for other rounds)."""
    from chuangwen.core.models import AuditEvent

    event = (
        AuditEvent.objects.filter(
            event_type="round.follow_up", object_type=Round._meta.label_lower, object_id=str(round_.pk)
        )
        .order_by("-pk")
        .first()
    )
    return list(event.data.get("problems", [])) if event is not None else []


def _active_campaigns() -> QuerySet:
    return Campaign.objects.filter(status=Campaign.Status.ACTIVE).order_by("-start_date", "-pk")


def active_edition():
    """The evaluation-index edition of the latest active campaign (创建周期), or None: the standards a
    problem recorded today is checked against."""
    campaign = _active_campaigns().select_related("edition").first()
    return campaign.edition if campaign else None


def active_edition_id() -> QuerySet:
    """`active_edition`'s id as a one-row values queryset, to use as a subquery."""
    return _active_campaigns().values("edition_id")[:1]


SHANGHAI = ZoneInfo("Asia/Shanghai")


def days_window(start_date: dt.date, end_date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A campaign's dates as [start, end) instants: whole days in Asia/Shanghai."""
    start = dt.datetime.combine(start_date, dt.time.min, tzinfo=SHANGHAI)
    end = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)
    return start, end


def problems_in(campaign: Campaign) -> Q:
    """The one rule of which problems belong to a campaign (创建周期), as a filter on problems: those
    found in its rounds, plus those recorded outside any round (日常检查, 群众反映) on one of its days.
    The rounds are a subquery, not a join: both databases test each row against a small set of ids."""
    start, end = days_window(campaign.start_date, campaign.end_date)
    rounds = Round.objects.filter(campaign_id=campaign.pk).order_by().values("pk")
    return Q(round_id__in=rounds) | Q(round_id__isnull=True, found_at__gte=start, found_at__lt=end)
