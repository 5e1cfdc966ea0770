"""Every change to units, roles and classes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from chuangwen.core import access, audit

from .models import Membership, SchoolClass, Unit

UNIT_FIELDS = (
    "kind",
    "name",
    "code",
    "parent",
    "school_type",
    "ownership",
    "address",
    "enrolment",
    "staff_count",
    "is_active",
)


@transaction.atomic
def unit_create(*, actor=None, request=None, **fields) -> Unit:
    unknown = set(fields) - set(UNIT_FIELDS)
    if unknown:
        raise TypeError(f"unknown unit fields: {sorted(unknown)}")
    unit = Unit(**fields)
    unit.full_clean()
    unit.save()
    audit.record(
        "unit.create", actor=actor, request=request, obj=unit, data={"kind": unit.kind, "code": unit.code}
    )
    return unit


@transaction.atomic
def unit_update(*, unit: Unit, actor=None, request=None, **fields) -> Unit:
    unknown = set(fields) - set(UNIT_FIELDS)
    if unknown:
        raise TypeError(f"unknown unit fields: {sorted(unknown)}")
    changed = []
    for name, value in fields.items():
        if getattr(unit, name) != value:
            setattr(unit, name, value)
            changed.append(name)
    if not changed:
        return unit
    if unit.parent_id and unit.parent.path.startswith(unit.path):
        raise ValidationError({"parent": "上级单位不能是本单位或其下级"})
    unit.full_clean()
    unit.save()
    audit.record("unit.update", actor=actor, request=request, obj=unit, data={"changed": changed})
    return unit


@transaction.atomic
def membership_grant(*, user, unit: Unit, role: str, title: str = "", actor=None, request=None) -> Membership:
    membership = Membership.objects.filter(user=user, unit=unit, role=role).first()
    if membership is not None:
        return membership
    membership = Membership(user=user, unit=unit, role=role, title=title.strip())
    membership.full_clean(validate_unique=False)
    membership.save()
    access.forget(user)
    audit.record(
        "role.grant",
        actor=actor,
        request=request,
        obj=user,
        data={"unit": unit.name, "unit_id": unit.pk, "role": role, "title": membership.title},
    )
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership, actor=None, request=None) -> None:
    user, unit, role = membership.user, membership.unit, membership.role
    membership.delete()
    access.forget(user)
    audit.record(
        "role.revoke",
        actor=actor,
        request=request,
        obj=user,
        data={"unit": unit.name, "unit_id": unit.pk, "role": role},
    )


CLASS_FIELDS = ("grade", "name", "head_teacher_name", "head_teacher", "student_count")


@transaction.atomic
def class_create(*, school: Unit, actor=None, request=None, **fields) -> SchoolClass:
    if not school.is_school:
        raise ValidationError("班级只能属于学校")
    klass = SchoolClass(school=school, **{k: v for k, v in fields.items() if k in CLASS_FIELDS})
    klass.full_clean()
    klass.save()
    audit.record(
        "class.create",
        actor=actor,
        request=request,
        obj=klass,
        data={"school": school.name, "student_count": klass.student_count},
    )
    return klass


@transaction.atomic
def class_update(*, klass: SchoolClass, actor=None, request=None, **fields) -> SchoolClass:
    changed = []
    for name, value in fields.items():
        if name not in CLASS_FIELDS:
            raise TypeError(f"unknown class field: {name}")
        if getattr(klass, name) != value:
            setattr(klass, name, value)
            changed.append(name)
    if changed:
        klass.full_clean()
        klass.save()
        audit.record("class.update", actor=actor, request=request, obj=klass, data={"changed": changed})
    return klass


@transaction.atomic
def class_delete(*, klass: SchoolClass, actor=None, request=None) -> None:
    audit.record("class.delete", actor=actor, request=request, obj=klass, data={"school": klass.school.name})
    klass.delete()
