from decimal import Decimal

from django import forms

from chuangwen.org.models import Unit

from .models import Edition, Method, ScoringKind

MATERIAL_SUGGESTIONS = "方案、总结、活动图片、评选记录、媒体报道、实景图片、台账、制度文件、统计表"


class BootstrapMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)


class EditionForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Edition
        fields = ["name", "code", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class EditionCopyForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label="新版本名称", max_length=200)
    code = forms.SlugField(label="新版本代码", max_length=60, help_text="字母、数字和连字符，如 city-2027")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Edition.objects.filter(name=name).exists():
            raise forms.ValidationError("已有同名版本")
        return name

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if Edition.objects.filter(code=code).exists():
            raise forms.ValidationError("已有相同代码的版本")
        return code


class GroupForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label="编号", max_length=30, required=False, help_text="如 1 或 1.2")
    title = forms.CharField(label="名称", max_length=300)


class StandardForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label="编号", max_length=30, help_text="在本版本内唯一，如 3.2.1")
    text = forms.CharField(label="测评标准", widget=forms.Textarea(attrs={"rows": 3}))
    points = forms.DecimalField(label="分值", max_digits=6, decimal_places=2, min_value=Decimal(0))
    methods = forms.MultipleChoiceField(
        label="测评方法", choices=Method.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    school_types = forms.MultipleChoiceField(
        label="适用学校类型",
        choices=Unit.SchoolType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    materials = forms.CharField(
        label="材料要求", required=False, help_text=f"用顿号或逗号分隔，如：{MATERIAL_SUGGESTIONS}"
    )
    lead_department = forms.ModelChoiceField(
        label="牵头科室", queryset=Unit.objects.filter(kind=Unit.Kind.DEPARTMENT), required=False
    )
    responsible_text = forms.CharField(label="责任单位（原文）", max_length=200, required=False)
    check_protocol = forms.CharField(
        label="检查方法",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="督查员如何检查，如：随机抽取5名学生背诵社会主义核心价值观，3人以上正确为达标",
    )
    scoring_kind = forms.ChoiceField(label="评分方式", choices=ScoringKind.choices)
    deduction_per = forms.DecimalField(
        label="每次扣分", required=False, min_value=Decimal("0.01"), help_text="仅“按次扣分”时填写"
    )
    deduction_cap = forms.DecimalField(
        label="最多扣分", required=False, min_value=Decimal("0.01"), help_text="仅“按次扣分”时填写"
    )
    negative_list = forms.BooleanField(label="负面清单（出现即一票否决）", required=False)

    @classmethod
    def initial_for(cls, standard) -> dict:
        params = standard.scoring_params or {}
        return {
            "code": standard.code,
            "text": standard.text,
            "points": standard.points,
            "methods": standard.methods,
            "school_types": standard.school_types,
            "materials": "、".join(standard.materials or []),
            "lead_department": standard.lead_department_id,
            "responsible_text": standard.responsible_text,
            "check_protocol": standard.check_protocol,
            "scoring_kind": standard.scoring_kind,
            "deduction_per": params.get("per"),
            "deduction_cap": params.get("cap"),
            "negative_list": standard.negative_list,
        }

    def clean_materials(self):
        raw = self.cleaned_data["materials"]
        for sep in ("，", ",", ";", "；", "\n"):
            raw = raw.replace(sep, "、")
        return [m.strip() for m in raw.split("、") if m.strip()]

    def clean(self):
        data = super().clean()
        if data.get("scoring_kind") == ScoringKind.DEDUCTION and not data.get("deduction_per"):
            self.add_error("deduction_per", "按次扣分须填写每次扣分")
        return data

    def service_fields(self, standard=None) -> dict:
        """The cleaned data in the shape the standard services take (grade fractions are kept)."""
        data = dict(self.cleaned_data)
        per, cap = data.pop("deduction_per"), data.pop("deduction_cap")
        params: dict = {}
        if standard is not None and standard.scoring_kind == data["scoring_kind"] == ScoringKind.GRADE:
            params = standard.scoring_params
        elif data["scoring_kind"] == ScoringKind.DEDUCTION:
            params = {"per": float(per)}
            if cap:
                params["cap"] = float(cap)
        data["scoring_params"] = params
        return data
