from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "chuangwen.reports"
    label = "reports"
    verbose_name = "数据看板与排名"

    def ready(self):
        from . import tally

        tally.connect()
