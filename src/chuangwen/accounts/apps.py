from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "chuangwen.accounts"
    label = "accounts"
    verbose_name = "账号"

    def ready(self):
        from . import receivers  # noqa: F401
