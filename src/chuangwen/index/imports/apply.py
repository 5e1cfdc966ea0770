"""Writing a parsed edition: one transaction creating a new draft edition, or nothing at all."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from chuangwen.core import access, audit
from chuangwen.org.imports.workbook import Issue, loose_text
from chuangwen.org.models import Unit

from ..models import Edition, Group, Standard
from .tree import EditionData, GroupData, ParseResult, format_decimal, split_list

_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_BATCH = 200


def check_identity(result: ParseResult, *, name: str, code: str) -> None:
    """The new edition's name and code: given, well-formed and not taken.

    When the file itself could not be read, a missing name or code is not reported (it may be in the file).
    """
    required = result.data is not None
    if not name:
        if required:
            result.add(Issue("请填写新版本的名称"))
    elif len(name) > 200:
        result.add(Issue("版本名称不能超过 200 个字符"))
    elif Edition.objects.filter(name=name).exists():
        result.add(Issue(f"已有名为“{name}”的版本，请换一个名称"))
    if not code:
        if required:
            result.add(Issue("请填写新版本的代码（如 city-2026）"))
    elif len(code) > 60 or not _SLUG.fullmatch(code):
        result.add(Issue(f"版本代码“{code[:60]}”只能包含字母、数字、连字符和下划线，且不超过 60 个字符"))
    elif Edition.objects.filter(code=code).exists():
        result.add(Issue(f"已有代码为“{code}”的版本，请换一个代码"))


def department_index() -> dict[str, Unit]:
    """Departments by their name, compared loosely (spaces and full-width forms ignored)."""
    found: dict[str, Unit] = {}
    for unit in Unit.objects.filter(kind=Unit.Kind.DEPARTMENT).order_by("path", "pk"):
        found.setdefault(loose_text(unit.name), unit)
    return found


def match_department(text: str, departments: dict[str, Unit]) -> Unit | None:
    """The department the 责任单位 text names: the whole text, else its first part that is one."""
    if not text:
        return None
    unit = departments.get(loose_text(text))
    if unit is not None:
        return unit
    for part in split_list(text):
        unit = departments.get(loose_text(part))
        if unit is not None:
            return unit
    return None


@transaction.atomic
def edition_import(
    *,
    result: ParseResult,
    name: str,
    code: str,
    actor=None,
    request=None,
    description: str | None = None,
    source: str = "",
) -> Edition | None:
    """Create a new draft edition from a parse without issues; with any issue, write nothing.

    `actor` None means the command line. Name and code are checked here (and added to the result's issues).
    """
    if actor is not None:
        access.require(access.can_manage_index(actor))
    check_identity(result, name=name, code=code)
    if not result.ok:
        return None
    data: EditionData = result.data
    try:
        with transaction.atomic():  # a savepoint: another import may take the name or code meanwhile
            edition = Edition.objects.create(
                name=name,
                code=code,
                description=data.description if description is None else description,
                is_reference=data.is_reference,
            )
    except IntegrityError:
        result.add(Issue(f"名称“{name}”或代码“{code}”刚被另一个版本占用，请换一个"))
        return None
    departments = department_index()
    # Positions follow the tree's reading order, so a re-export lists groups as they came.
    order = {id(item): n for n, item in enumerate(data.walk_groups(), start=1)}
    groups: list[tuple[Group, GroupData]] = []
    level = [(None, g) for g in data.groups]
    while level:  # one insert per level: parents get their keys before their children are built
        rows = []
        for parent, item in level:
            rows.append(
                (
                    Group(
                        edition=edition,
                        parent=parent,
                        depth=item.depth,
                        code=item.code,
                        title=item.title,
                        position=order[id(item)],
                    ),
                    item,
                )
            )
        Group.objects.bulk_create([g for g, _ in rows])
        groups.extend(rows)
        level = [(g, child) for g, item in rows for child in item.groups]
    groups.sort(key=lambda pair: order[id(pair[1])])
    # Standards are built and inserted in batches, so memory holds one batch of model instances at a time.
    batch: list[Standard] = []
    position = 0
    for group, item in groups:
        for s in item.standards:
            position += 1
            batch.append(
                Standard(
                    edition=edition,
                    group=group,
                    code=s.code,
                    text=s.text,
                    points=s.points,
                    methods=s.methods,
                    school_types=s.school_types,
                    materials=s.materials,
                    lead_department=match_department(s.responsible, departments),
                    responsible_text=s.responsible,
                    check_protocol=s.check_protocol,
                    scoring_kind=s.scoring_kind,
                    scoring_params=s.scoring_params,
                    negative_list=s.negative_list,
                    position=position,
                )
            )
            if len(batch) >= _BATCH:
                Standard.objects.bulk_create(batch)
                batch = []
    if batch:
        Standard.objects.bulk_create(batch)
    counts = result.counts()
    audit.record(
        "index.import",
        actor=actor,
        request=request,
        obj=edition,
        data={"format": result.fmt, "source": source, **counts, "total_points": format_decimal(data.total())},
    )
    result.edition = edition
    return edition
