"""Bulletins (通报): a draft with editable text around generated parts, then issued — numbered (文号),
frozen (content snapshot + SHA-256), in the audit chain and sent to the schools.

An issued bulletin never changes: the services refuse, and `Bulletin.save` / `delete` and the M2M
lists refuse as well (defence in depth). A correction is a reissue: a new draft with `reissue_of` set,
which takes a new number when it is issued.

Numbers: `<prefix>〔<year>〕<n>号`, `n` a yearly sequence without gaps, allocated inside the issuing
transaction from `BulletinCounter` (row locked), backed by unique constraints on (year, sequence) and
on the number.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from chuangwen.core.models import TimeStampedModel

DEFAULT_PREFIX = "X教体创文"
DEFAULT_ISSUER = "X市教育体育局"
DEFAULT_HEADER = "X市教育体育局创文工作通报"

ISSUED_IMMUTABLE = "该通报已印发，不能修改；如需更正，请“重新印发”生成新的通报。"


class BulletinSettings(TimeStampedModel):
    """The office's settings (one row): how numbers and the red header read."""

    number_prefix = models.CharField(
        "文号前缀", max_length=30, default="", blank=True, help_text="如“X教体创文”；空则用系统设置中的默认值"
    )
    issuer_name = models.CharField("发文机关", max_length=60, default="", blank=True)
    header_text = models.CharField("版头（发文机关标志）", max_length=60, default="", blank=True)
    addressee = models.CharField("主送机关", max_length=200, default="各区教育局，局属各学校：", blank=True)

    class Meta:
        verbose_name = "通报设置"
        verbose_name_plural = "通报设置"

    def __str__(self) -> str:
        return "通报设置"

    @classmethod
    def current(cls) -> BulletinSettings:
        obj = cls.objects.order_by("pk").first()
        return obj or cls(pk=None)

    @property
    def prefix(self) -> str:
        return self.number_prefix or getattr(settings, "BULLETIN_NUMBER_PREFIX", DEFAULT_PREFIX)

    @property
    def issuer(self) -> str:
        return self.issuer_name or getattr(settings, "BULLETIN_ISSUER", DEFAULT_ISSUER)

    @property
    def header(self) -> str:
        return self.header_text or getattr(settings, "BULLETIN_HEADER", DEFAULT_HEADER)


