"""Campaigns (创建周期) and their inspection rounds: kind, scope, dates, inspectors and the sampling record.

Who may see a round is decided in one place, `selectors.visible_rounds`: an unannounced (暗访) round is
hidden from the schools it covers until it is finished.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from chuangwen.core.models import TimeStampedModel


class Campaign(TimeStampedModel):
    """One 创建周期, checked against one published evaluation-index edition."""

    class Status(models.TextChoices):
        ACTIVE = "active", "进行中"
        CLOSED = "closed", "已结束"

    name = models.CharField("名称", max_length=200, unique=True)
    edition = models.ForeignKey(
        "index.Edition", verbose_name="测评体系版本", on_delete=models.PROTECT, related_name="campaigns"
    )
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-start_date", "-pk"]
        verbose_name = "创建周期"
        verbose_name_plural = "创建周期"

    def __str__(self) -> str:
        return self.name


class Round(TimeStampedModel):
    """An inspection round of a campaign: who is checked (schools), by whom (inspectors), when."""

    class Kind(models.TextChoices):
        SELF = "self", "自查"
        MOCK = "mock", "模拟测评"
        UNANNOUNCED = "unannounced", "暗访督查"
        FOLLOW_UP = "follow_up", "跟踪督查"

    class Status(models.TextChoices):
        PLANNED = "planned", "未开始"
        IN_PROGRESS = "in_progress", "进行中"
        FINISHED = "finished", "已结束"

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建周期", on_delete=models.CASCADE, related_name="rounds"
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    name = models.CharField("名称", max_length=200)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PLANNED)
    schools = models.ManyToManyField(
        "org.Unit", verbose_name="受检学校", through="RoundSchool", related_name="inspection_rounds"
    )
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name="督查员",
        through="RoundInspector",
        related_name="inspection_rounds",
    )
    previous_rounds = models.ManyToManyField(
        "self", verbose_name="跟踪的轮次", symmetrical=False, blank=True, related_name="follow_ups"
    )
    sample_size = models.PositiveIntegerField("抽样数", null=True, blank=True)
    sample_seed = models.BigIntegerField("抽样种子", null=True, blank=True)
    sample_strata = models.JSONField(
        "抽样分层", default=dict, blank=True, help_text='学校类型 → {"drawn": 抽中数, "population": 总数}'
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-start_date", "-pk"]
        verbose_name = "检查轮次"
        verbose_name_plural = "检查轮次"

    def __str__(self) -> str:
        return f"{self.campaign.name} · {self.name}"

    @property
    def is_sampled(self) -> bool:
        return self.sample_seed is not None

    def strata_rows(self) -> list[tuple[str, int, int]]:
        """(school type label, drawn, population) per stratum of the sample."""
        from chuangwen.org.models import Unit

        labels = dict(Unit.SchoolType.choices)
        return [
            (labels.get(key, key or "未分类"), s.get("drawn", 0), s.get("population", 0))
            for key, s in sorted(self.sample_strata.items())
        ]


class RoundSchool(TimeStampedModel):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="round_schools")
    school = models.ForeignKey(
        "org.Unit",
        verbose_name="学校",
        on_delete=models.PROTECT,
        related_name="round_entries",
        limit_choices_to={"kind": "school"},
    )

    class Meta:
        ordering = ["round", "school__path"]
        verbose_name = "受检学校"
        verbose_name_plural = "受检学校"
        constraints = [models.UniqueConstraint(fields=["round", "school"], name="round_school_unique")]

    def __str__(self) -> str:
        return f"{self.round_id} · {self.school_id}"


class RoundInspector(TimeStampedModel):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="round_inspectors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="督查员", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["round", "pk"]
        verbose_name = "轮次督查员"
        verbose_name_plural = "轮次督查员"
        constraints = [models.UniqueConstraint(fields=["round", "user"], name="round_inspector_unique")]

    def __str__(self) -> str:
        return f"{self.round_id} · {self.user_id}"


# Workflow as data: the moves a round may make. round_transition refuses anything else.
TRANSITIONS: dict[str, frozenset[str]] = {
    Round.Status.PLANNED: frozenset({Round.Status.IN_PROGRESS}),
    Round.Status.IN_PROGRESS: frozenset({Round.Status.FINISHED}),
    Round.Status.FINISHED: frozenset(),
}
