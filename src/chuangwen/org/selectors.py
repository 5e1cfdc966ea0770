"""Reads of the organisation, always through the access functions."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from chuangwen.core import access

from .models import HUGE_CLASS_MIN, LARGE_CLASS_MIN, Membership, SchoolClass, Unit


def unit_list(
    *,
    user,
    q: str = "",
    kind: str = "",
    school_type: str = "",
    district: str = "",
    ownership: str = "",
    with_class_count: bool = True,
) -> QuerySet[Unit]:
    qs = access.visible_units(user)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(address__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    if school_type:
        qs = qs.filter(school_type=school_type)
    if ownership:
        qs = qs.filter(ownership=ownership)
    if district:
        qs = qs.filter(parent_id=int(district)) if str(district).isdigit() else qs.none()
    if not with_class_count:
        return qs.order_by("path")
    # A correlated subquery, not JOIN + GROUP BY over every class: a page counts only its own rows, and
    # the paginator's count() stays a plain COUNT(*).
    classes = SchoolClass.objects.filter(school=OuterRef("pk")).order_by().values("school")
    class_count = Coalesce(Subquery(classes.annotate(n=Count("id")).values("n")), 0)
    return qs.select_related("parent").annotate(class_count=class_count).order_by("path")


def school_list(*, user, **filters) -> QuerySet[Unit]:
    return unit_list(user=user, kind=Unit.Kind.SCHOOL, **filters)


def districts_for(user) -> QuerySet[Unit]:
    return access.visible_units(user).filter(kind=Unit.Kind.DISTRICT).order_by("name")


def class_list(*, user, school: Unit | None = None) -> QuerySet[SchoolClass]:
    qs = access.visible_classes(user).select_related("school", "head_teacher")
    if school is not None:
        qs = qs.filter(school=school)
    return qs


def class_summary(qs: QuerySet[SchoolClass]) -> dict:
    return qs.aggregate(
        classes=Count("id"),
        students=Sum("student_count"),
        large=Count("id", filter=Q(student_count__gte=LARGE_CLASS_MIN, student_count__lt=HUGE_CLASS_MIN)),
        huge=Count("id", filter=Q(student_count__gte=HUGE_CLASS_MIN)),
    )


def unit_members(unit: Unit) -> QuerySet[Membership]:
    return Membership.objects.filter(unit=unit).select_related("user").order_by("role", "user__name")
