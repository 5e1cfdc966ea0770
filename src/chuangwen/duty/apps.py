from django.apps import AppConfig


class DutyConfig(AppConfig):
    name = "chuangwen.duty"
    label = "duty"
    verbose_name = "责任分工"
