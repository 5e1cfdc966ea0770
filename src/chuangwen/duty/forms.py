from django import forms
from django.contrib.auth import get_user_model

from chuangwen.core.roles import SCHOOL_ROLES, Role
from chuangwen.index.models import Group, Standard
from chuangwen.org.models import Unit

from .models import Task
from .services import MODE_LABELS

SELECT = {"class": "form-select"}
TEXT = {"class": "form-control"}


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name or obj.username}（{obj.username}）"


class StandardChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.text[:40]}"


class AssignForm(forms.Form):
    standard = StandardChoiceField(
        label="测评标准", queryset=Standard.objects.none(), widget=forms.Select(SELECT)
    )
    owner = PersonChoiceField(label="责任人", queryset=None, widget=forms.Select(SELECT))
    leader = PersonChoiceField(label="分管领导", queryset=None, required=False, widget=forms.Select(SELECT))

    def __init__(self, *args, standards, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["standard"].queryset = standards
        self.fields["owner"].queryset = people
        self.fields["leader"].queryset = people


class RuleForm(forms.Form):
    group = forms.ModelChoiceField(
        label="测评项目",
        queryset=Group.objects.none(),
        required=False,
        empty_label="全部测评项目",
        widget=forms.Select(SELECT),
    )
    school_type = forms.ChoiceField(
        label="学校类型",
        choices=[("", "全部类型"), *Unit.SchoolType.choices],
        required=False,
        widget=forms.Select(SELECT),
    )
    owner_role = forms.ChoiceField(
        label="责任人：学校的",
        choices=[(r.value, r.label) for r in Role if r in SCHOOL_ROLES],
        initial=Role.LIAISON,
        widget=forms.Select(SELECT),
    )
    leader_role = forms.ChoiceField(
        label="分管领导：学校的",
        choices=[("", "不指定"), *[(r.value, r.label) for r in Role if r in SCHOOL_ROLES]],
        initial=Role.SCHOOL_HEAD,
        required=False,
        widget=forms.Select(SELECT),
    )
    mode = forms.ChoiceField(
        label="已有分工", choices=list(MODE_LABELS.items()), widget=forms.RadioSelect, initial="fill"
    )

    def __init__(self, *args, edition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.filter(edition=edition).order_by(
            "depth", "position", "pk"
        )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件（.xlsx）",
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx"}),
        error_messages={"required": "请选择要上传的 Excel 文件", "empty": "上传的文件是空的"},
    )


class BureauForm(forms.Form):
    standard = StandardChoiceField(
        label="测评标准", queryset=Standard.objects.none(), widget=forms.Select(SELECT)
    )
    department = forms.ModelChoiceField(
        label="牵头科室",
        queryset=Unit.objects.filter(kind=Unit.Kind.DEPARTMENT),
        required=False,
        empty_label="（按标准的牵头科室）",
        widget=forms.Select(SELECT),
    )
    person = PersonChoiceField(label="局责任人", queryset=None, required=False, widget=forms.Select(SELECT))

    def __init__(self, *args, standards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["standard"].queryset = standards
        staff = Unit.objects.filter(kind__in=[Unit.Kind.BUREAU, Unit.Kind.DEPARTMENT])
        self.fields["person"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, memberships__unit__in=staff)
            .distinct()
            .order_by("name", "username")
        )


class HandoverForm(forms.Form):
    person = PersonChoiceField(label="移交人（离任或调岗）", queryset=None, widget=forms.Select(SELECT))
    successor = PersonChoiceField(label="接任人", queryset=None, widget=forms.Select(SELECT))
    reason = forms.CharField(label="原因", max_length=200, required=False, widget=forms.TextInput(TEXT))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["successor"].queryset = people.filter(is_active=True)


class TaskForm(forms.Form):
    standard = StandardChoiceField(
        label="测评标准", queryset=Standard.objects.none(), widget=forms.Select(SELECT)
    )
    title = forms.CharField(label="工作内容", max_length=300, widget=forms.TextInput(TEXT))
    assignee = PersonChoiceField(label="负责人", queryset=None, required=False, widget=forms.Select(SELECT))
    due_date = forms.DateField(label="完成时限", widget=forms.DateInput(attrs={"type": "date", **TEXT}))
    status = forms.ChoiceField(label="状态", choices=Task.Status.choices, widget=forms.Select(SELECT))
    progress_note = forms.CharField(
        label="进展情况", required=False, widget=forms.Textarea(attrs={"rows": 3, **TEXT})
    )

    def __init__(self, *args, standards, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["standard"].queryset = standards
        self.fields["assignee"].queryset = people
