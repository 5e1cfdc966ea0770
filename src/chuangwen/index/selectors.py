"""Reads of evaluation-index editions: visibility, the tree with computed totals, search and filters.

An edition's tree is read in two queries (groups, standards) and assembled in Python, so the cost does
not grow with the number of nodes. Totals are always computed here, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from chuangwen.core import access
from chuangwen.org.models import Unit

from .models import Edition, Group, Method, ScoringKind, Standard

Status = Edition.Status
METHOD_LABELS = dict(Method.choices)
SCHOOL_TYPE_LABELS = dict(Unit.SchoolType.choices)
SCORING_LABELS = dict(ScoringKind.choices)
ALL_SCHOOL_TYPES = frozenset(Unit.SchoolType.values)


def _number(value) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def scoring_text(s: Standard) -> str:
    """The scoring rule in words, e.g. 按次扣分（每次扣0.5分，最多扣2分）."""
    params = s.scoring_params or {}
    if s.scoring_kind == ScoringKind.DEDUCTION:
        cap = params.get("cap", s.points)
        return f"按次扣分（每次扣{_number(params.get('per', 0))}分，最多扣{_number(cap)}分）"
    if s.scoring_kind == ScoringKind.PASS_FAIL:
        return "合格得满分，不合格不得分"
    fractions = params or {"达标": 1, "基本达标": 0.6, "不达标": 0}
    return "，".join(f"{k}得{_number(Decimal(str(v)) * s.points)}分" for k, v in fractions.items())


def type_names(codes: list[str]) -> str:
    if codes and set(codes) >= ALL_SCHOOL_TYPES:
        return "全部学校"
    return "、".join(SCHOOL_TYPE_LABELS.get(c, c) for c in codes) or "未设置适用学校"


def decorate(s: Standard) -> Standard:
    """Attach display labels (dict lookups; no queries)."""
    s.method_names = [METHOD_LABELS.get(m, m) for m in s.methods]
    s.type_names = type_names(s.school_types)
    s.scoring_text = scoring_text(s)
    return s


def visible_editions(user) -> QuerySet[Edition]:
    """Managers see every edition; everyone else published and archived ones only."""
    qs = Edition.objects.all()
    if access.can_manage_index(user):
        return qs
    if user is None or not user.is_authenticated:
        return qs.none()
    return qs.exclude(status=Status.DRAFT)


def edition_list(*, user, status: str = "") -> QuerySet[Edition]:
    """Visible editions with counts and total points (a constant number of queries)."""
    projects = (
        Group.objects.filter(edition=OuterRef("pk"), depth=1)
        .order_by()
        .values("edition")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = visible_editions(user).select_related("based_on")
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        standard_count=Count("standards"),
        total_points=Coalesce(Sum("standards__points"), Value(Decimal(0))),
        project_count=Coalesce(Subquery(projects, output_field=IntegerField()), 0),
        status_rank=Case(
            When(status=Status.PUBLISHED, then=Value(0)),
            When(status=Status.DRAFT, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
    ).order_by("status_rank", "-created_at")


@dataclass
class GroupNode:
    group: Group
    children: list[GroupNode] = field(default_factory=list)
    standards: list[Standard] = field(default_factory=list)
    total_points: Decimal = Decimal(0)
    standard_count: int = 0
    shown: int = 0  # standards below this node that match the filters

    @property
    def pk(self) -> int:
        return self.group.pk


@dataclass
class EditionTree:
    edition: Edition
    roots: list[GroupNode]
    total_points: Decimal
    standard_count: int
    shown: int
    group_count: int
    filtered: bool

    def walk(self):
        """Every node, depth first."""
        stack = list(reversed(self.roots))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def _matches(s: Standard, q: str, method: str, school_type: str, negative: bool) -> bool:
    if method and method not in s.methods:
        return False
    if school_type and school_type not in s.school_types:
        return False
    if negative and not s.negative_list:
        return False
    if q:
        q = q.lower()
        haystack = f"{s.code}\n{s.text}\n{s.check_protocol}".lower()
        if q not in haystack:
            return False
    return True


def edition_standards(edition: Edition) -> list[Standard]:
    return list(
        Standard.objects.filter(edition=edition).select_related("lead_department").order_by("position", "pk")
    )


def edition_tree(
    edition: Edition, *, q: str = "", method: str = "", school_type: str = "", negative: bool = False
) -> EditionTree:
    """The edition's groups nested with standards, totals per node; filters hide non-matching standards
    (and groups left empty) but never change the totals."""
    groups = list(Group.objects.filter(edition=edition).order_by("depth", "position", "pk"))
    standards = edition_standards(edition)
    nodes = {g.pk: GroupNode(group=g) for g in groups}
    roots: list[GroupNode] = []
    for g in groups:
        node = nodes[g.pk]
        parent = nodes.get(g.parent_id) if g.parent_id else None
        (parent.children if parent is not None else roots).append(node)
    filtered = bool(q or method or school_type or negative)
    total, shown = Decimal(0), 0
    for s in standards:
        node = nodes.get(s.group_id)
        if node is None:
            continue
        decorate(s)
        s.matches = _matches(s, q, method, school_type, negative)
        node.standards.append(s)
        total += s.points
        shown += s.matches
        # Add the standard to this group and every group above it.
        g = node.group
        while g is not None:
            n = nodes[g.pk]
            n.total_points += s.points
            n.standard_count += 1
            n.shown += s.matches
            g = nodes[g.parent_id].group if g.parent_id else None
    return EditionTree(
        edition=edition,
        roots=roots,
        total_points=total,
        standard_count=len(standards),
        shown=shown,
        group_count=len(groups),
        filtered=filtered,
    )


def standard_search(
    *,
    user,
    edition: Edition | None = None,
    q: str = "",
    method: str = "",
    school_type: str = "",
    negative: bool | None = None,
) -> QuerySet[Standard]:
    """Standards of visible editions matching code/text, method and school type.

    Methods and school types are JSON lists; the lookups below work on SQLite and PostgreSQL alike
    because every code is stored as a quoted JSON string.
    """
    qs = (
        Standard.objects.filter(edition__in=visible_editions(user))
        .select_related("lead_department", "group", "edition")
        .annotate(
            methods_text=Cast("methods", output_field=TextField()),
            school_types_text=Cast("school_types", output_field=TextField()),
        )
    )
    if edition is not None:
        qs = qs.filter(edition=edition)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(text__icontains=q) | Q(check_protocol__icontains=q))
    if method:
        qs = qs.filter(_json_list_contains("methods", method))
    if school_type:
        qs = qs.filter(_json_list_contains("school_types", school_type))
    if negative is not None:
        qs = qs.filter(negative_list=negative)
    return qs.order_by("edition_id", "position", "pk")


def _json_list_contains(field_name: str, code: str) -> Q:
    """`code` in a JSON list of short codes, portably (JSONField `contains` is not available on SQLite)."""
    return Q(**{f"{field_name}_text__contains": f'"{code}"'})


def standards_for_school_type(edition: Edition, school_type: str) -> list[Standard]:
    """The standards of an edition that apply to one school type."""
    return [s for s in edition_standards(edition) if school_type in s.school_types]
