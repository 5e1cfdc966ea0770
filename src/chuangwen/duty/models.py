"""Responsibility (项项有人抓) and work plans (工作计划).

Assignments are keyed by standard, and a standard carries its edition, so several editions can hold
assignments side by side; the edition "in use" is chosen by the pages (see
docs/decisions/0007-responsibility.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from chuangwen.core.models import TimeStampedModel
from chuangwen.core.staging import StagedUpload, staged_upload_to


class BureauAssignment(TimeStampedModel):
    """The bureau's side of a standard: its lead department and a named person there."""

    standard = models.OneToOneField(
        "index.Standard", verbose_name="测评标准", on_delete=models.CASCADE, related_name="bureau_assignment"
    )
    department = models.ForeignKey(
        "org.Unit",
        verbose_name="牵头科室",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "department"},
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="局责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bureau_duties",
    )

    class Meta:
        ordering = ["standard__position", "standard_id"]
        verbose_name = "局级责任分工"
        verbose_name_plural = "局级责任分工"

    def __str__(self) -> str:
        return f"{self.standard.code} · {self.person or '未指定'}"


class SchoolAssignment(TimeStampedModel):
    """At one school, one standard's named owner (责任人) and the school's 分管领导 for it."""

    school = models.ForeignKey(
        "org.Unit",
        verbose_name="学校",
        on_delete=models.CASCADE,
        related_name="duty_assignments",
        limit_choices_to={"kind": "school"},
    )
    standard = models.ForeignKey(
        "index.Standard", verbose_name="测评标准", on_delete=models.CASCADE, related_name="school_assignments"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="责任人", on_delete=models.PROTECT, related_name="owned_duties"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="分管领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_duties",
    )

    class Meta:
        ordering = ["school__path", "standard__position", "standard_id"]
        verbose_name = "学校责任分工"
        verbose_name_plural = "学校责任分工"
        constraints = [
            models.UniqueConstraint(fields=["school", "standard"], name="duty_assignment_unique_pair")
        ]
        indexes = [models.Index(fields=["standard", "school"])]

    def __str__(self) -> str:
        return f"{self.school} · {self.standard.code} · {self.owner}"


class Task(TimeStampedModel):
    """One line of a school's work plan: what, who, by when, how far."""

    class Status(models.TextChoices):
        TODO = "todo", "未开始"
        DOING = "doing", "进行中"
        DONE = "done", "已完成"

    school = models.ForeignKey(
        "org.Unit",
        verbose_name="学校",
        on_delete=models.CASCADE,
        related_name="duty_tasks",
        limit_choices_to={"kind": "school"},
    )
    standard = models.ForeignKey(
        "index.Standard", verbose_name="测评标准", on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField("工作内容", max_length=300)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duty_tasks",
    )
    due_date = models.DateField("完成时限")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.TODO)
    progress_note = models.TextField("进展情况", blank=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = "工作任务"
        verbose_name_plural = "工作任务"
        indexes = [
            models.Index(fields=["school", "standard"]),
            models.Index(fields=["assignee", "status"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    def is_overdue(self, today=None) -> bool:
        """Past its due date (in Asia/Shanghai) and not done."""
        today = today or timezone.localdate()
        return not self.is_done and self.due_date < today


# Referenced by migration 0001; stored names are made by the staging base now.
upload_to = staged_upload_to


class AssignmentUpload(StagedUpload):
    """An uploaded assignment workbook between preview and confirmation."""

    upload_prefix = "imports/duty-"

    edition = models.ForeignKey("index.Edition", verbose_name="测评体系版本", on_delete=models.CASCADE)

    class Meta(StagedUpload.Meta):
        verbose_name = "责任分工导入"
        verbose_name_plural = "责任分工导入"

    def __str__(self) -> str:
        return f"责任分工导入 #{self.pk}（{self.original_name}）"
