"""An edition read back into the exchange tree, and written as YAML or Excel (each export is audited)."""

from __future__ import annotations

from chuangwen.core import audit

from ..models import Edition, Group, Standard
from .excel import workbook_bytes
from .tree import EditionData, GroupData, StandardData
from .yaml_io import yaml_text


def edition_data(edition: Edition) -> EditionData:
    """The edition as the tree the readers produce (two queries)."""
    data = EditionData(
        name=edition.name,
        code=edition.code,
        description=edition.description,
        is_reference=edition.is_reference,
    )
    nodes: dict[int, GroupData] = {}
    children: dict[int | None, list[tuple[int, GroupData]]] = {}
    for g in Group.objects.filter(edition=edition).order_by("position", "pk"):
        node = GroupData(code=g.code, title=g.title, depth=g.depth)
        nodes[g.pk] = node
        children.setdefault(g.parent_id, []).append((g.pk, node))
    for pk, node in nodes.items():
        node.groups = [child for _, child in children.get(pk, [])]
    data.groups = [node for _, node in children.get(None, [])]
    standards = Standard.objects.filter(edition=edition).select_related("lead_department")
    for s in standards.order_by("position", "pk"):
        nodes[s.group_id].standards.append(
            StandardData(
                code=s.code,
                text=s.text,
                points=s.points,
                methods=list(s.methods or []),
                school_types=list(s.school_types or []),
                materials=list(s.materials or []),
                responsible=s.responsible_text or (s.lead_department.name if s.lead_department else ""),
                check_protocol=s.check_protocol,
                scoring_kind=s.scoring_kind,
                scoring_params=dict(s.scoring_params or {}),
                negative_list=s.negative_list,
            )
        )
    return data


def _record(edition: Edition, fmt: str, actor, request, data: EditionData) -> None:
    audit.record(
        "index.export",
        actor=actor,
        request=request,
        obj=edition,
        data={"format": fmt, "standards": len(data.standards()), "status": edition.status},
    )


def export_yaml(edition: Edition, *, actor=None, request=None) -> str:
    data = edition_data(edition)
    _record(edition, "yaml", actor, request, data)
    return yaml_text(data)


def export_xlsx(edition: Edition, *, actor=None, request=None) -> bytes:
    data = edition_data(edition)
    _record(edition, "xlsx", actor, request, data)
    return workbook_bytes(data)
