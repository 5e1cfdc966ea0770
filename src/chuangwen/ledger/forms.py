"""Forms of the ledger pages. They check the shape of the input; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from chuangwen.core.roles import Role
from chuangwen.org.models import Unit

from .deadlines import MAX_DAYS
from .models import Severity, Source, Status

SELECT = {"class": "form-select"}
SELECT_SM = {"class": "form-select form-select-sm"}
TEXT = {"class": "form-control"}
TEXT_SM = {"class": "form-control form-control-sm"}
AREA = {"class": "form-control", "rows": 3}
DATE = {"class": "form-control", "type": "date"}
PHOTO = {"class": "form-control", "accept": "image/jpeg,image/png,image/heic,image/heif,image/*"}
CAMERA = {**PHOTO, "capture": "environment"}

STATUS_FILTER = [("", "全部状态"), ("open", "未销号（待整改）"), *Status.choices]
MAX_PHOTOS = 9


class FastSelect(forms.Select):
    """A <select> built in Python. Django renders every <option> through a template (tens of µs each), which
    was a quarter of the ledger list's time with 200 schools and 100 standards in the filters. With
    `options_html` (rendered once, cached by the list page) only the chosen option is marked here."""

    options_html = None

    def render(self, name, value, attrs=None, renderer=None):
        values = value if isinstance(value, list | tuple) else [value]
        chosen = {str(v) for v in values if v not in (None, "")}
        if self.options_html is not None:
            options = str(self.options_html)
            for v in chosen:
                plain = format_html('<option value="{}">', v)
                options = options.replace(plain, plain[:-1] + " selected>", 1)
            options = mark_safe(options)  # noqa: S308 - built by format_html_join, values escaped above
        else:
            options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((v, " selected" if str(v) in chosen else "", label) for v, label in self.choices),
            )
        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attributes, options)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name or obj.username}（{obj.username}）"


def people_of(school_ids) -> object:
    """Active people holding any role at these schools (the ones a problem there can be handed to)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__unit_id__in=school_ids)
        .distinct()
        .order_by("name", "username")
    )


class FilterForm(forms.Form):
    """The list's filters. Bad values are dropped (a filter link must never crash the page)."""

    campaign = forms.IntegerField(label="创建周期", required=False, widget=FastSelect)
    status = forms.ChoiceField(label="状态", choices=STATUS_FILTER, required=False, widget=FastSelect)
    # Ids are checked as numbers only: any id narrows the rows the user may see anyway.
    district = forms.IntegerField(label="区县", required=False, widget=FastSelect)
    school_type = forms.ChoiceField(label="学校类型", choices=(), required=False, widget=FastSelect)
    school = forms.IntegerField(label="学校", required=False, widget=FastSelect)
    standard = forms.IntegerField(label="对应标准", required=False, widget=FastSelect)
    round = forms.IntegerField(label="检查轮次", required=False, widget=FastSelect)
    source = forms.ChoiceField(
        label="发现方式", choices=[("", "全部发现方式"), *Source.choices], required=False, widget=FastSelect
    )
    responsible = forms.IntegerField(label="责任人", required=False, widget=FastSelect)
    overdue = forms.BooleanField(label="只看逾期", required=False)
    q = forms.CharField(label="搜索", max_length=100, required=False, strip=True)

    def __init__(self, data, *, options=None, people=(), show_school: bool = True):
        """`options`: the rendered <option>s of school, standard and round (listing.filter_choices);
        `people`: (id, name) pairs for the responsible-person dropdown."""
        super().__init__(data)
        for name, html in (options or {}).items():
            if name in self.fields:
                self.fields[name].widget.options_html = html
        self.fields["responsible"].widget.choices = [("", "全部责任人"), *people]
        self.fields["school_type"].choices = [("", "全部类型"), *Unit.SchoolType.choices]
        if not show_school:
            for name in ("district", "school_type", "school"):
                del self.fields[name]
        for name, field in self.fields.items():
            if name == "overdue":
                field.widget.attrs["class"] = "form-check-input"
            elif name == "q":
                field.widget.attrs.update(TEXT_SM | {"placeholder": "问题描述或位置"})
            else:
                field.widget.attrs.update(SELECT_SM)

    def filters(self) -> dict:
        """The valid filters as keyword arguments of selectors.problem_list; invalid ones are ignored."""
        if self.is_bound:
            self.is_valid()
        data = getattr(self, "cleaned_data", {})
        out = {
            "campaign_id": data.get("campaign"),
            "status": data.get("status") or "",
            "standard_id": data.get("standard"),
            "round_id": data.get("round"),
            "source": data.get("source") or "",
            "school_id": data.get("school"),
            "district_id": data.get("district"),
            "school_type": data.get("school_type") or "",
            "responsible_id": data.get("responsible"),
            "overdue": bool(data.get("overdue")),
            "q": data.get("q") or "",
        }
        return out


