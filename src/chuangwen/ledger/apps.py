from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "chuangwen.ledger"
    label = "ledger"
    verbose_name = "问题台帐"

    def ready(self):
        from chuangwen.core.management.commands.worker import register_loop

        from .escalation import EscalationThread

        register_loop(EscalationThread)
