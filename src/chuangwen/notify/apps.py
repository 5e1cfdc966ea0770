from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "chuangwen.notify"
    label = "notify"
    verbose_name = "通知"

    def ready(self):
        from chuangwen.core.management.commands.worker import register_loop

        from .delivery import SweepThread

        register_loop(SweepThread)
