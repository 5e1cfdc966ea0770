"""The reference edition shipped with the product: 教育系统创文测评参考指标 (`ref-2026`).

It is written from public facts (see shared/domain/BRIEF.md) and labelled as a reference that the
bureau replaces with its official edition. The data lives in `edition.yaml`, in the YAML format of
docs/decisions/0006-index-editions.md, exactly as `chuangwen index export ref-2026 --format yaml` writes it,
and is loaded through the same importer as any uploaded file.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Edition

REFERENCE_FILE = Path(__file__).with_name("edition.yaml")
REFERENCE_CODE = "ref-2026"


@transaction.atomic
def load_reference_edition(*, actor=None, publish: bool = True) -> Edition:
    """Create the reference edition if it is missing (idempotent: an existing `ref-2026` is returned)."""
    from ..imports import edition_import, parse_yaml
    from ..services import edition_publish

    existing = Edition.objects.filter(code=REFERENCE_CODE).first()
    if existing is not None:
        return existing
    result = parse_yaml(REFERENCE_FILE.read_bytes())
    edition = None
    if result.ok:
        edition = edition_import(
            result=result,
            name=result.data.name,
            code=result.data.code,
            actor=actor,
            source=REFERENCE_FILE.name,
        )
    if edition is None:
        raise ValidationError([f"参考指标文件有误：{issue}" for issue in result.errors])
    if publish:
        edition = edition_publish(edition=edition, actor=actor)
    return edition


__all__ = ["REFERENCE_CODE", "REFERENCE_FILE", "load_reference_edition"]
