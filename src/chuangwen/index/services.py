"""Every change to evaluation-index editions, their groups and standards.

Access is checked by the adapters (views, API, admin) through `core.access.can_manage_index`; the
services guard the data: only drafts change, the lifecycle follows TRANSITIONS, every change is audited.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from chuangwen.core import audit
from chuangwen.org.models import Unit

from .models import MAX_GROUP_DEPTH, Edition, EditionLocked, Group, Method, ScoringKind, Standard

Status = Edition.Status


class TransitionRefused(ValidationError):
    """An edition cannot move to the requested status (not allowed, or not ready)."""


# Lifecycle as data: (from, to) → the audit verb. Anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.DRAFT, Status.PUBLISHED): "publish",
    (Status.PUBLISHED, Status.ARCHIVED): "archive",
}

EDITION_FIELDS = ("name", "code", "description")
GROUP_FIELDS = ("code", "title")
STANDARD_FIELDS = (
    "code",
    "text",
    "points",
    "methods",
    "school_types",
    "materials",
    "lead_department",
    "responsible_text",
    "check_protocol",
    "scoring_kind",
    "scoring_params",
    "negative_list",
)
METHOD_CODES = frozenset(Method.values)
SCHOOL_TYPE_CODES = frozenset(Unit.SchoolType.values)


def _check_fields(fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")


# ---------------------------------------------------------------- editions


@transaction.atomic
def edition_create(
    *, actor=None, request=None, name: str, code: str, description: str = "", is_reference: bool = False
) -> Edition:
    """Create an empty draft."""
    edition = Edition(
        name=name.strip(), code=code.strip(), description=description, is_reference=is_reference
    )
    edition.full_clean()
    edition.save()
    audit.record(
        "index.edition_create", actor=actor, request=request, obj=edition, data={"code": edition.code}
    )
    return edition


@transaction.atomic
def edition_update(*, edition: Edition, actor=None, request=None, **fields) -> Edition:
    _check_fields(fields, EDITION_FIELDS)
    edition = Edition.objects.select_for_update().get(pk=edition.pk)
    edition.ensure_draft()
    changed = [name for name, value in fields.items() if getattr(edition, name) != value]
    for name in changed:
        setattr(edition, name, fields[name])
    if changed:
        edition.full_clean()
        edition.save(update_fields=[*changed, "updated_at"])
        audit.record(
            "index.edition_update", actor=actor, request=request, obj=edition, data={"changed": changed}
        )
    return edition


@transaction.atomic
def edition_delete(*, edition: Edition, actor=None, request=None) -> None:
    """Delete a draft (published and archived editions are kept for ever: later work refers to them)."""
    edition = Edition.objects.select_for_update().get(pk=edition.pk)
    edition.ensure_draft()
    audit.record(
        "index.edition_delete", actor=actor, request=request, obj=edition, data={"code": edition.code}
    )
    edition.delete()


@transaction.atomic
def edition_copy(
    *, edition: Edition, actor=None, request=None, name: str, code: str, description: str | None = None
) -> Edition:
    """Deep-copy an edition's groups and standards into a new draft based on it."""
    copy = Edition(
        name=name.strip(),
        code=code.strip(),
        description=edition.description if description is None else description,
        based_on=edition,
    )
    copy.full_clean()
    copy.save()
    groups = list(Group.objects.filter(edition=edition).order_by("depth", "position", "pk"))
    new_id: dict[int, int] = {}
    for depth in sorted({g.depth for g in groups}):
        level = [g for g in groups if g.depth == depth]
        created = Group.objects.bulk_create(
            [
                Group(
                    edition=copy,
                    parent_id=new_id[g.parent_id] if g.parent_id else None,
                    depth=g.depth,
                    code=g.code,
                    title=g.title,
                    position=g.position,
                )
                for g in level
            ]
        )
        new_id.update({old.pk: new.pk for old, new in zip(level, created, strict=True)})
    standards = [
        Standard(
            edition=copy,
            group_id=new_id[s.group_id],
            position=s.position,
            **{f: getattr(s, f) for f in STANDARD_FIELDS if f != "lead_department"},
            lead_department_id=s.lead_department_id,
        )
        for s in Standard.objects.filter(edition=edition).order_by("position", "pk")
    ]
    Standard.objects.bulk_create(standards, batch_size=500)
    audit.record(
        "index.edition_copy",
        actor=actor,
        request=request,
        obj=copy,
        data={"from": edition.code, "groups": len(groups), "standards": len(standards)},
    )
    return copy


