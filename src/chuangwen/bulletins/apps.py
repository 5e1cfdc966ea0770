from django.apps import AppConfig


class BulletinsConfig(AppConfig):
    name = "chuangwen.bulletins"
    label = "bulletins"
    verbose_name = "通报"

    def ready(self):
        from django.db.models.signals import m2m_changed

        from chuangwen.core.management.commands.worker import register_loop

        from .schedule import ScheduleThread

        register_loop(ScheduleThread)

        from .models import Bulletin
        from .signals import refuse_list_changes_when_issued

        for name in ("commended", "criticised", "recipients"):
            m2m_changed.connect(
                refuse_list_changes_when_issued,
                sender=getattr(Bulletin, name).through,
                dispatch_uid=f"bulletins.{name}.frozen",
            )
