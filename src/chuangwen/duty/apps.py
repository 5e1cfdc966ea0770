from django.apps import AppConfig


class DutyConfig(AppConfig):
    name = "chuangwen.duty"
    label = "duty"
    verbose_name = "责任分工"

    def ready(self):
        from chuangwen.core.workbench import register_panel

        from .panels import my_duties_panel

        register_panel(my_duties_panel, order=20)