class BulletinCounter(models.Model):
    """The last sequence number used in a year; locked (SELECT … FOR UPDATE) while a number is taken."""

    year = models.PositiveIntegerField("年份", unique=True)
    last = models.PositiveIntegerField("已用到", default=0)

    class Meta:
        verbose_name = "通报编号"
        verbose_name_plural = "通报编号"

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class BulletinSchedule(TimeStampedModel):
    """A cadence such as “三天一通报”: the worker creates a DRAFT when one is due (never issues)."""

    class Cadence(models.TextChoices):
        WORKING_DAYS = "working_days", "每 N 个工作日"
        WEEKLY = "weekly", "每周"
        ROUND_FINISHED = "round_finished", "每轮检查结束后"

    name = models.CharField("名称", max_length=100, help_text="如“三天一通报”")
    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name="创建周期", on_delete=models.CASCADE, related_name="+"
    )
    cadence = models.CharField("频次", max_length=16, choices=Cadence.choices)
    every = models.PositiveSmallIntegerField("间隔（工作日）", default=3)
    weekday = models.PositiveSmallIntegerField(
        "星期", default=0, help_text="每周通报在星期几生成：0=星期一 … 6=星期日"
    )
    start_date = models.DateField("起始日期")
    active = models.BooleanField("启用", default=True)
    active_since = models.DateTimeField(
        "最近启用时间", null=True, blank=True, help_text="停用期间到期的通报不补建；空则自创建起"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "通报计划"
        verbose_name_plural = "通报计划"

    def __str__(self) -> str:
        return self.name


class BulletinQuerySet(models.QuerySet):
    """Bulk updates and deletes refuse to touch issued bulletins, as `save` and `delete` do."""

    def update(self, **kwargs):
        if self.filter(status=Bulletin.Status.ISSUED).exists():
            raise ValidationError(ISSUED_IMMUTABLE)
        return super().update(**kwargs)

    def delete(self):
        if self.filter(status=Bulletin.Status.ISSUED).exists():
            raise ValidationError("已印发的通报不能删除。")
        return super().delete()


class Bulletin(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ISSUED = "issued", "已印发"

    class Kind(models.TextChoices):
        PERIOD = "period", "阶段通报"
        ROUND = "round", "轮次通报"

    # Fields frozen once issued (everything a reader sees, and the record of issuing).
    FROZEN = (
        "campaign_id",
        "round_id",
        "kind",
        "label",
        "status",
        "number",
        "year",
        "sequence",
        "title",
        "addressee",
        "period_start",
        "period_end",
        "intro",
        "requirements",
        "closing",
        "addressed_to_all",
        "content",
        "content_sha256",
        "reissue_of_id",
        "issued_by_id",
        "issued_at",
        "issuer_name",
    )

    campaign = models.ForeignKey(
        "campaigns.Campaign", verbose_name="创建周期", on_delete=models.PROTECT, related_name="bulletins"
    )
    round = models.ForeignKey(
        "campaigns.Round",
        verbose_name="检查轮次",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bulletins",
    )
    kind = models.CharField("类别", max_length=16, choices=Kind.choices, default=Kind.PERIOD)
    label = models.CharField(
        "通报类型", max_length=50, blank=True, help_text="如“三天一通报”“第一轮模拟测评”"
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField("文号", max_length=60, blank=True, default="")
    year = models.PositiveIntegerField("年份", null=True, blank=True)
    sequence = models.PositiveIntegerField("序号", null=True, blank=True)
    title = models.CharField("标题", max_length=200)
    addressee = models.CharField("主送机关", max_length=200, blank=True)
    period_start = models.DateField("起始日期", null=True, blank=True)
    period_end = models.DateField("截止日期", null=True, blank=True)
    intro = models.TextField("开头（导语）", blank=True)
    requirements = models.TextField("下一步工作要求", blank=True)
    closing = models.TextField("结尾", blank=True)
    addressed_to_all = models.BooleanField(
        "发送范围内所有学校", default=True, help_text="否：只发给被表扬、批评或列出问题的学校"
    )
    content = models.JSONField("生成内容（印发时冻结）", default=dict, blank=True)
    content_sha256 = models.CharField("内容摘要 SHA-256", max_length=64, blank=True)
    commended = models.ManyToManyField(
        "org.Unit", verbose_name="通报表扬", blank=True, related_name="bulletins_commended"
    )
    criticised = models.ManyToManyField(
        "org.Unit", verbose_name="通报批评", blank=True, related_name="bulletins_criticised"
    )
    recipients = models.ManyToManyField(
        "org.Unit", verbose_name="发送学校", blank=True, related_name="bulletins_received"
    )
    reissue_of = models.ForeignKey(
        "self",
        verbose_name="更正自",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reissues",
    )
    issuer_name = models.CharField("发文机关", max_length=60, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="印发人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField("印发时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="起草人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    schedule = models.ForeignKey(
        BulletinSchedule,
        verbose_name="通报计划",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bulletins",
    )
    due_key = models.CharField("计划期次", max_length=40, blank=True, default="")

    objects = BulletinQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-created_at", "-pk"]
        verbose_name = "通报"
        verbose_name_plural = "通报"
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="bulletin_number_unique"
            ),
            models.UniqueConstraint(
                fields=["year", "sequence"],
                condition=Q(sequence__isnull=False),
                name="bulletin_year_sequence_unique",
            ),
            models.UniqueConstraint(
                fields=["schedule", "due_key"],
                condition=Q(schedule__isnull=False),
                name="bulletin_schedule_due_unique",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | (~Q(number="") & Q(sequence__isnull=False)),
                name="bulletin_issued_has_number",
            ),
        ]
        indexes = [models.Index(fields=["status", "-issued_at"], name="bulletin_status_issued")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}" if self.number else f"（草稿）{self.title}"

    @property
    def is_issued(self) -> bool:
        return self.status == self.Status.ISSUED

    def save(self, *args, **kwargs):
        if self.pk:
            stored = (
                type(self).objects.filter(pk=self.pk, status=self.Status.ISSUED).values(*self.FROZEN).first()
            )
            if stored is not None:
                changed = [f for f in self.FROZEN if getattr(self, f) != stored[f]]
                if changed:
                    raise ValidationError(ISSUED_IMMUTABLE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk and type(self).objects.filter(pk=self.pk, status=self.Status.ISSUED).exists():
            raise ValidationError("已印发的通报不能删除。")
        return super().delete(*args, **kwargs)