def publish_problems(edition: Edition) -> list[str]:
    """Why the edition cannot be published yet (empty when it can)."""
    problems = []
    standards = list(Standard.objects.filter(edition=edition).order_by("position", "pk"))
    if not standards:
        return ["没有任何测评标准，不能发布"]
    for s in standards:
        missing = []
        if s.points is None or (s.points <= 0 and not s.negative_list):
            missing.append("分值")
        if not s.methods:
            missing.append("测评方法")
        if not s.school_types:
            missing.append("适用学校类型")
        if missing:
            problems.append(f"标准 {s.code} 缺少{'、'.join(missing)}")
    return problems


@transaction.atomic
def edition_transition(*, edition: Edition, to: str, actor=None, request=None) -> Edition:
    """Move an edition along its lifecycle; refuse any move TRANSITIONS does not list."""
    edition = Edition.objects.select_for_update().get(pk=edition.pk)
    verb = TRANSITIONS.get((edition.status, to))
    if verb is None:
        labels = dict(Status.choices)
        raise TransitionRefused(
            f"“{edition.name}”当前为{labels.get(edition.status, edition.status)}，"
            f"不能变为{labels.get(to, to)}"
        )
    fields = ["status", "updated_at"]
    if to == Status.PUBLISHED:
        problems = publish_problems(edition)
        if problems:
            raise TransitionRefused(problems)
        edition.published_at = timezone.now()
        edition.published_by = actor if actor is not None and actor.pk else None
        fields += ["published_at", "published_by"]
    previous = edition.status
    edition.status = to
    edition.save(update_fields=fields)
    audit.record(
        f"index.edition_{verb}",
        actor=actor,
        request=request,
        obj=edition,
        data={"code": edition.code, "from": previous, "to": to},
    )
    return edition


def edition_publish(*, edition: Edition, actor=None, request=None) -> Edition:
    return edition_transition(edition=edition, to=Status.PUBLISHED, actor=actor, request=request)


def edition_archive(*, edition: Edition, actor=None, request=None) -> Edition:
    return edition_transition(edition=edition, to=Status.ARCHIVED, actor=actor, request=request)


# ---------------------------------------------------------------- groups


def _locked_edition(edition_id: int) -> Edition:
    edition = Edition.objects.select_for_update().get(pk=edition_id)
    edition.ensure_draft()
    return edition


def _next_position(qs) -> int:
    return (qs.aggregate(m=Max("position"))["m"] or 0) + 1


@transaction.atomic
def group_create(
    *, edition: Edition, actor=None, request=None, title: str, code: str = "", parent: Group | None = None
) -> Group:
    edition = _locked_edition(edition.pk)
    if parent is not None and parent.edition_id != edition.pk:
        raise ValidationError({"parent": "上级分组不属于本版本"})
    depth = parent.depth + 1 if parent is not None else 1
    if depth > MAX_GROUP_DEPTH:
        raise ValidationError({"parent": f"分组最多{MAX_GROUP_DEPTH}级"})
    group = Group(
        edition=edition,
        parent=parent,
        depth=depth,
        code=code.strip(),
        title=title.strip(),
        position=_next_position(Group.objects.filter(edition=edition, parent=parent)),
    )
    group.full_clean()
    group.save()
    audit.record(
        "index.group_create", actor=actor, request=request, obj=group, data={"edition": edition.code}
    )
    return group


@transaction.atomic
def group_update(*, group: Group, actor=None, request=None, **fields) -> Group:
    _check_fields(fields, GROUP_FIELDS)
    _locked_edition(group.edition_id)
    changed = [name for name, value in fields.items() if getattr(group, name) != value]
    for name in changed:
        setattr(group, name, fields[name].strip())
    if changed:
        group.full_clean()
        group.save()
        audit.record("index.group_update", actor=actor, request=request, obj=group, data={"changed": changed})
    return group


@transaction.atomic
def group_delete(*, group: Group, actor=None, request=None) -> None:
    """Delete a group with everything below it."""
    _locked_edition(group.edition_id)
    audit.record(
        "index.group_delete",
        actor=actor,
        request=request,
        obj=group,
        data={"standards": Standard.objects.filter(group__in=_subtree_ids(group)).count()},
    )
    group.delete()


