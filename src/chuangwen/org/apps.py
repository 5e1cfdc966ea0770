from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "chuangwen.org"
    label = "org"
    verbose_name = "组织机构"

    def ready(self):
        from chuangwen.core.workbench import register_panel

        from .panels import reach_panel

        register_panel(reach_panel, order=10)
