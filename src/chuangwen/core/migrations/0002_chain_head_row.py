from django.db import migrations


def create_head(apps, schema_editor):
    ChainHead = apps.get_model("core", "ChainHead")
    ChainHead.objects.get_or_create(pk=1, defaults={"last_seq": 0, "last_hash": "0" * 64, "mac": ""})


def remove_head(apps, schema_editor):
    apps.get_model("core", "ChainHead").objects.filter(pk=1, last_seq=0).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_head, remove_head)]
