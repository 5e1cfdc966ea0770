from django import forms

from chuangwen.core.roles import Role

from .models import Grade, SchoolClass, Unit


class BootstrapMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            if isinstance(field.widget, forms.CheckboxInput):
                css = "form-check-input"
            field.widget.attrs.setdefault("class", css)


class UnitForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Unit
        fields = [
            "kind",
            "name",
            "code",
            "parent",
            "school_type",
            "ownership",
            "address",
            "enrolment",
            "staff_count",
            "is_active",
        ]

    def __init__(self, *args, parents=None, **kwargs):
        super().__init__(*args, **kwargs)
        if parents is not None:
            self.fields["parent"].queryset = parents


class SchoolClassForm(BootstrapMixin, forms.ModelForm):
    grade = forms.TypedChoiceField(label="年级", choices=Grade.choices, coerce=int)

    class Meta:
        model = SchoolClass
        fields = ["grade", "name", "head_teacher_name", "student_count"]


class UserCreateForm(BootstrapMixin, forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="手机号", max_length=11, required=False)
    email = forms.EmailField(label="邮箱", required=False)
    password = forms.CharField(
        label="初始密码", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class UserEditForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(
        label="手机号",
        max_length=11,
        required=False,
        help_text="留空表示不修改；出于隐私保护，原号码只显示为掩码",
    )
    email = forms.EmailField(label="邮箱", required=False)


class SetPasswordForm(BootstrapMixin, forms.Form):
    password = forms.CharField(
        label="新密码", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class MembershipForm(BootstrapMixin, forms.Form):
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.none())
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    title = forms.CharField(label="职务", max_length=50, required=False)

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["unit"].queryset = units
