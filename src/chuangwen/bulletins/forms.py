from django import forms

from chuangwen.campaigns.models import Campaign, Round
from chuangwen.org.models import Unit

from .models import BulletinSchedule

SELECT = {"class": "form-select"}
TEXT = {"class": "form-control"}
AREA = {"class": "form-control", "rows": 4}
DATE = {"class": "form-control", "type": "date"}


class SchoolChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CreateForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label="创建周期",
        queryset=Campaign.objects.filter(status=Campaign.Status.ACTIVE),
        widget=forms.Select(SELECT),
    )
    round = forms.ModelChoiceField(
        label="检查轮次",
        queryset=Round.objects.select_related("campaign").order_by("-start_date", "-pk"),
        required=False,
        widget=forms.Select(SELECT),
        help_text="选择轮次则生成该轮次的通报；不选则按下面的起止日期生成阶段通报",
    )
    period_start = forms.DateField(
        label="起始日期", required=False, widget=forms.DateInput(DATE, format="%Y-%m-%d")
    )
    period_end = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(DATE, format="%Y-%m-%d")
    )
    title = forms.CharField(
        label="标题", max_length=200, required=False, widget=forms.TextInput(TEXT), help_text="不填则自动生成"
    )
    label = forms.CharField(
        label="通报类型",
        max_length=50,
        required=False,
        widget=forms.TextInput(TEXT),
        help_text="如“三天一通报”",
    )


class EditForm(forms.Form):
    title = forms.CharField(label="标题", max_length=200, widget=forms.TextInput(TEXT))
    label = forms.CharField(label="通报类型", max_length=50, required=False, widget=forms.TextInput(TEXT))
    addressee = forms.CharField(
        label="主送机关", max_length=200, required=False, widget=forms.TextInput(TEXT)
    )
    intro = forms.CharField(
        label="开头（导语）", max_length=5000, required=False, widget=forms.Textarea(AREA)
    )
    requirements = forms.CharField(
        label="下一步工作要求", max_length=5000, required=False, widget=forms.Textarea(AREA | {"rows": 6})
    )
    closing = forms.CharField(
        label="结尾", max_length=5000, required=False, widget=forms.Textarea(AREA | {"rows": 2})
    )
    addressed_to_all = forms.BooleanField(
        label="发送范围内所有学校",
        required=False,
        help_text="不勾选则只发给被表扬、批评或列出问题的学校",
        widget=forms.CheckboxInput({"class": "form-check-input"}),
    )
    commended = SchoolChoiceField(
        label="通报表扬",
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.SelectMultiple(SELECT | {"size": 8}),
    )
    criticised = SchoolChoiceField(
        label="通报批评",
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.SelectMultiple(SELECT | {"size": 8}),
    )

    def __init__(self, *args, schools=None, **kwargs):
        super().__init__(*args, **kwargs)
        if schools is not None:
            self.fields["commended"].queryset = schools
            self.fields["criticised"].queryset = schools


class ScheduleForm(forms.Form):
    name = forms.CharField(
        label="名称", max_length=100, widget=forms.TextInput(TEXT), help_text="如“三天一通报”"
    )
    campaign = forms.ModelChoiceField(
        label="创建周期",
        queryset=Campaign.objects.filter(status=Campaign.Status.ACTIVE),
        widget=forms.Select(SELECT),
    )
    cadence = forms.ChoiceField(
        label="频次", choices=BulletinSchedule.Cadence.choices, widget=forms.Select(SELECT)
    )
    every = forms.IntegerField(
        label="间隔（工作日）", min_value=1, max_value=60, initial=3, widget=forms.NumberInput(TEXT)
    )
    weekday = forms.TypedChoiceField(
        label="星期（每周）",
        coerce=int,
        choices=list(enumerate(["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"])),
        initial=0,
        widget=forms.Select(SELECT),
    )
    start_date = forms.DateField(label="起始日期", widget=forms.DateInput(DATE, format="%Y-%m-%d"))


class SettingsForm(forms.Form):
    number_prefix = forms.CharField(
        label="文号前缀",
        max_length=30,
        required=False,
        widget=forms.TextInput(TEXT),
        help_text="机关代字，如“X教体创文”",
    )
    issuer_name = forms.CharField(
        label="发文机关（落款）", max_length=60, required=False, widget=forms.TextInput(TEXT)
    )
    header_text = forms.CharField(
        label="版头（红色发文机关标志）", max_length=60, required=False, widget=forms.TextInput(TEXT)
    )
    addressee = forms.CharField(
        label="默认主送机关", max_length=200, required=False, widget=forms.TextInput(TEXT)
    )
