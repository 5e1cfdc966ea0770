"""Small builders of published editions for the duty tests (the index app has its own)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

from chuangwen.index.models import Edition, Group, Standard
from chuangwen.org.models import Unit

ALL_TYPES = list(Unit.SchoolType.values)
_counter = itertools.count(1)


def build_edition(
    *,
    projects: int = 2,
    standards_per_project: int = 3,
    types: Callable[[int], list[str]] | None = None,
    publish: bool = True,
    name: str = "",
    lead_department: Unit | None = None,
) -> Edition:
    """An edition of `projects` 测评项目, each with one 测评内容 holding `standards_per_project` standards.

    `types(i)` gives the school types of the i-th standard (0-based, edition order); all types by default.
    """
    n = next(_counter)
    edition = Edition.objects.create(name=name or f"测试测评体系{n}", code=f"test-{n}")
    index = 0
    for p in range(1, projects + 1):
        project = Group.objects.create(
            edition=edition, depth=1, code=str(p), title=f"测评项目{p}", position=p
        )
        content = Group.objects.create(
            edition=edition, parent=project, depth=2, code=f"{p}.1", title=f"测评内容{p}.1", position=1
        )
        rows = []
        for s in range(1, standards_per_project + 1):
            rows.append(
                Standard(
                    edition=edition,
                    group=content,
                    code=f"{p}.1.{s}",
                    text=f"测评标准{p}.1.{s}：校门口设置公益广告",
                    points=Decimal("1.5"),
                    methods=["site"],
                    school_types=types(index) if types else ALL_TYPES,
                    materials=["方案"],
                    lead_department=lead_department,
                    position=index,
                )
            )
            index += 1
        Standard.objects.bulk_create(rows)
    if publish:
        Edition.objects.filter(pk=edition.pk).update(status=Edition.Status.PUBLISHED)
        edition.refresh_from_db()
    return edition


def project(edition: Edition, code: str) -> Group:
    return Group.objects.get(edition=edition, depth=1, code=code)
