from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "chuangwen.campaigns"
    label = "campaigns"
    verbose_name = "检查轮次"
