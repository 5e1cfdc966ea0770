from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "chuangwen.core"
    label = "core"
    verbose_name = "基础"
