"""Notifications: in-app messages, per-unit channel settings, and the outbox the worker delivers.

Units are referenced by lazy string foreign keys ("org.Unit"): the database keeps them consistent, yet
this app imports no domain code. Callers address messages by user and unit ids.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from chuangwen.core.models import TimeStampedModel


class Notification(TimeStampedModel):
    """One in-app message for one user."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name="接收人",
    )
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="单位"
    )
    kind = models.CharField("类型", max_length=64, blank=True)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=500, blank=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    dedupe_key = models.CharField("去重键", max_length=200, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "站内通知"
        verbose_name_plural = "站内通知"
        indexes = [models.Index(fields=["recipient", "read_at"], name="notify_unread_idx")]

    def __str__(self) -> str:
        return self.title


class ChannelKind(models.TextChoices):
    EMAIL = "email", "电子邮件"
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"
    WEBHOOK = "webhook", "通用 JSON Webhook"
    SMS = "sms", "短信网关（HTTP）"


class ChannelConfig(TimeStampedModel):
    """One delivery channel of one unit.

    Treat `settings` as confidential too (WeCom and DingTalk put their key in the webhook URL); `secret`
    is write-only in the pages, and neither is ever logged or audited.
    Settings per kind:
      email:    {"to": ["a@x.cn"], "to_recipients": true}
      wecom:    {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…", "msgtype": "markdown"}
      dingtalk: {"url": "https://oapi.dingtalk.com/robot/send?access_token=…"}  + secret (加签)
      webhook:  {"url": "https://…"}  + secret (HMAC-SHA256)
      sms:      {"url": "…", "method": "POST", "params": {"mobile": "{phone}", "content": "{title}"},
                 "phones": ["13800000000"], "to_recipients": true, "success_contains": ""}  + secret
    """

    unit = models.ForeignKey(
        "org.Unit", on_delete=models.CASCADE, related_name="notify_channels", verbose_name="单位"
    )
    kind = models.CharField("渠道", max_length=16, choices=ChannelKind.choices)
    name = models.CharField("名称", max_length=100, blank=True)
    enabled = models.BooleanField("启用", default=True)
    settings = models.JSONField("配置", default=dict, blank=True)
    secret = models.CharField("密钥", max_length=500, blank=True)

    class Meta:
        ordering = ["unit_id", "kind", "pk"]
        verbose_name = "通知渠道"
        verbose_name_plural = "通知渠道"

    def __str__(self) -> str:
        return self.name or self.get_kind_display()


class Outbox(TimeStampedModel):
    """One message to deliver through one channel, claimed by exactly one worker at a time."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "失败待重试"
        DEAD = "dead", "已放弃"

    channel = models.CharField("渠道", max_length=16, choices=ChannelKind.choices)
    config = models.ForeignKey(
        ChannelConfig, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="单位"
    )
    target = models.CharField("发送对象", max_length=500, blank=True)
    payload = models.JSONField("内容", default=dict)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", default=timezone.now)
    claimed_by = models.CharField("处理进程", max_length=100, blank=True)
    claimed_at = models.DateTimeField("领取时间", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    dedupe_key = models.CharField("去重键", max_length=200, unique=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "待发消息"
        verbose_name_plural = "待发消息"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notify_outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"


class DeliveryAttempt(models.Model):
    """Every try at sending an outbox message, successful or not."""

    outbox = models.ForeignKey(Outbox, on_delete=models.CASCADE, related_name="delivery_attempts")
    created_at = models.DateTimeField("时间", default=timezone.now)
    worker = models.CharField("处理进程", max_length=100, blank=True)
    success = models.BooleanField("成功", default=False)
    status_code = models.PositiveIntegerField("HTTP 状态码", null=True, blank=True)
    error = models.TextField("错误", blank=True)
    duration_ms = models.PositiveIntegerField("耗时（毫秒）", default=0)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "投递记录"
        verbose_name_plural = "投递记录"

    def __str__(self) -> str:
        return f"{self.outbox_id}@{self.created_at:%Y-%m-%d %H:%M:%S}"
