"""Inspections: one school checked in one round, standard by standard.

An answer is saved the moment it is given (one row per standard), so a dropped connection loses at most
the answer in hand. Submitting computes the score from the answers; after that, a change to an answer is
a correction with a reason, recorded as a new audit event (see services.answer_correct).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from chuangwen.core.models import TimeStampedModel

NOT_APPLICABLE = "不适用"


class Inspection(TimeStampedModel):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "检查中"
        SUBMITTED = "submitted", "已提交"

    round = models.ForeignKey(
        "campaigns.Round", verbose_name="检查轮次", on_delete=models.PROTECT, related_name="inspections"
    )
    school = models.ForeignKey(
        "org.Unit",
        verbose_name="学校",
        on_delete=models.PROTECT,
        related_name="inspections",
        limit_choices_to={"kind": "school"},
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="检查人", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    applicable_points = models.DecimalField("适用分值", max_digits=8, decimal_places=2, null=True, blank=True)
    obtained_points = models.DecimalField("得分", max_digits=8, decimal_places=2, null=True, blank=True)
    raw_score = models.DecimalField(
        "百分制得分（否决前）", max_digits=6, decimal_places=2, null=True, blank=True
    )
    score = models.DecimalField("百分制得分", max_digits=6, decimal_places=2, null=True, blank=True)
    vetoed = models.BooleanField("一票否决", default=False)
    veto_reason = models.CharField("否决事项", max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "学校检查"
        verbose_name_plural = "学校检查"
        constraints = [models.UniqueConstraint(fields=["round", "school"], name="inspection_round_school")]
        indexes = [models.Index(fields=["school", "status"])]

    def __str__(self) -> str:
        return f"{self.school} · {self.round.name}"

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED


class Answer(TimeStampedModel):
    """The result of one standard in one inspection."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="answers")
    standard = models.ForeignKey(
        "index.Standard", verbose_name="测评标准", on_delete=models.PROTECT, related_name="answers"
    )
    result = models.CharField(
        "结果", max_length=16, blank=True, help_text="达标/基本达标/不达标、合格/不合格或不适用"
    )
    occurrences = models.PositiveSmallIntegerField(
        "问题次数", default=0, help_text="按次扣分的标准：发现几处"
    )
    note = models.TextField("说明", blank=True)
    fraction = models.DecimalField("得分比例", max_digits=5, decimal_places=4, default=Decimal(0))
    points = models.DecimalField("得分", max_digits=6, decimal_places=2, default=Decimal(0))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="评分人", on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField("评分时间")
    revision = models.PositiveIntegerField("修订次数", default=1)

    class Meta:
        ordering = ["inspection", "standard__position", "standard_id"]
        verbose_name = "评分"
        verbose_name_plural = "评分"
        constraints = [
            models.UniqueConstraint(fields=["inspection", "standard"], name="answer_inspection_standard")
        ]

    def __str__(self) -> str:
        return f"{self.standard.code} {self.result or self.occurrences}"

    @property
    def not_applicable(self) -> bool:
        return self.result == NOT_APPLICABLE

    @property
    def lost(self) -> bool:
        """Failed or deducted: the answer opens a problem with one tap."""
        return not self.not_applicable and self.fraction < 1
