from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class SingletonSettings(TimeStampedModel):
    """A table of one row (pk 1) of settings the office edits; `current()` reads it, or the defaults when
    nobody has saved it yet."""

    CACHE_TTL = 60  # seconds `for_display()` keeps a copy

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        key = self._cache_key()
        cache.delete(key)
        transaction.on_commit(lambda: cache.delete(key))

    @classmethod
    def current(cls):
        obj = cls.objects.filter(pk=1).first()
        return obj if obj is not None else cls(pk=1)

    @classmethod
    def for_display(cls):
        """`current()` kept in the cache for CACHE_TTL seconds, for pages that only show things with it
        (a list's traffic lights): a save drops it at once in this process, other processes of an install
        without Redis follow within the TTL. Anything that decides or records (a deadline, a move) reads
        `current()`."""
        key = cls._cache_key()
        obj = cache.get(key)
        if obj is None:
            obj = cls.current()
            cache.set(key, obj, cls.CACHE_TTL)
        return obj

    @classmethod
    def _cache_key(cls) -> str:
        return f"settings:{cls._meta.label_lower}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("审计事件只能追加，不能修改")

    def delete(self):
        raise TypeError("审计事件只能追加，不能删除")


class AuditEvent(models.Model):
    """One link of the append-only audit chain.

    `hash` = HMAC-SHA256(key, prev_hash ‖ canonical JSON of the other fields); see core/audit.py.
    There is no updated_at: a row is never updated.
    """

    class Result(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"
        DENIED = "denied", "拒绝"

    seq = models.PositiveBigIntegerField("序号", primary_key=True)
    created_at = models.DateTimeField("时间（UTC）")
    actor_id = models.BigIntegerField("操作人ID", null=True, blank=True)
    actor_username = models.CharField("操作人账号", max_length=150, blank=True)
    actor_role = models.CharField("操作人角色", max_length=200, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    event_type = models.CharField("事件类型", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=255, blank=True)
    result = models.CharField("结果", max_length=16, choices=Result.choices, default=Result.SUCCESS)
    data = models.JSONField("详情", default=dict, blank=True)
    prev_hash = models.CharField("前一哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["actor_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("审计事件只能追加，不能修改")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("审计事件只能追加，不能删除")


class ChainHead(models.Model):
    """The single row naming the chain's last event, MAC'd so that cutting the tail is detected."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    mac = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"head #{self.last_seq}"


class EvidencePhoto(TimeStampedModel):
    """An evidence photo, checked and re-encoded on upload (see core/uploads.py).

    The owner (a problem, later) is generic so that any app can attach photos without `core` importing
    it; it stays empty until the photo is attached. `phash_band0..3` are the four 16-bit quarters of the
    64-bit perceptual hash, indexed so that near-duplicates are found without scanning every row.
    """

    class Purpose(models.TextChoices):
        FOUND = "found", "发现问题/整改前"
        AFTER = "after", "整改后"
        OTHER = "other", "其他"

    owner_type = models.ForeignKey(
        "contenttypes.ContentType", models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner_id = models.PositiveBigIntegerField(null=True, blank=True)
    owner = GenericForeignKey("owner_type", "owner_id")
    school = models.ForeignKey(
        "org.Unit",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_photos",
        verbose_name="学校",
    )
    purpose = models.CharField("用途", max_length=16, choices=Purpose.choices, default=Purpose.OTHER)
    label = models.CharField("标注", max_length=100, blank=True, help_text="印在照片上，如问题编号")
    original = models.FileField("原图（已重新编码）", upload_to="evidence/%Y/%m/", max_length=255)
    stamped = models.FileField("水印图", upload_to="evidence/%Y/%m/", max_length=255)
    thumbnail = models.FileField("缩略图", upload_to="evidence/%Y/%m/", max_length=255)
    sha256 = models.CharField("SHA-256（上传原文件）", max_length=64, db_index=True)
    phash = models.CharField("感知哈希", max_length=16, db_index=True)
    phash_band0 = models.PositiveIntegerField(db_index=True)
    phash_band1 = models.PositiveIntegerField(db_index=True)
    phash_band2 = models.PositiveIntegerField(db_index=True)
    phash_band3 = models.PositiveIntegerField(db_index=True)
    width = models.PositiveIntegerField("宽")
    height = models.PositiveIntegerField("高")
    bytes = models.PositiveBigIntegerField("上传文件大小（字节）")
    mime_type = models.CharField("上传文件类型", max_length=32)
    captured_at = models.DateTimeField("拍摄时间", null=True, blank=True)
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="evidence_photos", verbose_name="上传人"
    )
    gps_stripped = models.BooleanField("已去除GPS", default=False)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = "证据照片"
        verbose_name_plural = "证据照片"
        indexes = [models.Index(fields=["owner_type", "owner_id"])]

    def __str__(self) -> str:
        return f"照片 #{self.pk} {self.sha256[:12]}"


class HolidayDay(TimeStampedModel):
    """A date that breaks the weekday/weekend rule: a weekday holiday (休) or a weekend make-up day (班).

    Weekends and plain weekdays are implicit. A year counts as entered when at least one row carries it
    in `year` (the year of the State Council notice the date belongs to, which may differ from the
    date's own year, e.g. 2018-12-29 was a make-up day of the 2019 notice). See core/calendar.py.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "休（放假）"
        WORKDAY = "workday", "班（调休上班）"

    class Source(models.TextChoices):
        LIBRARY = "library", "chinese-calendar 库"
        MANUAL = "manual", "手工录入"
        NOTICE = "notice", "放假通知导入"

    date = models.DateField("日期", unique=True)
    year = models.PositiveSmallIntegerField(
        "所属年度", blank=True, db_index=True, help_text="所属放假通知的年份；留空则取日期所在年份"
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    name = models.CharField("节日", max_length=64, blank=True)
    source = models.CharField("来源", max_length=16, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        ordering = ["date"]
        verbose_name = "节假日与调休"
        verbose_name_plural = "节假日与调休"

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}".rstrip()

    def save(self, *args, **kwargs):
        if not self.year:
            self.year = self.date.year
        super().save(*args, **kwargs)


def _holiday_day_changed(sender, **kwargs) -> None:
    from . import calendar

    calendar.invalidate()


models.signals.post_save.connect(
    _holiday_day_changed, sender=HolidayDay, dispatch_uid="core.holiday_day.save"
)
models.signals.post_delete.connect(
    _holiday_day_changed, sender=HolidayDay, dispatch_uid="core.holiday_day.delete"
)
