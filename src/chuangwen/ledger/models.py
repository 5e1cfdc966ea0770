"""The problem ledger (检查台帐): every problem found, who must fix it by when, and what happened to it.

The states and the moves between them are data (`workflow.MOVES`); `services.problem_move` is the only
code that changes a problem's status, and every change is a ProblemEvent plus an audit-chain event.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from chuangwen.core.models import SingletonSettings, TimeStampedModel


class Status(models.TextChoices):
    NEW = "new", "待交办"
    ASSIGNED = "assigned", "已交办（待签收）"
    IN_PROGRESS = "in_progress", "整改中"
    PENDING_REVIEW = "pending_review", "待复核"
    CLOSED = "closed", "已销号"
    VOID = "void", "已作废"


# Problems that still need work by the school: deadlines, lights and escalation apply to these.
OPEN_STATUSES = frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS})
# Problems nobody needs to act on any more.
DONE_STATUSES = frozenset({Status.CLOSED, Status.VOID})


class Severity(models.TextChoices):
    IMMEDIATE = "immediate", "立行立改"
    DAYS = "days", "限期整改"
    LONG = "long", "长期整改"


class Source(models.TextChoices):
    """发现方式: the round kinds, plus problems recorded outside a round."""

    SELF = "self", "自查"
    MOCK = "mock", "模拟测评"
    UNANNOUNCED = "unannounced", "暗访督查"
    FOLLOW_UP = "follow_up", "跟踪督查"
    DAILY = "daily", "日常检查"
    REPORT = "report", "群众反映"


class Light(models.TextChoices):
    GREEN = "green", "正常"
    YELLOW = "yellow", "临期"
    RED = "red", "逾期"
    NONE = "none", "—"


def default_ladder() -> list[dict]:
    return [
        {"after": 0, "roles": ["liaison", "school_head"], "label": "到期提醒学校"},
        {"after": 1, "roles": ["dept_head"], "label": "升级至科室负责人"},
        {"after": 3, "roles": ["leader"], "label": "升级至局领导并列入通报", "bulletin": True},
    ]


class LedgerSettings(SingletonSettings):
    """The campaign office's rules for deadlines, lights and escalation (one row)."""

    default_days = models.PositiveSmallIntegerField("限期整改默认工作日数", default=3, help_text="交办时可改")
    yellow_ratio = models.DecimalField(
        "临期比例",
        max_digits=4,
        decimal_places=2,
        default=0.25,
        help_text="剩余时间不足整改时长的这一比例时亮黄灯",
    )
    yellow_min_hours = models.PositiveSmallIntegerField(
        "临期最少小时数", default=4, help_text="剩余时间不足这些小时时总是亮黄灯"
    )
    ladder = models.JSONField(
        "逾期升级规则",
        default=default_ladder,
        help_text='逾期后第几个工作日通知哪些角色，如 [{"after": 1, "roles": ["dept_head"]}]',
    )
    remind_daily = models.BooleanField("每个工作日重复提醒", default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修改人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "整改规则"
        verbose_name_plural = "整改规则"

    def __str__(self) -> str:
        return "整改规则"


class Problem(TimeStampedModel):
    school = models.ForeignKey(
        "org.Unit",
        verbose_name="学校",
        on_delete=models.PROTECT,
        related_name="problems",
        limit_choices_to={"kind": "school"},
    )
    standard = models.ForeignKey(
        "index.Standard",
        verbose_name="对应标准",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
    )
    round = models.ForeignKey(
        "campaigns.Round",
        verbose_name="检查轮次",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
    )
    inspection = models.ForeignKey(
        "inspections.Inspection",
        verbose_name="检查",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
    )
    answer = models.ForeignKey(
        "inspections.Answer",
        verbose_name="评分",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
    )
    source = models.CharField("发现方式", max_length=16, choices=Source.choices)
    description = models.TextField("问题描述")
    location = models.CharField("位置", max_length=200, blank=True)
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发现人", on_delete=models.PROTECT, related_name="+"
    )
    found_at = models.DateTimeField("发现时间", default=timezone.now)
    severity = models.CharField(
        "整改类型", max_length=16, choices=Severity.choices, default=Severity.IMMEDIATE
    )
    deadline_days = models.PositiveSmallIntegerField("整改工作日数", null=True, blank=True)
    target_date = models.DateField("目标日期", null=True, blank=True)
    deadline = models.DateTimeField("整改时限", null=True, blank=True)
    calendar_gap = models.CharField(
        "日历缺失年份", max_length=60, blank=True, help_text="计算时限时未录入节假日的年份（仅按周末计算）"
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="problems",
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.NEW)
    assigned_at = models.DateTimeField("交办时间", null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="交办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_at = models.DateTimeField("签收时间", null=True, blank=True)
    cause = models.TextField("原因分析", blank=True)
    measures = models.TextField("整改措施", blank=True)
    submitted_at = models.DateTimeField("整改提交时间", null=True, blank=True)
    rechecked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rechecked_at = models.DateTimeField("复核时间", null=True, blank=True)
    recheck_note = models.TextField("复核意见", blank=True)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    void_reason = models.TextField("作废原因", blank=True)
    escalation_level = models.PositiveSmallIntegerField("已升级级数", default=0)
    last_reminded_on = models.DateField("最近提醒日", null=True, blank=True)
    listed_for_bulletin = models.BooleanField("列入通报", default=False)
    reopen_count = models.PositiveSmallIntegerField("重新打开次数", default=0)

    class Meta:
        ordering = ["-found_at", "-pk"]
        verbose_name = "问题"
        verbose_name_plural = "问题"
        indexes = [
            models.Index(fields=["status", "deadline"]),
            models.Index(fields=["school", "status"]),
            models.Index(fields=["responsible", "status"]),
            models.Index(fields=["-found_at", "-id"], name="problem_found_desc"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.description[:30]}"

    @property
    def number(self) -> str:
        """The problem number people quote: year found and id, e.g. 2026-000123."""
        year = timezone.localtime(self.found_at).year if self.found_at else timezone.localdate().year
        return f"{year}-{self.pk or 0:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Milestone(TimeStampedModel):
    """A step of a long-term rectification (长期整改), e.g. 场地招标 → 施工 → 验收."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField("节点", max_length=200)
    due_date = models.DateField("计划完成日期")
    done_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        ordering = ["problem", "due_date", "pk"]
        verbose_name = "整改节点"
        verbose_name_plural = "整改节点"

    def __str__(self) -> str:
        return self.title


class ProblemEvent(models.Model):
    """One thing that happened to a problem. Append-only; the audit chain holds the same event."""

    class Kind(models.TextChoices):
        CREATE = "create", "登记"
        MOVE = "move", "流转"
        EDIT = "edit", "更正"
        PHOTO = "photo", "照片"
        REMIND = "remind", "提醒"
        ESCALATE = "escalate", "升级"
        MILESTONE = "milestone", "整改节点"

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    move = models.CharField("动作", max_length=16, blank=True)
    from_status = models.CharField("原状态", max_length=16, blank=True)
    to_status = models.CharField("新状态", max_length=16, blank=True)
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
        ordering = ["problem", "at", "pk"]
        verbose_name = "问题记录"
        verbose_name_plural = "问题记录"

    def __str__(self) -> str:
        return f"{self.problem_id} {self.get_kind_display()} {self.move}"