class AssignForm(forms.Form):
    responsible = PersonChoiceField(
        label="责任人",
        queryset=None,
        required=False,
        empty_label="（默认：该标准在本校的责任人）",
        widget=forms.Select(SELECT),
    )
    severity = forms.ChoiceField(label="整改类型", choices=Severity.choices, widget=forms.Select(SELECT))
    deadline_days = forms.IntegerField(
        label="整改工作日数",
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        widget=forms.NumberInput(TEXT),
        help_text="限期整改时填写；留空按整改规则的默认天数",
    )
    target_date = forms.DateField(
        label="目标日期",
        required=False,
        widget=forms.DateInput(DATE, format="%Y-%m-%d"),
        help_text="长期整改时填写",
    )

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = people_of([school.pk])


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=2000, widget=forms.Textarea(AREA))


class NoteForm(forms.Form):
    note = forms.CharField(label="复核意见", max_length=2000, required=False, widget=forms.Textarea(AREA))


class EmptyForm(forms.Form):
    pass


class SubmitForm(forms.Form):
    cause = forms.CharField(label="原因分析", max_length=2000, widget=forms.Textarea(AREA))
    measures = forms.CharField(label="整改措施", max_length=2000, widget=forms.Textarea(AREA))
    photo = forms.FileField(
        label="整改后照片",
        required=False,
        widget=forms.FileInput(CAMERA),
        error_messages={"required": "提交整改前请拍摄或上传至少一张整改后的照片"},
    )


class PhotoForm(forms.Form):
    purpose = forms.ChoiceField(
        choices=[("after", "整改后"), ("found", "发现问题")], widget=forms.HiddenInput
    )
    photo = forms.FileField(
        label="整改后照片",
        widget=forms.FileInput(CAMERA),
        error_messages={"required": "请选择或拍摄一张照片"},
    )


