"""The wizard's staging: upload → preview (an IndexImportBatch) → confirm (a new draft edition) or discard.

The steps shared with the other wizards are `core.staging_services`'; this module adds the format,
the new edition's name and code, and the edition made on confirmation.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from chuangwen.core import access
from chuangwen.core import staging_services as staging

from ..models import IndexImportBatch
from .apply import check_identity, edition_import
from .excel import parse_excel
from .tree import ParseResult
from .yaml_io import parse_yaml


def _parse(data: bytes, fmt: str) -> ParseResult:
    return parse_excel(data) if fmt == IndexImportBatch.Format.XLSX else parse_yaml(data)


def index_import_batch_create(*, fmt: str, upload, name: str, code: str, actor) -> IndexImportBatch:
    """Store the upload and its preview (or its issues); nothing outside the batch is written."""
    access.require(access.can_manage_index(actor))
    if fmt not in IndexImportBatch.Format.values:
        raise ValidationError("请选择 Excel 或 YAML 格式")
    data = staging.read_upload(upload)
    result = _parse(data, fmt)
    if result.data is not None:
        name = name or result.data.name
        code = code or result.data.code
    check_identity(result, name=name, code=code)
    batch = IndexImportBatch(fmt=fmt, name=name[:200], code=code[:60], uploaded_by=actor)
    return staging.stage(batch=batch, upload=upload, data=data, result=result)


def index_import_batch_apply(*, batch: IndexImportBatch, actor, request=None) -> ParseResult:
    """Re-read the stored file, re-check it and create the edition, or nothing; record the outcome."""
    access.require(access.can_manage_index(actor))
    staging.require_uploader(batch=batch, actor=actor)
    with transaction.atomic():
        batch = staging.lock_previewed(batch=batch)
        result = _parse(staging.stored_bytes(batch), batch.fmt)
        batch.edition = edition_import(
            result=result,
            name=batch.name,
            code=batch.code,
            actor=actor,
            request=request,
            source=batch.original_name,
        )
        staging.mark_outcome(
            batch=batch, result=result, applied=batch.edition is not None, fields=["edition"]
        )
    return result


def index_import_batch_discard(*, batch: IndexImportBatch, actor) -> IndexImportBatch:
    """Drop a batch that was not applied, and its stored file."""
    return staging.discard(batch=batch, actor=actor)
