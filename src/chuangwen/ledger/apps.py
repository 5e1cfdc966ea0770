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

        from django.db.models.signals import post_delete, post_save

        from .listing import problems_changed
        from .models import Problem

        post_save.connect(problems_changed, sender=Problem, dispatch_uid="ledger.problem.saved")
        post_delete.connect(problems_changed, sender=Problem, dispatch_uid="ledger.problem.deleted")
