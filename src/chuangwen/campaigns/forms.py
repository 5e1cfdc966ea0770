from django import forms

from chuangwen.index.models import Edition

from .models import Round

SELECT = {"class": "form-select"}
TEXT = {"class": "form-control"}
DATE = {"class": "form-control", "type": "date"}


class PersonMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name or obj.username}（{obj.username}）"


class CampaignForm(forms.Form):
    name = forms.CharField(label="名称", max_length=200, widget=forms.TextInput(TEXT))
    edition = forms.ModelChoiceField(
        label="测评体系版本",
        queryset=Edition.objects.filter(status=Edition.Status.PUBLISHED),
        widget=forms.Select(SELECT),
        help_text="只能选择已发布的版本",
    )
    start_date = forms.DateField(label="开始日期", widget=forms.DateInput(DATE, format="%Y-%m-%d"))
    end_date = forms.DateField(label="结束日期", widget=forms.DateInput(DATE, format="%Y-%m-%d"))


EXPLICIT, SAMPLE = "explicit", "sample"


class RoundForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=Round.Kind.choices, widget=forms.Select(SELECT))
    name = forms.CharField(label="名称", max_length=200, widget=forms.TextInput(TEXT))
    start_date = forms.DateField(label="开始日期", widget=forms.DateInput(DATE, format="%Y-%m-%d"))
    end_date = forms.DateField(label="结束日期", widget=forms.DateInput(DATE, format="%Y-%m-%d"))
    scope = forms.ChoiceField(
        label="检查范围",
        choices=[(EXPLICIT, "指定学校"), (SAMPLE, "按学校类型分层随机抽样")],
        initial=EXPLICIT,
        widget=forms.RadioSelect,
    )
    schools = forms.ModelMultipleChoiceField(
        label="指定学校",
        queryset=None,
        required=False,
        widget=forms.SelectMultiple({"class": "form-select", "size": 8}),
        help_text="选择“指定学校”时填写；可按住 Ctrl 多选",
    )
    sample_size = forms.IntegerField(
        label="抽样学校数", min_value=1, required=False, widget=forms.NumberInput(TEXT)
    )
    sample_seed = forms.IntegerField(
        label="随机种子",
        min_value=0,
        max_value=2**62,
        required=False,
        widget=forms.NumberInput(TEXT),
        help_text="留空则自动生成；相同种子可重现同一抽样结果",
    )
    inspectors = PersonMultipleChoiceField(
        label="督查员",
        queryset=None,
        required=False,
        widget=forms.SelectMultiple({"class": "form-select", "size": 5}),
        help_text="自查轮次由学校自行检查，无需指派",
    )

    def __init__(self, *args, schools, inspectors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = schools
        self.fields["inspectors"].queryset = inspectors

    def clean(self):
        data = super().clean()
        if data.get("scope") == SAMPLE and not data.get("sample_size"):
            self.add_error("sample_size", "随机抽样须填写抽样学校数")
        if data.get("scope") == EXPLICIT and not data.get("schools"):
            self.add_error("schools", "请至少选择一所学校")
        return data


class InspectorsForm(forms.Form):
    inspectors = PersonMultipleChoiceField(
        label="督查员",
        queryset=None,
        required=False,
        widget=forms.SelectMultiple({"class": "form-select", "size": 8}),
    )

    def __init__(self, *args, inspectors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspectors"].queryset = inspectors


class FollowUpForm(forms.Form):
    """跟踪督查 from the problems of earlier rounds: which rounds, when, by whom."""

    previous_rounds = forms.ModelMultipleChoiceField(
        label="跟踪的轮次",
        queryset=None,
        widget=forms.SelectMultiple({"class": "form-select", "size": 6}),
        help_text="只覆盖这些轮次中还有未销号问题的学校",
    )
    name = forms.CharField(label="名称", max_length=200, widget=forms.TextInput(TEXT))
    start_date = forms.DateField(label="开始日期", widget=forms.DateInput(DATE, format="%Y-%m-%d"))
    end_date = forms.DateField(label="结束日期", widget=forms.DateInput(DATE, format="%Y-%m-%d"))
    inspectors = PersonMultipleChoiceField(
        label="督查员",
        queryset=None,
        required=False,
        widget=forms.SelectMultiple({"class": "form-select", "size": 6}),
    )

    def __init__(self, *args, rounds, inspectors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["previous_rounds"].queryset = rounds
        self.fields["previous_rounds"].label_from_instance = lambda r: f"{r.name}（{r.get_kind_display()}）"
        self.fields["inspectors"].queryset = inspectors
