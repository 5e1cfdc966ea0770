from django.apps import AppConfig


class IndexConfig(AppConfig):
    name = "chuangwen.index"
    label = "index"
    verbose_name = "测评体系"