def _subtree_ids(group: Group) -> list[int]:
    ids, frontier = [group.pk], [group.pk]
    while frontier:
        frontier = list(Group.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids += frontier
    return ids


# ---------------------------------------------------------------- standards


def _clean_standard(standard: Standard) -> None:
    errors: dict[str, str] = {}
    bad = [m for m in standard.methods or [] if m not in METHOD_CODES]
    if bad:
        errors["methods"] = f"未知的测评方法：{'、'.join(map(str, bad))}"
    bad = [t for t in standard.school_types or [] if t not in SCHOOL_TYPE_CODES]
    if bad:
        errors["school_types"] = f"未知的学校类型：{'、'.join(map(str, bad))}"
    if standard.points is not None and Decimal(standard.points) < 0:
        errors["points"] = "分值不能为负数"
    if standard.lead_department_id and standard.lead_department.kind != Unit.Kind.DEPARTMENT:
        errors["lead_department"] = "牵头科室必须是局机关科室"
    if standard.scoring_kind == ScoringKind.DEDUCTION:
        params = standard.scoring_params or {}
        try:
            per = Decimal(str(params.get("per", "")))
            if per <= 0:
                raise ValueError
        except (ArithmeticError, ValueError):
            errors["scoring_params"] = "按次扣分须填写每次扣分（大于0）"
    clash = Standard.objects.filter(edition_id=standard.edition_id, code=standard.code).exclude(
        pk=standard.pk
    )
    if clash.exists():
        errors["code"] = f"编号 {standard.code} 在本版本中已存在"
    if errors:
        raise ValidationError(errors)
    standard.full_clean(
        exclude=["methods", "school_types", "materials", "scoring_params", "edition", "group"],
        validate_unique=False,
        validate_constraints=False,
    )


@transaction.atomic
def standard_create(*, group: Group, actor=None, request=None, **fields) -> Standard:
    _check_fields(fields, STANDARD_FIELDS)
    _locked_edition(group.edition_id)
    fields.setdefault("methods", [])
    fields.setdefault("school_types", [])
    fields.setdefault("materials", [])
    standard = Standard(
        edition_id=group.edition_id,
        group=group,
        position=_next_position(Standard.objects.filter(edition_id=group.edition_id)),
        **fields,
    )
    _clean_standard(standard)
    standard.save()
    audit.record(
        "index.standard_create",
        actor=actor,
        request=request,
        obj=standard,
        data={"code": standard.code, "points": str(standard.points)},
    )
    return standard


@transaction.atomic
def standard_update(*, standard: Standard, actor=None, request=None, **fields) -> Standard:
    _check_fields(fields, STANDARD_FIELDS)
    _locked_edition(standard.edition_id)
    changed = [name for name, value in fields.items() if getattr(standard, name) != value]
    for name in changed:
        setattr(standard, name, fields[name])
    if changed:
        _clean_standard(standard)
        standard.save()
        audit.record(
            "index.standard_update",
            actor=actor,
            request=request,
            obj=standard,
            data={"code": standard.code, "changed": changed},
        )
    return standard


@transaction.atomic
def standard_delete(*, standard: Standard, actor=None, request=None) -> None:
    _locked_edition(standard.edition_id)
    audit.record(
        "index.standard_delete", actor=actor, request=request, obj=standard, data={"code": standard.code}
    )
    standard.delete()


def _swap_with_neighbour(obj, siblings, *, up: bool) -> bool:
    """Swap `obj`'s position with the previous (or next) of its siblings; False at either end."""
    siblings = siblings.exclude(pk=obj.pk)
    if up:
        neighbour = siblings.filter(position__lte=obj.position).order_by("-position", "-pk").first()
    else:
        neighbour = siblings.filter(position__gte=obj.position).order_by("position", "pk").first()
    if neighbour is None:
        return False
    if neighbour.position == obj.position:
        neighbour.position += -1 if up else 1
    obj.position, neighbour.position = neighbour.position, obj.position
    # update(): positions only, no per-row save (the edition was checked to be a draft by the caller).
    type(obj).objects.filter(pk=obj.pk).update(position=obj.position)
    type(obj).objects.filter(pk=neighbour.pk).update(position=neighbour.position)
    return True


@transaction.atomic
def standard_move(*, standard: Standard, up: bool, actor=None, request=None) -> Standard:
    """Swap a standard with its neighbour in the same group."""
    _locked_edition(standard.edition_id)
    if _swap_with_neighbour(standard, Standard.objects.filter(group_id=standard.group_id), up=up):
        audit.record("index.standard_move", actor=actor, request=request, obj=standard, data={"up": up})
    return standard


@transaction.atomic
def group_move(*, group: Group, up: bool, actor=None, request=None) -> Group:
    """Swap a group with its neighbour under the same parent."""
    _locked_edition(group.edition_id)
    siblings = Group.objects.filter(edition_id=group.edition_id, parent_id=group.parent_id)
    if _swap_with_neighbour(group, siblings, up=up):
        audit.record("index.group_move", actor=actor, request=request, obj=group, data={"up": up})
    return group


__all__ = [
    "TRANSITIONS",
    "EditionLocked",
    "TransitionRefused",
    "edition_archive",
    "edition_copy",
    "edition_create",
    "edition_delete",
    "edition_publish",
    "edition_transition",
    "edition_update",
    "group_create",
    "group_delete",
    "group_move",
    "group_update",
    "publish_problems",
    "standard_create",
    "standard_delete",
    "standard_move",
    "standard_update",
]
