from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Concat, Substr

from chuangwen.core.models import TimeStampedModel
from chuangwen.core.roles import BUREAU_ROLES, SCHOOL_ROLES, Role
from chuangwen.core.staging import StagedUpload, staged_upload_to

# 大班额 / 超大班额 thresholds (国发〔2016〕40号): 56–65 and 66 or more.
LARGE_CLASS_MIN = 56
HUGE_CLASS_MIN = 66


class Unit(TimeStampedModel):
    """A node of the organisation tree: the bureau, its departments, districts and schools.

    `path` is a materialised path of ids ("/1/4/27/") so a subtree is one `startswith` filter; it is
    maintained by save() and never typed in.
    """

    class Kind(models.TextChoices):
        BUREAU = "bureau", "教体局"
        DEPARTMENT = "department", "科室"
        DISTRICT = "district", "区县"
        SCHOOL = "school", "学校"

    class SchoolType(models.TextChoices):
        KINDERGARTEN = "kindergarten", "幼儿园"
        PRIMARY = "primary", "小学"
        JUNIOR = "junior", "初中"
        NINE_YEAR = "nine_year", "九年一贯制"
        SENIOR = "senior", "高中"
        COMPLETE = "complete", "完全中学"
        VOCATIONAL = "vocational", "职业学校"
        SPECIAL = "special", "特殊教育学校"

    class Ownership(models.TextChoices):
        PUBLIC = "public", "公办"
        PRIVATE = "private", "民办"

    ALLOWED_PARENTS = {
        Kind.BUREAU: (),
        Kind.DEPARTMENT: (Kind.BUREAU,),
        Kind.DISTRICT: (Kind.BUREAU,),
        Kind.SCHOOL: (Kind.BUREAU, Kind.DISTRICT),
    }

    kind = models.CharField("类别", max_length=16, choices=Kind.choices)
    name = models.CharField("名称", max_length=100)
    code = models.CharField(
        "代码", max_length=32, unique=True, help_text="学校标识码或内部编码，导入时据此匹配"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    school_type = models.CharField("学校类型", max_length=16, choices=SchoolType.choices, blank=True)
    ownership = models.CharField("办学性质", max_length=8, choices=Ownership.choices, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    enrolment = models.PositiveIntegerField("在校学生数", null=True, blank=True)
    staff_count = models.PositiveIntegerField("教职工数", null=True, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["path"]
        verbose_name = "单位"
        verbose_name_plural = "单位"
        indexes = [models.Index(fields=["kind", "school_type"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_school(self) -> bool:
        return self.kind == self.Kind.SCHOOL

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/")

    def clean(self):
        errors = {}
        allowed = self.ALLOWED_PARENTS.get(self.kind, ())
        if self.parent is None and allowed:
            errors["parent"] = f"{self.get_kind_display()}必须有上级单位"
        elif self.parent is not None and self.parent.kind not in allowed:
            errors["parent"] = f"{self.get_kind_display()}的上级单位不能是{self.parent.get_kind_display()}"
        if self.kind == self.Kind.SCHOOL:
            if not self.school_type:
                errors["school_type"] = "学校必须填写学校类型"
            if not self.ownership:
                errors["ownership"] = "学校必须填写办学性质"
        elif self.school_type or self.ownership:
            errors["school_type"] = "只有学校才有学校类型和办学性质"
        if errors:
            raise ValidationError(errors)

    def expected_path(self) -> str:
        return (self.parent.path if self.parent_id else "/") + f"{self.pk}/"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        expected = self.expected_path()
        if self.path != expected:
            old = self.path
            Unit.objects.filter(pk=self.pk).update(path=expected)
            if old:
                Unit.objects.filter(path__startswith=old).exclude(pk=self.pk).update(
                    path=Concat(models.Value(expected), Substr("path", len(old) + 1))
                )
            self.path = expected


class Membership(TimeStampedModel):
    """A role held by a person on a unit (局领导 on the bureau, 创文联络员 on a school, …)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="人员", on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("角色", max_length=16, choices=Role.choices)
    title = models.CharField("职务", max_length=50, blank=True, help_text="如：分管副校长、德育主任")

    class Meta:
        ordering = ["unit__path", "role"]
        verbose_name = "角色"
        verbose_name_plural = "角色"
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_role_display()}"

    def clean(self):
        unit_kind = self.unit.kind if self.unit_id else None
        if self.role in SCHOOL_ROLES and unit_kind != Unit.Kind.SCHOOL:
            raise ValidationError({"role": f"“{self.get_role_display()}”只能在学校担任"})
        if self.role in BUREAU_ROLES and unit_kind == Unit.Kind.SCHOOL:
            raise ValidationError({"role": f"“{self.get_role_display()}”不能在学校担任"})
        if self.role == Role.DEPT_HEAD and unit_kind != Unit.Kind.DEPARTMENT:
            raise ValidationError({"role": "“科室负责人”必须在科室担任"})


class Grade(models.IntegerChoices):
    """Grades in teaching order; the value sorts, the label is what schools write."""

    NURSERY = 0, "托班"
    K1 = 1, "小班"
    K2 = 2, "中班"
    K3 = 3, "大班"
    G1 = 11, "一年级"
    G2 = 12, "二年级"
    G3 = 13, "三年级"
    G4 = 14, "四年级"
    G5 = 15, "五年级"
    G6 = 16, "六年级"
    G7 = 17, "七年级"
    G8 = 18, "八年级"
    G9 = 19, "九年级"
    S1 = 21, "高一"
    S2 = 22, "高二"
    S3 = 23, "高三"


GRADE_ALIASES = {
    "初一": Grade.G7,
    "初二": Grade.G8,
    "初三": Grade.G9,
    "高中一年级": Grade.S1,
    "高中二年级": Grade.S2,
    "高中三年级": Grade.S3,
    "小一班": Grade.K1,
}


def parse_grade(text: str) -> Grade | None:
    text = (text or "").strip()
    for grade in Grade:
        if grade.label == text:
            return grade
    return GRADE_ALIASES.get(text)


class SchoolClass(TimeStampedModel):
    """A class: grade, name, head teacher and size (大班额 flags are computed, not typed)."""

    school = models.ForeignKey(
        Unit,
        verbose_name="学校",
        on_delete=models.CASCADE,
        related_name="classes",
        limit_choices_to={"kind": Unit.Kind.SCHOOL},
    )
    grade = models.PositiveSmallIntegerField("年级", choices=Grade.choices)
    name = models.CharField("班级名", max_length=30)
    head_teacher_name = models.CharField("班主任", max_length=50, blank=True)
    head_teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="班主任账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="head_of_classes",
    )
    student_count = models.PositiveIntegerField("学生数")

    class Meta:
        ordering = ["school__path", "grade", "name"]
        verbose_name = "班级"
        verbose_name_plural = "班级"
        constraints = [
            models.UniqueConstraint(fields=["school", "grade", "name"], name="class_unique_in_school")
        ]

    def __str__(self) -> str:
        return f"{self.get_grade_display()}{self.name}"

    @property
    def size_flag(self) -> str:
        if self.student_count >= HUGE_CLASS_MIN:
            return "超大班额"
        if self.student_count >= LARGE_CLASS_MIN:
            return "大班额"
        return ""


# Referenced by migration 0002; stored names are made by the staging base now.
import_upload_to = staged_upload_to


class ImportBatch(StagedUpload):
    """An uploaded spreadsheet of schools or classes between preview and confirmation."""

    class Kind(models.TextChoices):
        SCHOOLS = "schools", "学校"
        CLASSES = "classes", "班级"

    kind = models.CharField("导入内容", max_length=16, choices=Kind.choices)

    class Meta(StagedUpload.Meta):
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}导入 #{self.pk}（{self.original_name}）"
