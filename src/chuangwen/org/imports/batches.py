"""The import wizard's staging: upload → preview (an ImportBatch) → apply or discard."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from chuangwen.core import access

from ..models import ImportBatch
from .classes import apply_classes, parse_classes
from .result import ImportResult
from .schools import apply_schools, parse_schools
from .workbook import check_size

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


def read_upload(upload) -> bytes:
    """The uploaded file's bytes, refusing anything over the size cap before reading it."""
    message = check_size(upload.size or 0)
    if message:
        raise ValidationError(message)
    data = b"".join(upload.chunks())
    message = check_size(len(data))
    if message:
        raise ValidationError(message)
    return data


def import_batch_create(*, kind: str, upload, actor) -> ImportBatch:
    """Store the upload and its preview; nothing outside the batch is written."""
    access.require(can_import(actor, kind))
    data = read_upload(upload)
    result = _PARSE[kind](data, user=actor)
    batch = ImportBatch(
        kind=kind,
        uploaded_by=actor,
        original_name=(upload.name or "")[-255:],
        status=ImportBatch.Status.PREVIEWED if result.ok else ImportBatch.Status.FAILED,
        summary=result.summary(),
        errors=result.errors_json(),
    )
    batch.file.save("upload.xlsx", ContentFile(data), save=False)
    batch.save()
    return batch


def _stored_bytes(batch: ImportBatch) -> bytes:
    if not batch.file:
        raise ValidationError("找不到该批次上传的文件，请重新上传")
    try:
        with batch.file.open("rb") as handle:
            return handle.read(settings.IMPORT_MAX_BYTES + 1)
    except OSError as exc:
        raise ValidationError("找不到该批次上传的文件，请重新上传") from exc


def import_batch_apply(*, batch: ImportBatch, actor, request=None) -> ImportResult:
    """Re-read the stored file, re-check it and write it all, or nothing; record the outcome on the batch."""
    access.require(batch.uploaded_by_id == actor.pk)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportBatch.Status.PREVIEWED:
            raise ValidationError(f"该批次状态为“{batch.get_status_display()}”，不能导入，请重新上传")
        result = _APPLY[batch.kind](_stored_bytes(batch), actor=actor, request=request, batch=batch)
        batch.status = ImportBatch.Status.APPLIED if result.ok else ImportBatch.Status.FAILED
        batch.summary = result.summary()
        batch.errors = result.errors_json()
        batch.save(update_fields=["status", "summary", "errors", "updated_at"])
    return result


def import_batch_discard(*, batch: ImportBatch, actor) -> ImportBatch:
    """Drop a batch that was not applied, and its stored file; an applied batch keeps its file as a record."""
    access.require(batch.uploaded_by_id == actor.pk)
    if batch.status == ImportBatch.Status.APPLIED:
        raise ValidationError("该批次已导入，不能作废")
    if batch.status == ImportBatch.Status.DISCARDED:
        return batch
    if batch.file:
        batch.file.delete(save=False)
    batch.status = ImportBatch.Status.DISCARDED
    batch.save(update_fields=["status", "file", "updated_at"])
    return batch
