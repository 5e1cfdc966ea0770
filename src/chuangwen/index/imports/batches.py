"""The wizard's staging: upload → preview (an IndexImportBatch) → confirm (a new draft edition) or discard."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from chuangwen.core import access
from chuangwen.org.imports.batches import read_upload

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
    data = read_upload(upload)
    result = _parse(data, fmt)
    if result.data is not None:
        name = name or result.data.name
        code = code or result.data.code
    check_identity(result, name=name, code=code)
    batch = IndexImportBatch(
        fmt=fmt,
        name=name[:200],
        code=code[:60],
        uploaded_by=actor,
        original_name=(upload.name or "")[-255:],
        status=IndexImportBatch.Status.PREVIEWED if result.ok else IndexImportBatch.Status.FAILED,
        summary=result.summary(),
        errors=result.errors_json(),
    )
    batch.file.save("upload", ContentFile(data), save=False)
    batch.save()
    return batch


def _stored_bytes(batch: IndexImportBatch) -> bytes:
    if not batch.file:
        raise ValidationError("找不到该批次上传的文件，请重新上传")
    try:
        with batch.file.open("rb") as handle:
            return handle.read(settings.IMPORT_MAX_BYTES + 1)
    except OSError as exc:
        raise ValidationError("找不到该批次上传的文件，请重新上传") from exc


def index_import_batch_apply(*, batch: IndexImportBatch, actor, request=None) -> ParseResult:
    """Re-read the stored file, re-check it and create the edition, or nothing; record the outcome."""
    access.require(batch.uploaded_by_id == actor.pk and access.can_manage_index(actor))
    with transaction.atomic():
        batch = IndexImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != IndexImportBatch.Status.PREVIEWED:
            raise ValidationError(f"该批次状态为“{batch.get_status_display()}”，不能导入，请重新上传")
        result = _parse(_stored_bytes(batch), batch.fmt)
        edition = edition_import(
            result=result,
            name=batch.name,
            code=batch.code,
            actor=actor,
            request=request,
            source=batch.original_name,
        )
        batch.status = IndexImportBatch.Status.APPLIED if edition else IndexImportBatch.Status.FAILED
        batch.edition = edition
        batch.summary = result.summary()
        batch.errors = result.errors_json()
        batch.save(update_fields=["status", "edition", "summary", "errors", "updated_at"])
    return result


def index_import_batch_discard(*, batch: IndexImportBatch, actor) -> IndexImportBatch:
    """Drop a batch that was not applied, and its stored file."""
    access.require(batch.uploaded_by_id == actor.pk)
    if batch.status == IndexImportBatch.Status.APPLIED:
        raise ValidationError("该批次已导入，不能作废")
    if batch.status == IndexImportBatch.Status.DISCARDED:
        return batch
    if batch.file:
        batch.file.delete(save=False)
    batch.status = IndexImportBatch.Status.DISCARDED
    batch.save(update_fields=["status", "file", "updated_at"])
    return batch
