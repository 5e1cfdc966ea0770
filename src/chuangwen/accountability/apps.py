from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    name = "chuangwen.accountability"
    label = "accountability"
    verbose_name = "问责记录"

    def ready(self):
        from chuangwen.core.management.commands.worker import register_loop

        from . import receivers
        from .cards import CardsThread

        register_loop(CardsThread)
        receivers.connect()
