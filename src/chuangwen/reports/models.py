"""Reports' one table: problem counts per school, campaign and round, kept in step with the ledger
(decision 0022; maintained by `tally`)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from chuangwen.core.models import TimeStampedModel


class ProblemTally(TimeStampedModel):
    """How many problems a school has in a campaign: one row per round of the campaign (`round` set) and
    one for the problems recorded outside a round on a date within the campaign's dates (`round` empty).

    Counts only, never the clock: `overdue` changes as deadlines pass, so the figures take
    `waiting_timed` (waiting on the school with a deadline) and subtract the few still running, read from
    the ledger itself."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name="创建周期", on_delete=models.CASCADE, related_name="+"
    )
    round = models.ForeignKey(
        "campaigns.Round", verbose_name="检查轮次", on_delete=models.CASCADE, null=True, related_name="+"
    )
    school = models.ForeignKey("org.Unit", verbose_name="学校", on_delete=models.CASCADE, related_name="+")
    problems = models.PositiveIntegerField("问题数（不含作废）", default=0)
    open_problems = models.PositiveIntegerField("未销号", default=0)
    closed = models.PositiveIntegerField("已销号", default=0)
    waiting_timed = models.PositiveIntegerField("待学校整改且有期限", default=0)

    class Meta:
        ordering = ["campaign", "school", "round"]
        verbose_name = "问题计数"
        verbose_name_plural = "问题计数"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "round", "school"],
                condition=Q(round__isnull=False),
                name="problemtally_round_school",
            ),
            models.UniqueConstraint(
                fields=["campaign", "school"], condition=Q(round__isnull=True), name="problemtally_outside"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.round_id or '-'}/{self.school_id}: {self.problems}"
