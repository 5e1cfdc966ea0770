from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。连续 5 次错误后账号将被锁定 30 分钟。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        self.fields["username"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "username", "autocapitalize": "none"}
        )
        self.fields["password"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "current-password"}
        )


class TokenForm(forms.Form):
    name = forms.CharField(
        label="用途",
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "如：市级平台对接"}),
    )
