"""Forms of the inspection pages. They only parse input; the rules live in services and scoring."""

from __future__ import annotations

from django import forms

from chuangwen.ledger.models import Severity

from . import scoring
from .models import NOT_APPLICABLE
from .services import MAX_NOTE

MAX_DELTA = 10


class AnswerForm(forms.Form):
    """One answer as the card posts it. `delta` is the − / + of a deduction count (without JS too)."""

    result = forms.CharField(required=False, max_length=16)
    occurrences = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=scoring.MAX_OCCURRENCES,
        error_messages={
            "invalid": "次数须为整数",
            "min_value": "次数不能小于 0",
            "max_value": f"次数不能超过 {scoring.MAX_OCCURRENCES}",
        },
    )
    delta = forms.IntegerField(required=False, min_value=-MAX_DELTA, max_value=MAX_DELTA)
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE,
        strip=True,
        error_messages={"max_length": f"说明不能超过 {MAX_NOTE} 字"},
    )
    revision = forms.IntegerField(
        required=False, min_value=0, error_messages={"invalid": "页面数据有误，请刷新"}
    )

    def values(self, *, deduction: bool) -> dict:
        """(result, occurrences) as the service takes them: a tap on − / + counts, whatever was chosen."""
        data = self.cleaned_data
        result = (data.get("result") or "").strip()
        occurrences = data.get("occurrences") or 0
        delta = data.get("delta")
        if deduction and delta is not None:
            result = ""
            occurrences = min(max(occurrences + delta, 0), scoring.MAX_OCCURRENCES)
        if not deduction:
            occurrences = 0
        return {"result": result, "occurrences": occurrences, "note": data.get("note") or ""}


class PhotoForm(forms.Form):
    photo = forms.FileField(error_messages={"required": "请选择或拍摄一张照片", "invalid": "照片文件无效"})


class SubmitForm(forms.Form):
    partial = forms.BooleanField(label="仅检查部分标准", required=False)


class ProblemForm(forms.Form):
    description = forms.CharField(
        label="问题描述",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "请填写问题描述", "max_length": "问题描述不能超过 2000 字"},
    )
    severity = forms.ChoiceField(
        label="整改类型",
        choices=Severity.choices,
        initial=Severity.IMMEDIATE,
        error_messages={"invalid_choice": "整改类型无效"},
    )
    deadline_days = forms.IntegerField(
        label="工作日数",
        required=False,
        min_value=1,
        error_messages={"invalid": "工作日数须为整数", "min_value": "工作日数至少为 1"},
    )
    target_date = forms.DateField(
        label="目标日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "目标日期格式应为 年-月-日"},
    )
    location = forms.CharField(
        label="位置",
        required=False,
        max_length=200,
        error_messages={"max_length": "位置不能超过 200 字"},
    )

    def clean(self):
        data = super().clean()
        severity = data.get("severity")
        if severity == Severity.DAYS and not data.get("deadline_days"):
            self.add_error("deadline_days", "限期整改请填写工作日数")
        if severity == Severity.LONG and not data.get("target_date"):
            self.add_error("target_date", "长期整改必须填写目标日期")
        return data


class CorrectForm(forms.Form):
    """A correction of a submitted answer: the new result and a required reason."""

    result = forms.ChoiceField(label="结果", required=False)
    occurrences = forms.IntegerField(
        label="发现次数",
        required=False,
        widget=forms.NumberInput(
            attrs={"class": "form-control", "inputmode": "numeric", "style": "max-width: 8rem"}
        ),
        min_value=0,
        max_value=scoring.MAX_OCCURRENCES,
        error_messages={"invalid": "次数须为整数"},
    )
    note = forms.CharField(
        label="说明",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"max_length": f"说明不能超过 {MAX_NOTE} 字"},
    )
    reason = forms.CharField(
        label="更正原因",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": "更正评分必须填写原因", "max_length": "原因不能超过 500 字"},
    )

    def __init__(self, *args, standard, **kwargs):
        super().__init__(*args, **kwargs)
        self.standard = standard
        results = scoring.results_for(standard)
        choices = [(r, r) for r in results]
        if not results:
            choices = [("", "按次扣分")]
        else:
            del self.fields["occurrences"]
        if not standard.negative_list:
            choices.append((NOT_APPLICABLE, NOT_APPLICABLE))
        self.fields["result"].choices = choices
        self.fields["result"].widget = forms.RadioSelect(
            choices=choices, attrs={"class": "form-check-input me-1"}
        )
        self.fields["result"].error_messages["invalid_choice"] = "结果无效"

    def clean(self):
        data = super().clean()
        if data.get("result") == NOT_APPLICABLE:
            data["occurrences"] = 0
        elif "occurrences" in self.fields:
            data["result"] = ""
            if data.get("occurrences") is None and "occurrences" not in self.errors:
                self.add_error("occurrences", "请填写发现的次数")
        elif not data.get("result") and "result" not in self.errors:
            self.add_error("result", "请选择结果")
        if data.get("occurrences") is None:
            data["occurrences"] = 0
        return data
