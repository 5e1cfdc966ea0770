"""The evaluation index over JSON, read-only: editions, an edition's tree, standards.

Drafts are for managers only. Publishing and editing happen on the pages (session + CSRF), which call the
same services.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from . import selectors
from .models import Edition

router = Router(tags=["测评体系"])
STATUS_LABELS = dict(Edition.Status.choices)


class EditionOut(Schema):
    id: int
    name: str
    code: str
    description: str
    status: str
    status_label: str
    is_reference: bool
    based_on_id: int | None
    published_at: datetime | None
    project_count: int
    standard_count: int
    total_points: Decimal

    @staticmethod
    def resolve_status_label(obj):
        return STATUS_LABELS.get(obj.status, obj.status)


class StandardOut(Schema):
    id: int
    edition_id: int
    group_id: int
    code: str
    text: str
    points: Decimal
    methods: list[str]
    method_labels: list[str]
    school_types: list[str]
    materials: list[str]
    lead_department_id: int | None
    lead_department: str
    check_protocol: str
    scoring_kind: str
    scoring_params: dict
    scoring_text: str
    negative_list: bool

    @staticmethod
    def resolve_method_labels(obj):
        return [selectors.METHOD_LABELS.get(m, m) for m in obj.methods]

    @staticmethod
    def resolve_lead_department(obj):
        return obj.lead_department.name if obj.lead_department_id else obj.responsible_text

    @staticmethod
    def resolve_scoring_text(obj):
        return selectors.scoring_text(obj)


class GroupOut(Schema):
    id: int
    code: str
    title: str
    depth: int
    level_label: str
    total_points: Decimal
    standard_count: int
    standards: list[StandardOut]
    groups: list[GroupOut]


GroupOut.model_rebuild()


class EditionTreeOut(Schema):
    edition: EditionOut
    total_points: Decimal
    standard_count: int
    groups: list[GroupOut]


def _group_out(node: selectors.GroupNode) -> dict:
    g = node.group
    return {
        "id": g.pk,
        "code": g.code,
        "title": g.title,
        "depth": g.depth,
        "level_label": g.level_label,
        "total_points": node.total_points,
        "standard_count": node.standard_count,
        "standards": node.standards,
        "groups": [_group_out(child) for child in node.children],
    }


@router.get("/editions", response=list[EditionOut], summary="测评体系版本列表")
def list_editions(request, status: str = ""):
    return list(selectors.edition_list(user=request.user, status=status))


@router.get("/editions/{edition_id}", response=EditionTreeOut, summary="版本及其指标树（含各级合计分值）")
def get_edition(request, edition_id: int):
    edition = get_object_or_404(selectors.edition_list(user=request.user), pk=edition_id)
    tree = selectors.edition_tree(edition)
    return {
        "edition": edition,
        "total_points": tree.total_points,
        "standard_count": tree.standard_count,
        "groups": [_group_out(node) for node in tree.roots],
    }


@router.get("/standards", response=list[StandardOut], summary="测评标准（可筛选）")
@paginate(PageNumberPagination, page_size=100)
def list_standards(
    request,
    edition: int | None = None,
    method: str = "",
    school_type: str = "",
    q: str = "",
    negative_list: bool | None = None,
):
    chosen = None
    if edition is not None:
        chosen = get_object_or_404(selectors.visible_editions(request.user), pk=edition)
    return selectors.standard_search(
        user=request.user, edition=chosen, q=q, method=method, school_type=school_type, negative=negative_list
    )