class CorrectForm(forms.Form):
    description = forms.CharField(
        label="问题描述", max_length=2000, required=False, widget=forms.Textarea(AREA)
    )
    location = forms.CharField(label="位置", max_length=200, required=False, widget=forms.TextInput(TEXT))
    responsible = PersonChoiceField(
        label="责任人", queryset=None, required=False, empty_label="（不改）", widget=forms.Select(SELECT)
    )
    deadline = forms.DateTimeField(
        label="整改时限（只能延后）",
        required=False,
        widget=forms.DateTimeInput(
            {"class": "form-control", "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )
    reason = forms.CharField(label="更正原因", max_length=2000, widget=forms.Textarea(AREA))

    def __init__(self, *args, problem, office: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.problem = problem
        self.fields["responsible"].queryset = people_of([problem.school_id])
        if not office:  # the school may only hand the problem to another person (改派)
            for name in ("description", "location", "deadline"):
                del self.fields[name]

    def changes(self) -> dict:
        data, p = self.cleaned_data, self.problem
        out = {}
        if data.get("description") and data["description"].strip() != p.description:
            out["description"] = data["description"]
        if (
            "location" in self.fields
            and data.get("location", "").strip() != (p.location or "")
            and data.get("location")
        ):
            out["location"] = data["location"]
        if data.get("responsible") and data["responsible"].pk != p.responsible_id:
            out["responsible"] = data["responsible"]
        if data.get("deadline"):
            out["deadline"] = data["deadline"]
        return out


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(PHOTO | {"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if not files and self.required:
            raise forms.ValidationError("请至少上传一张照片")
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(f"一次最多上传 {MAX_PHOTOS} 张照片")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class CreateForm(forms.Form):
    school = forms.ModelChoiceField(label="学校", queryset=None, widget=forms.Select(SELECT))
    source = forms.ChoiceField(label="发现方式", choices=Source.choices, widget=forms.Select(SELECT))
    standard = forms.ModelChoiceField(
        label="对应标准",
        queryset=None,
        required=False,
        empty_label="（不对应具体标准）",
        widget=forms.Select(SELECT),
    )
    description = forms.CharField(label="问题描述", max_length=2000, widget=forms.Textarea(AREA))
    location = forms.CharField(label="位置", max_length=200, required=False, widget=forms.TextInput(TEXT))
    severity = forms.ChoiceField(
        label="整改类型", choices=Severity.choices, initial=Severity.IMMEDIATE, widget=forms.Select(SELECT)
    )
    deadline_days = AssignForm.base_fields["deadline_days"]
    target_date = AssignForm.base_fields["target_date"]
    responsible = PersonChoiceField(
        label="责任人",
        queryset=None,
        required=False,
        empty_label="（默认：该标准在本校的责任人）",
        widget=forms.Select(SELECT),
        help_text="留空则交给该标准在本校的责任人",
    )
    photos = MultipleFileField(
        label="问题照片", required=False, help_text=f"可拍照或从相册选择，最多 {MAX_PHOTOS} 张"
    )

    def __init__(self, *args, schools, standards, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["standard"].queryset = standards
        self.fields["standard"].label_from_instance = lambda s: f"{s.code} {s.text[:40]}"
        self.fields["source"].choices = [c for c in Source.choices if c[0] in sources]
        if len(self.fields["source"].choices) == 1:
            self.fields["source"].initial = self.fields["source"].choices[0][0]
        self.fields["responsible"].queryset = people_of(schools.values("pk"))

    def clean(self):
        data = super().clean()
        school, person = data.get("school"), data.get("responsible")
        school_member = person is not None and school is not None
        if school_member and not person.memberships.filter(unit__path__startswith=school.path).exists():
            self.add_error("responsible", f"{person.name or person.username} 不是{school.name}的人员")
        return data


LADDER_ROLES = [
    ("liaison", "创文联络员"),
    ("school_head", "校长"),
    ("dept_head", "科室负责人"),
    ("leader", "局领导"),
    ("office", "创文办"),
    ("responsible", "责任人"),
]
ROLE_VALUES = {Role.LIAISON, Role.SCHOOL_HEAD, Role.DEPT_HEAD, Role.LEADER, Role.OFFICE, "responsible"}


class SettingsForm(forms.Form):
    default_days = forms.IntegerField(
        label="限期整改默认工作日数", min_value=1, max_value=MAX_DAYS, widget=forms.NumberInput(TEXT)
    )
    yellow_ratio = forms.DecimalField(
        label="临期比例",
        min_value=0,
        max_value=0.99,
        max_digits=4,
        decimal_places=2,
        widget=forms.NumberInput(TEXT | {"step": "0.05"}),
        help_text="剩余时间不足整改时长的这一比例时亮黄灯，如 0.25",
    )
    yellow_min_hours = forms.IntegerField(
        label="临期最少小时数",
        min_value=0,
        max_value=72,
        widget=forms.NumberInput(TEXT),
        help_text="剩余时间不足这些小时时总是亮黄灯",
    )
    remind_daily = forms.BooleanField(label="逾期后每个工作日重复提醒责任人", required=False)


class LadderRowForm(forms.Form):
    after = forms.IntegerField(
        label="逾期后第几个工作日",
        min_value=0,
        max_value=MAX_DAYS,
        required=False,
        widget=forms.NumberInput(TEXT_SM),
    )
    roles = forms.MultipleChoiceField(
        label="通知", choices=LADDER_ROLES, required=False, widget=forms.CheckboxSelectMultiple
    )
    label = forms.CharField(label="说明", max_length=50, required=False, widget=forms.TextInput(TEXT_SM))
    bulletin = forms.BooleanField(label="列入通报", required=False)

    def clean(self):
        data = super().clean()
        filled = (
            data.get("after") is not None or data.get("roles") or data.get("label") or data.get("bulletin")
        )
        if not filled:
            return data
        if data.get("after") is None and "after" not in self.errors:
            self.add_error("after", "请填写逾期后第几个工作日")
        if not data.get("roles"):
            self.add_error("roles", "请至少选择一个通知对象")
        return data

    def step(self) -> dict | None:
        data = self.cleaned_data
        if data.get("after") is None:
            return None
        step = {"after": data["after"], "roles": list(data["roles"]), "label": data.get("label", "").strip()}
        if data.get("bulletin"):
            step["bulletin"] = True
        return step


class BaseLadderFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for i, form in enumerate(self.forms, start=1):
            step = form.step()
            if step is None:
                continue
            if step["after"] in seen:
                raise forms.ValidationError(
                    f"第 {i} 行：逾期后第 {step['after']} 个工作日已有一级升级，请合并"
                )
            seen.add(step["after"])


LadderFormSet = forms.formset_factory(LadderRowForm, formset=BaseLadderFormSet, extra=2, max_num=10)


class BulkForm(forms.Form):
    code = forms.ChoiceField(choices=[("assign", "交办"), ("approve", "复核通过"), ("reject", "复核不通过")])
    responsible = forms.IntegerField(required=False)
    severity = forms.ChoiceField(choices=[("", ""), *Severity.choices], required=False)
    deadline_days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, required=False)
    reason = forms.CharField(max_length=2000, required=False)
