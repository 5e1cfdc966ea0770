"""Accountability records (问责记录): 通报表扬, 通报批评, 约谈, 黄牌 and 红牌 per unit, with the problems or
bulletin behind them and the unit head's acknowledgement.

A record is never deleted or silently edited: acknowledgement, correction and revocation are RecordEvents
(and audit-chain events) made by `services`. Cards (黄牌/红牌) are also given by `cards.cards_evaluate`
from the office's CardRules over evaluated periods (CardPeriod); see docs/decisions/0020-accountability.md.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from chuangwen.core.models import SingletonSettings, TimeStampedModel


class Kind(models.TextChoices):
    COMMEND = "commend", "通报表扬"
    CRITICISE = "criticise", "通报批评"
    TALK = "talk", "约谈"
    YELLOW = "yellow", "黄牌"
    RED = "red", "红牌"


CARD_KINDS = frozenset({Kind.YELLOW, Kind.RED})


class Source(models.TextChoices):
    MANUAL = "manual", "创文办登记"
    RULES = "rules", "按规则评定"
    BULLETIN = "bulletin", "通报"


def default_start() -> dt.date:
    return timezone.localdate()


class CardRules(SingletonSettings):
    """The campaign office's rules for red and yellow cards (one row)."""

    enabled = models.BooleanField("自动评定红黄牌", default=True)
    threshold = models.PositiveSmallIntegerField(
        "黄牌：逾期问题数", default=3, help_text="一个评定周期内新逾期的问题达到这个数时亮黄牌"
    )
    period_days = models.PositiveSmallIntegerField(
        "评定周期（天）", default=10, help_text="默认 10 天，即“一旬一挂牌”"
    )
    repeat_days = models.PositiveSmallIntegerField(
        "红牌：再次达到的期限（天）",
        default=30,
        help_text="上一张黄牌或红牌的周期结束后这些天内再次达到黄牌条件，即亮红牌；牌在这段时间内有效",
    )
    start_date = models.DateField("起算日期", default=default_start, help_text="第一个评定周期的第一天")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修改人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "红黄牌规则"
        verbose_name_plural = "红黄牌规则"

    def __str__(self) -> str:
        return "红黄牌规则"

    def snapshot(self) -> dict:
        return {
            "enabled": self.enabled,
            "threshold": self.threshold,
            "period_days": self.period_days,
            "repeat_days": self.repeat_days,
            "start_date": self.start_date.isoformat() if self.start_date else None,
        }


class CardPeriod(TimeStampedModel):
    """One evaluated period (Shanghai dates, both inclusive). Periods never overlap: the next one starts
    the day after the last one ended, so a problem is counted in one period only."""

    start = models.DateField("周期开始", unique=True)
    end = models.DateField("周期结束")
    evaluated_at = models.DateTimeField("评定时间", default=timezone.now)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评定人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rules = models.JSONField("所用规则", default=dict)
    overdue_counts = models.JSONField("各校逾期问题数", default=dict, blank=True)

    class Meta:
        ordering = ["-start"]
        verbose_name = "红黄牌评定周期"
        verbose_name_plural = "红黄牌评定周期"

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d}—{self.end:%Y-%m-%d}"


class Record(TimeStampedModel):
    kind = models.CharField("类别", max_length=16, choices=Kind.choices)
    unit = models.ForeignKey("org.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("事由")
    date = models.DateField("日期")
    source = models.CharField("来源", max_length=16, choices=Source.choices, default=Source.MANUAL)
    problems = models.ManyToManyField("ledger.Problem", verbose_name="相关问题", blank=True, related_name="+")
    card_period = models.ForeignKey(
        CardPeriod,
        verbose_name="评定周期",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cards",
    )
    follows = models.ForeignKey(
        "self",
        verbose_name="前一张牌",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="红牌所重复的上一张牌",
    )
    bulletin = models.ForeignKey(
        "bulletins.Bulletin",
        verbose_name="所依据的通报",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accountability_records",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    talk_at = models.DateTimeField("约谈时间", null=True, blank=True)
    talk_place = models.CharField("约谈地点", max_length=200, blank=True)
    talk_people = models.CharField("约谈人员", max_length=500, blank=True)
    talk_outcome = models.TextField("约谈结果", blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField("确认时间", null=True, blank=True)
    acknowledgement_note = models.TextField("确认意见", blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.TextField("撤销原因", blank=True)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = "问责记录"
        verbose_name_plural = "问责记录"
        indexes = [models.Index(fields=["unit", "-date"]), models.Index(fields=["kind", "-date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "card_period"],
                condition=Q(card_period__isnull=False),
                name="accountability_one_card_per_unit_period",
            ),
            models.UniqueConstraint(
                fields=["bulletin", "unit", "kind"],
                condition=Q(bulletin__isnull=False),
                name="accountability_one_record_per_bulletin_unit_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date:%Y-%m-%d}"

    @property
    def number(self) -> str:
        return f"{self.date:%Y}-{self.pk or 0:05d}"

    @property
    def is_card(self) -> bool:
        return self.kind in CARD_KINDS

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def period_end(self) -> dt.date:
        """The last day the card is about: its period's end, or the record's date for a manual card."""
        return self.card_period.end if self.card_period_id else self.date


class RecordEvent(models.Model):
    """One thing that happened to a record. Append-only; the audit chain holds the same event."""

    class Kind(models.TextChoices):
        CREATE = "create", "登记"
        ACKNOWLEDGE = "acknowledge", "确认"
        CORRECT = "correct", "更正"
        REVOKE = "revoke", "撤销"

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间", default=timezone.now)
    note = models.TextField("说明", blank=True)
    data = models.JSONField("数据", default=dict, blank=True)
    audit_seq = models.BigIntegerField("审计序号", null=True, blank=True)

    class Meta:
        ordering = ["record", "at", "pk"]
        verbose_name = "问责记录事件"
        verbose_name_plural = "问责记录事件"

    def __str__(self) -> str:
        return f"{self.record_id} {self.get_kind_display()}"
