from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "chuangwen.demo"
    label = "demo"
    verbose_name = "演示数据"
