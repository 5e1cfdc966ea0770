"""Staged uploads: a file held between its preview and its confirmation.

`StagedUpload` is the abstract base of the import wizards' batches (`org.ImportBatch`,
`index.IndexImportBatch`, `duty.AssignmentUpload`); the steps they share are in `staging_services`.
Confirmation re-reads the stored bytes, so what is applied is what was uploaded, checked again.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from .models import TimeStampedModel


def staged_upload_to(instance, filename: str) -> str:
    """A random name under the model's `upload_prefix`; the user's file name stays in `original_name`."""
    return f"{instance.upload_prefix}{uuid.uuid4().hex}{instance.upload_suffix()}"


class StagedUpload(TimeStampedModel):
    """An uploaded file, its preview (`summary`) and its issues (`errors`), awaiting confirmation."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "待确认"
        APPLIED = "applied", "已导入"
        FAILED = "failed", "未通过校验"
        DISCARDED = "discarded", "已作废"

    upload_prefix = "imports/"  # where the stored files go, and how their names start

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField("文件", upload_to=staged_upload_to, max_length=200, blank=True)
    original_name = models.CharField("原文件名", max_length=255, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PREVIEWED)
    summary = models.JSONField("预览摘要", default=dict, blank=True)
    errors = models.JSONField("问题", default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def upload_suffix(self) -> str:
        return ".xlsx"

    @property
    def error_count(self) -> int:
        """All the issues found; `errors` may hold only the first of them."""
        return (self.summary or {}).get("error_count", len(self.errors or []))

    @property
    def can_apply(self) -> bool:
        return self.status == self.Status.PREVIEWED and not self.errors

    @property
    def can_discard(self) -> bool:
        return self.status in (self.Status.PREVIEWED, self.Status.FAILED)
