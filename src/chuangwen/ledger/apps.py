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

        from django.db.models.signals import m2m_changed, post_delete, post_save

        from chuangwen.campaigns.models import Campaign, Round, RoundInspector, RoundSchool
        from chuangwen.index.models import Edition, Standard
        from chuangwen.org.models import Unit

        from .listing import catalogue_changed, problems_changed
        from .models import Problem

        post_save.connect(problems_changed, sender=Problem, dispatch_uid="ledger.problem.saved")
        post_delete.connect(problems_changed, sender=Problem, dispatch_uid="ledger.problem.deleted")
        # The list's shared catalogue of schools and standards, and the dropdowns built on it (listing).
        for model in (Unit, Standard, Edition, Campaign, Round, RoundSchool, RoundInspector):
            uid = f"ledger.catalogue.{model._meta.label_lower}"
            post_save.connect(catalogue_changed, sender=model, dispatch_uid=f"{uid}.saved")
            post_delete.connect(catalogue_changed, sender=model, dispatch_uid=f"{uid}.deleted")
        # Bulk-created links fire no post_save: a round's inspectors set through the relation do this, and
        # a round's schools are created in the round's transaction, whose commit drops the catalogue again.
        m2m_changed.connect(
            catalogue_changed, sender=Round.inspectors.through, dispatch_uid="ledger.catalogue.inspectors"
        )
