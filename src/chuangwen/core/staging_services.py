"""The steps every import wizard takes with a staged upload (see `core.staging.StagedUpload`).

An app's batch service parses and applies its own format; these do the rest, the same way for all:

- `read_upload(upload)`: the bytes, refusing anything over IMPORT_MAX_BYTES before reading it;
- `stage(batch=..., upload=..., data=..., result=...)`: store the bytes under a random name with the preview;
- `require_uploader(batch=..., actor=...)`: only the uploader may confirm or discard a batch;
- `lock_previewed(batch=...)`: in the confirming transaction, the locked batch if still awaiting confirmation;
- `stored_bytes(batch)`: confirmation re-reads the stored file, never the preview;
- `mark_outcome(batch=..., result=...)`: applied or failed, with the re-check's summary and issues;
- `discard(batch=..., actor=...)`: drop a batch that was not applied, and its file.

A `result` is the app's parse result: `ok`, `summary()` (JSON, with `error_count`) and `errors_json()`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from . import access
from .staging import StagedUpload

MISSING_FILE = "找不到该批次上传的文件，请重新上传"


class StagedResult(Protocol):
    @property
    def ok(self) -> bool: ...

    def summary(self) -> dict[str, Any]: ...

    def errors_json(self) -> list[dict[str, Any]]: ...


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def check_size(size: int) -> str:
    """An error message if an upload of `size` bytes is too large, else ""."""
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        return f"文件大小为 {_size_text(size)}，超过了 {_size_text(limit)} 的上限，请拆分后分批导入"
    return ""


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


def stage(*, batch: StagedUpload, upload, data: bytes, result: StagedResult) -> StagedUpload:
    """Save the batch with its preview, and the bytes under a random name; nothing else is written."""
    batch.original_name = (upload.name or "")[-255:]
    batch.status = StagedUpload.Status.PREVIEWED if result.ok else StagedUpload.Status.FAILED
    batch.summary = result.summary()
    batch.errors = result.errors_json()
    batch.file.save("upload", ContentFile(data), save=False)
    batch.save()
    return batch


def require_uploader(*, batch: StagedUpload, actor) -> None:
    """Batches are private: only their uploader may confirm or discard them (PermissionDenied)."""
    access.require(batch.uploaded_by_id == actor.pk)


def lock_previewed(*, batch: StagedUpload, queryset=None) -> StagedUpload:
    """Inside a transaction: the batch re-read and locked, refused unless it still awaits confirmation.

    A double click or a replayed form finds it applied (or failed) and changes nothing.
    """
    queryset = type(batch)._default_manager.all() if queryset is None else queryset
    batch = queryset.select_for_update().get(pk=batch.pk)
    if batch.status != StagedUpload.Status.PREVIEWED:
        raise ValidationError(f"该批次状态为“{batch.get_status_display()}”，不能导入，请重新上传")
    return batch


def stored_bytes(batch: StagedUpload) -> bytes:
    """The file as uploaded (up to one byte over the cap, so an oversize file is still refused)."""
    if not batch.file:
        raise ValidationError(MISSING_FILE)
    try:
        with batch.file.open("rb") as handle:
            return handle.read(settings.IMPORT_MAX_BYTES + 1)
    except OSError as exc:
        raise ValidationError(MISSING_FILE) from exc


def mark_outcome(
    *, batch: StagedUpload, result: StagedResult, applied: bool | None = None, fields: Iterable[str] = ()
) -> StagedUpload:
    """Record a confirmation: applied (by default when the re-check passed) or failed, with its issues.

    `fields` names any app-specific fields the caller set on the batch, to be saved along.
    """
    applied = result.ok if applied is None else applied
    batch.status = StagedUpload.Status.APPLIED if applied else StagedUpload.Status.FAILED
    batch.summary = result.summary()
    batch.errors = result.errors_json()
    batch.save(update_fields=["status", *fields, "summary", "errors", "updated_at"])
    return batch


def discard(*, batch: StagedUpload, actor) -> StagedUpload:
    """Drop a batch that was not applied, and its stored file; an applied batch keeps its file as a record."""
    require_uploader(batch=batch, actor=actor)
    if batch.status == StagedUpload.Status.APPLIED:
        raise ValidationError("该批次已导入，不能作废")
    if batch.status == StagedUpload.Status.DISCARDED:
        return batch
    if batch.file:
        batch.file.delete(save=False)
    batch.status = StagedUpload.Status.DISCARDED
    batch.save(update_fields=["status", "file", "updated_at"])
    return batch
