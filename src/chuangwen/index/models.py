"""Evaluation-index editions (测评体系): a tree of groups (测评项目 → 测评内容 [→ 测评子项]) with standards
(测评标准) as leaves. A published edition never changes; see docs/decisions/0006-index-editions.md.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from chuangwen.core.models import TimeStampedModel
from chuangwen.core.staging import StagedUpload, staged_upload_to


class EditionLocked(ValidationError):
    """Raised on any attempt to change an edition that is no longer a draft."""


class Method(models.TextChoices):
    SITE = "site", "实地考察"
    DOCUMENT = "document", "材料审核/网上申报"
    SURVEY = "survey", "问卷调查"
    OBSERVATION = "observation", "整体观察"


class ScoringKind(models.TextChoices):
    GRADE = "grade", "达标/基本达标/不达标"
    DEDUCTION = "deduction", "按次扣分"
    PASS_FAIL = "pass_fail", "合格/不合格"


DEFAULT_GRADE_FRACTIONS = {"达标": 1.0, "基本达标": 0.6, "不达标": 0.0}
MAX_GROUP_DEPTH = 3  # 测评项目 → 测评内容 → (one more level where a source table has it)
GROUP_LEVEL_LABELS = {1: "测评项目", 2: "测评内容", 3: "测评子项"}


class Edition(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"
        ARCHIVED = "archived", "已归档"

    name = models.CharField("名称", max_length=200, unique=True)
    code = models.SlugField("代码", max_length=60, unique=True, help_text="命令行和接口中使用，如 ref-2026")
    description = models.TextField("说明", blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    based_on = models.ForeignKey(
        "self",
        verbose_name="复制自",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="derived",
    )
    is_reference = models.BooleanField(
        "参考版本", default=False, help_text="随产品提供的参考指标，须由教体局的正式版本替换"
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "测评体系版本"
        verbose_name_plural = "测评体系版本"

    def __str__(self) -> str:
        return self.name

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def ensure_draft(self) -> None:
        if not self.is_draft:
            raise EditionLocked(
                f"“{self.name}”已{self.get_status_display()}，不能修改；请复制为新版本后再修改。"
            )


class LockedByEditionMixin:
    """Refuse saves and deletes of rows whose edition is not a draft (service, API and admin alike)."""

    def _locked_edition(self):
        edition = Edition.objects.filter(pk=self.edition_id).only("status", "name").first()
        return edition if edition is not None and not edition.is_draft else None

    def save(self, *args, **kwargs):
        edition = self._locked_edition()
        if edition is not None:
            edition.ensure_draft()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        edition = self._locked_edition()
        if edition is not None:
            edition.ensure_draft()
        return super().delete(*args, **kwargs)


class Group(LockedByEditionMixin, TimeStampedModel):
    """An inner node: 测评项目 (depth 1), 测评内容 (depth 2) or, where a table has it, a third level."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="groups")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    depth = models.PositiveSmallIntegerField("层级", default=1)
    code = models.CharField("编号", max_length=30, blank=True)
    title = models.CharField("名称", max_length=300)
    position = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        ordering = ["edition", "depth", "position", "pk"]
        verbose_name = "指标分组"
        verbose_name_plural = "指标分组"

    def __str__(self) -> str:
        return f"{self.code} {self.title}".strip()

    @property
    def level_label(self) -> str:
        return GROUP_LEVEL_LABELS.get(self.depth, "分组")


class Standard(LockedByEditionMixin, TimeStampedModel):
    """A 测评标准: what is checked, how, for which schools, with what evidence, worth how many points."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="standards")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="standards")
    code = models.CharField("编号", max_length=30)
    text = models.TextField("测评标准")
    points = models.DecimalField("分值", max_digits=6, decimal_places=2)
    methods = models.JSONField("测评方法", default=list, help_text="Method 代码列表")
    school_types = models.JSONField("适用学校类型", default=list, help_text="Unit.SchoolType 代码列表")
    materials = models.JSONField("材料要求", default=list, help_text="如：方案、总结、活动图片")
    lead_department = models.ForeignKey(
        "org.Unit",
        verbose_name="牵头科室",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_standards",
        limit_choices_to={"kind": "department"},
    )
    responsible_text = models.CharField("责任单位（原文）", max_length=200, blank=True)
    check_protocol = models.TextField(
        "检查方法",
        blank=True,
        help_text="督查员如何检查，如：随机抽取5名学生背诵社会主义核心价值观，3人以上正确为达标",
    )
    scoring_kind = models.CharField(
        "评分方式", max_length=16, choices=ScoringKind.choices, default=ScoringKind.GRADE
    )
    scoring_params = models.JSONField(
        "评分参数",
        default=dict,
        blank=True,
        help_text='grade: {"达标":1,"基本达标":0.6,"不达标":0}; deduction: {"per":0.5,"cap":2}',
    )
    negative_list = models.BooleanField("负面清单", default=False, help_text="出现即一票否决")
    position = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        ordering = ["edition", "position", "pk"]
        verbose_name = "测评标准"
        verbose_name_plural = "测评标准"
        constraints = [
            models.UniqueConstraint(fields=["edition", "code"], name="standard_code_unique_in_edition")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text[:30]}"

    def method_labels(self) -> list[str]:
        labels = dict(Method.choices)
        return [labels.get(m, m) for m in self.methods]

    def applies_to(self, school_type: str) -> bool:
        return school_type in self.school_types

    def fraction_for(self, result: str, occurrences: int = 0) -> Decimal:
        """The share of the points a result earns under this standard's rule."""
        if self.scoring_kind == ScoringKind.GRADE:
            fractions = self.scoring_params or DEFAULT_GRADE_FRACTIONS
            return Decimal(str(fractions.get(result, 0)))
        if self.scoring_kind == ScoringKind.PASS_FAIL:
            return Decimal(1) if result == "合格" else Decimal(0)
        per = Decimal(str(self.scoring_params.get("per", 0)))
        cap = Decimal(str(self.scoring_params.get("cap", self.points)))
        lost = min(per * occurrences, cap, self.points)
        return (self.points - lost) / self.points if self.points else Decimal(0)


# Referenced by migration 0002; stored names are made by the staging base now.
index_import_upload_to = staged_upload_to


class IndexImportBatch(StagedUpload):
    """An uploaded index file (Excel or YAML) between preview and confirmation as a new draft edition."""

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel"
        YAML = "yaml", "YAML"

    upload_prefix = "index-imports/"

    fmt = models.CharField("格式", max_length=8, choices=Format.choices)
    name = models.CharField("版本名称", max_length=200)
    code = models.CharField("版本代码", max_length=60)
    edition = models.ForeignKey(
        Edition,
        verbose_name="导入的版本",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(StagedUpload.Meta):
        verbose_name = "测评体系导入批次"
        verbose_name_plural = "测评体系导入批次"

    def upload_suffix(self) -> str:
        return ".yaml" if self.fmt == self.Format.YAML else ".xlsx"

    def __str__(self) -> str:
        return f"测评体系导入 #{self.pk}（{self.original_name}）"
