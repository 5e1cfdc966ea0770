from __future__ import annotations

import json
import urllib.parse

from django import forms

from .models import ChannelConfig, ChannelKind

HTTP_KINDS = {ChannelKind.WECOM, ChannelKind.DINGTALK, ChannelKind.WEBHOOK, ChannelKind.SMS}


class ChannelConfigForm(forms.ModelForm):
    settings_json = forms.CharField(
        label="配置（JSON）",
        widget=forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
        initial="{}",
        help_text='例如企业微信：{"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"}',
    )
    new_secret = forms.CharField(
        label="密钥",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="钉钉加签密钥、Webhook 签名密钥或短信网关密钥；留空表示不修改。",
    )

    class Meta:
        model = ChannelConfig
        fields = ["kind", "name", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["settings_json"].initial = json.dumps(
                self.instance.settings, ensure_ascii=False, indent=2
            )

    def clean_settings_json(self):
        try:
            value = json.loads(self.cleaned_data["settings_json"] or "{}")
        except ValueError as exc:
            raise forms.ValidationError(f"不是有效的 JSON：{exc}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("配置必须是 JSON 对象（{…}）")
        return value

    def clean(self):
        data = super().clean()
        settings = data.get("settings_json")
        kind = data.get("kind")
        if settings is not None and kind in HTTP_KINDS:
            url = urllib.parse.urlsplit(str(settings.get("url", "")))
            if url.scheme not in ("http", "https") or not url.hostname:
                self.add_error("settings_json", "请填写以 http:// 或 https:// 开头的 url")
        if (
            settings is not None
            and kind == ChannelKind.SMS
            and not isinstance(settings.get("params", {}), dict)
        ):
            self.add_error("settings_json", "短信网关的 params 必须是 JSON 对象")
        return data

    def apply(self) -> tuple[ChannelConfig, str | None]:
        config = self.instance
        config.kind = self.cleaned_data["kind"]
        config.name = self.cleaned_data["name"]
        config.enabled = self.cleaned_data["enabled"]
        config.settings = self.cleaned_data["settings_json"]
        return config, (self.cleaned_data["new_secret"] or None)
