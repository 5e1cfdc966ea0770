"""What changed between two editions: standards matched by code, groups by code (or title)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .models import DEFAULT_GRADE_FRACTIONS, Edition, Group, Method, ScoringKind, Standard
from .selectors import scoring_text, type_names

METHOD_LABELS = dict(Method.choices)


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass
class ItemChange:
    key: str  # the code (or title) the two sides were matched by
    title: str
    changes: list[FieldChange] = field(default_factory=list)


@dataclass
class EditionDiff:
    a: Edition
    b: Edition
    groups_added: list[Group] = field(default_factory=list)
    groups_removed: list[Group] = field(default_factory=list)
    groups_changed: list[ItemChange] = field(default_factory=list)
    standards_added: list[Standard] = field(default_factory=list)
    standards_removed: list[Standard] = field(default_factory=list)
    standards_changed: list[ItemChange] = field(default_factory=list)
    points_a: Decimal = Decimal(0)
    points_b: Decimal = Decimal(0)

    @property
    def is_empty(self) -> bool:
        return not (
            self.groups_added
            or self.groups_removed
            or self.groups_changed
            or self.standards_added
            or self.standards_removed
            or self.standards_changed
        )


def _points(value) -> str:
    d = Decimal(str(value)).normalize()
    return format(d, "f")


def _labels(values, labels: dict) -> str:
    return "、".join(labels.get(v, v) for v in values or [])


def _rule(s: Standard) -> str:
    """The scoring rule without the points (a points change is reported once, under 分值)."""
    if s.scoring_kind == ScoringKind.GRADE:
        fractions = s.scoring_params or DEFAULT_GRADE_FRACTIONS
        return "，".join(
            f"{k}得{_points(v)}倍分值" if v not in (0, 1) else f"{k}得{'满分' if v else '0分'}"
            for k, v in fractions.items()
        )
    return scoring_text(s)


# (field, label, how to show it)
STANDARD_FIELDS = [
    ("text", "测评标准", lambda s: s.text),
    ("points", "分值", lambda s: _points(s.points)),
    ("methods", "测评方法", lambda s: _labels(s.methods, METHOD_LABELS)),
    ("school_types", "适用学校类型", lambda s: type_names(s.school_types)),
    ("materials", "材料要求", lambda s: "、".join(s.materials or [])),
    (
        "lead_department",
        "牵头科室",
        lambda s: s.lead_department.name if s.lead_department_id else s.responsible_text,
    ),
    ("check_protocol", "检查方法", lambda s: s.check_protocol),
    ("scoring", "评分方式", _rule),
    ("negative_list", "负面清单", lambda s: "是" if s.negative_list else "否"),
    ("group", "所属分组", lambda s: s.group.code or s.group.title),
]


def _group_key(g: Group) -> str:
    return g.code or g.title


def _load(edition: Edition):
    groups = list(Group.objects.filter(edition=edition).order_by("depth", "position", "pk"))
    by_pk = {g.pk: g for g in groups}
    standards = list(
        Standard.objects.filter(edition=edition).select_related("lead_department").order_by("position", "pk")
    )
    for s in standards:
        s.group = by_pk[s.group_id]  # no query per standard
    return groups, by_pk, standards


def diff_editions(a: Edition, b: Edition) -> EditionDiff:
    """Changes from edition `a` (old) to edition `b` (new)."""
    result = EditionDiff(a=a, b=b)
    groups_a, by_pk_a, standards_a = _load(a)
    groups_b, by_pk_b, standards_b = _load(b)

    ga = {_group_key(g): g for g in groups_a}
    gb = {_group_key(g): g for g in groups_b}
    result.groups_added = [g for k, g in gb.items() if k not in ga]
    result.groups_removed = [g for k, g in ga.items() if k not in gb]
    for key, new in gb.items():
        old = ga.get(key)
        if old is None:
            continue
        item = ItemChange(key=key, title=new.title)
        if old.title != new.title:
            item.changes.append(FieldChange("title", "名称", old.title, new.title))
        old_parent = _group_key(by_pk_a[old.parent_id]) if old.parent_id else ""
        new_parent = _group_key(by_pk_b[new.parent_id]) if new.parent_id else ""
        if old_parent != new_parent:
            item.changes.append(FieldChange("parent", "上级分组", old_parent, new_parent))
        if item.changes:
            result.groups_changed.append(item)

    sa = {s.code: s for s in standards_a}
    sb = {s.code: s for s in standards_b}
    result.standards_added = [s for code, s in sb.items() if code not in sa]
    result.standards_removed = [s for code, s in sa.items() if code not in sb]
    for code, new in sb.items():
        old = sa.get(code)
        if old is None:
            continue
        item = ItemChange(key=code, title=new.text)
        for name, label, show in STANDARD_FIELDS:
            before, after = show(old), show(new)
            if before != after:
                item.changes.append(FieldChange(name, label, before, after))
        if item.changes:
            result.standards_changed.append(item)
    result.points_a = sum((s.points for s in standards_a), Decimal(0))
    result.points_b = sum((s.points for s in standards_b), Decimal(0))
    return result
