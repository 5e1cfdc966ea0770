from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "chuangwen.inspections"
    label = "inspections"
    verbose_name = "检查评分"
