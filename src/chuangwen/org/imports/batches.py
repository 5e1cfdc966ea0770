"""The import wizard's staging: upload → preview (an ImportBatch) → apply or discard.

The steps shared with the other wizards (storing, locking, re-reading, discarding) are
`core.staging_services`'; this module adds who may import what and the parsing.
"""

from __future__ import annotations

from django.db import transaction

from chuangwen.core import access
from chuangwen.core import staging_services as staging

from ..models import ImportBatch
from .classes import apply_classes, parse_classes
from .result import ImportResult
from .schools import apply_schools, parse_schools

_PARSE = {ImportBatch.Kind.SCHOOLS: parse_schools, ImportBatch.Kind.CLASSES: parse_classes}
_APPLY = {ImportBatch.Kind.SCHOOLS: apply_schools, ImportBatch.Kind.CLASSES: apply_classes}


def can_import(user, kind: str) -> bool:
    if kind == ImportBatch.Kind.SCHOOLS:
        return access.can_manage_units(user)
    if kind == ImportBatch.Kind.CLASSES:
        return access.can_import_classes(user)
    return False


def importable_kinds(user) -> list[str]:
    return [kind for kind in ImportBatch.Kind.values if can_import(user, kind)]


def import_batch_create(*, kind: str, upload, actor) -> ImportBatch:
    """Store the upload and its preview; nothing outside the batch is written."""
    access.require(can_import(actor, kind))
    data = staging.read_upload(upload)
    result = _PARSE[kind](data, user=actor)
    return staging.stage(
        batch=ImportBatch(kind=kind, uploaded_by=actor), upload=upload, data=data, result=result
    )


def import_batch_apply(*, batch: ImportBatch, actor, request=None) -> ImportResult:
    """Re-read the stored file, re-check it and write it all, or nothing; record the outcome on the batch."""
    staging.require_uploader(batch=batch, actor=actor)
    with transaction.atomic():
        batch = staging.lock_previewed(batch=batch)
        result = _APPLY[batch.kind](staging.stored_bytes(batch), actor=actor, request=request, batch=batch)
        staging.mark_outcome(batch=batch, result=result)
    return result


def import_batch_discard(*, batch: ImportBatch, actor) -> ImportBatch:
    """Drop a batch that was not applied, and its stored file."""
    return staging.discard(batch=batch, actor=actor)
