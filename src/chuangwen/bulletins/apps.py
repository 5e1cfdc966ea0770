from django.apps import AppConfig


class BulletinsConfig(AppConfig):
    name = "chuangwen.bulletins"
    label = "bulletins"
    verbose_name = "通报"
