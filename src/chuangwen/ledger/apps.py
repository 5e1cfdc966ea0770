from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "chuangwen.ledger"
    label = "ledger"
    verbose_name = "问题台帐"

    def ready(self):
        from chuangwen.core.evidence.selectors import register_hidden_from_schools
        from chuangwen.core.management.commands.worker import register_loop
        from chuangwen.core.workbench import register_panel

        from .escalation import EscalationThread
        from .panels import my_problems_panel
        from .selectors import embargoed_photos

        register_loop(EscalationThread)
        register_panel(my_problems_panel, order=10)
        register_hidden_from_schools(embargoed_photos)
