"""Forms of the accountability pages. They parse input; the services decide what is allowed."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from chuangwen.core.calendar import SHANGHAI

from .models import Kind
from .selectors import Filters

SELECT_SM = {"class": "form-select form-select-sm"}
TEXT_SM = {"class": "form-control form-control-sm"}
SELECT = {"class": "form-select"}
TEXT = {"class": "form-control"}
YES_NO = [("", "全部"), ("no", "未确认"), ("yes", "已确认")]
REVOKED = [("no", "有效"), ("yes", "已撤销"), ("all", "全部")]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class FilterForm(forms.Form):
    """The list's filters. Bad values are dropped (a filter link must never crash the page)."""

    kind = forms.ChoiceField(label="类别", choices=[("", "全部类别"), *Kind.choices], required=False)
    unit = forms.TypedChoiceField(label="单位", coerce=int, empty_value=None, required=False)
    date_from = forms.DateField(label="自", required=False, widget=DateInput)
    date_to = forms.DateField(label="至", required=False, widget=DateInput)
    acknowledged = forms.ChoiceField(label="确认", choices=YES_NO, required=False)
    revoked = forms.ChoiceField(label="状态", choices=REVOKED, required=False)

    def __init__(self, data, *, units=()):
        super().__init__(data)
        self.fields["unit"].choices = [("", "全部单位"), *((u.pk, u.name) for u in units)]
        if not units:
            del self.fields["unit"]
        for name, field in self.fields.items():
            field.widget.attrs.update(TEXT_SM if name.startswith("date") else SELECT_SM)

    def filters(self, *, cards_only: bool = False) -> Filters:
        if self.is_bound:
            self.is_valid()
        data = getattr(self, "cleaned_data", {})
        # Valid records unless asked otherwise ("all" = valid and revoked).
        revoked = {"yes": "yes", "all": ""}.get(data.get("revoked") or "", "no")
        return Filters(
            kind=data.get("kind") or "",
            unit_id=data.get("unit"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            acknowledged=data.get("acknowledged") or "",
            revoked=revoked,
            cards_only=cards_only,
        )


def _local(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        return timezone.make_aware(value, SHANGHAI)
    return value


class CreateForm(forms.Form):
    unit = forms.TypedChoiceField(label="单位", coerce=int)
    kind = forms.ChoiceField(label="类别", choices=Kind.choices)
    date = forms.DateField(label="日期", widget=DateInput, initial=timezone.localdate)
    reason = forms.CharField(label="事由", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    problems = forms.TypedMultipleChoiceField(
        label="相关问题",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    talk_at = forms.DateTimeField(
        label="约谈时间",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="类别为约谈时必填",
    )
    talk_place = forms.CharField(label="约谈地点", max_length=200, required=False)
    talk_people = forms.CharField(
        label="约谈人员", max_length=500, required=False, help_text="约谈人与被约谈人"
    )

    def __init__(self, *args, units=(), problems=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", "请选择"), *((u.pk, u.name) for u in units)]
        self.fields["problems"].choices = [(p.pk, f"{p.number} {p.description[:40]}") for p in problems]
        if not problems:
            self.fields["problems"].help_text = "先选择学校并点“列出该校问题”，可勾选这条记录所依据的问题"
        for name, field in self.fields.items():
            if name != "problems":
                field.widget.attrs.update(SELECT if isinstance(field, forms.ChoiceField) else TEXT)

    def clean_talk_at(self):
        return _local(self.cleaned_data.get("talk_at"))


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label="确认意见",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        help_text="可填写整改承诺或说明",
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="撤销原因", max_length=1000, widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"})
    )


class CorrectForm(forms.Form):
    reason = forms.CharField(label="事由", max_length=2000, widget=forms.Textarea(attrs={"rows": 3, **TEXT}))
    date = forms.DateField(label="日期", widget=DateInput(attrs=TEXT))
    talk_at = forms.DateTimeField(
        label="约谈时间",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", **TEXT}, format="%Y-%m-%dT%H:%M"),
    )
    talk_place = forms.CharField(
        label="约谈地点", max_length=200, required=False, widget=forms.TextInput(TEXT)
    )
    talk_people = forms.CharField(
        label="约谈人员", max_length=500, required=False, widget=forms.TextInput(TEXT)
    )
    talk_outcome = forms.CharField(
        label="约谈结果", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3, **TEXT})
    )
    correct_reason = forms.CharField(
        label="更正说明", max_length=1000, widget=forms.TextInput(TEXT), help_text="如：约谈结束，登记结果"
    )

    def __init__(self, *args, talk: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not talk:
            for name in ("talk_at", "talk_place", "talk_people", "talk_outcome"):
                del self.fields[name]

    def clean_talk_at(self):
        return _local(self.cleaned_data.get("talk_at"))

    def changes(self, record) -> dict:
        """The fields whose values differ from the record's."""
        data = self.cleaned_data
        out = {}
        for name in self.fields:
            if name == "correct_reason":
                continue
            value = data.get(name)
            if name == "talk_at" and value is None:
                continue
            if value != getattr(record, name):
                out[name] = value
        return out


class RulesForm(forms.Form):
    enabled = forms.BooleanField(label="自动评定红黄牌", required=False)
    threshold = forms.IntegerField(label="黄牌：一个周期内新逾期的问题数达到", min_value=1, max_value=100)
    period_days = forms.IntegerField(
        label="评定周期（天）", min_value=1, max_value=366, help_text="10 天即“一旬一挂牌”"
    )
    repeat_days = forms.IntegerField(
        label="红牌：上一张牌的周期结束后多少天内再次达到",
        min_value=0,
        max_value=3660,
        help_text="也是一张牌“在牌”（有效）的天数",
    )
    start_date = forms.DateField(label="起算日期", widget=DateInput, help_text="第一个评定周期的第一天")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.update({"class": "form-check-input"} if name == "enabled" else TEXT)
