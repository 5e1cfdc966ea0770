from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    name = "chuangwen.accountability"
    label = "accountability"
    verbose_name = "问责记录"
