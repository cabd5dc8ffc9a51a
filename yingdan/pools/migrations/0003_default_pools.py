from django.db import migrations


def create_defaults(apps, schema_editor):
    Pool = apps.get_model("pools", "Pool")
    PoolSettings = apps.get_model("pools", "PoolSettings")
    for object_type, name in (("customer", "公海客户池"), ("lead", "公海线索池")):
        if not Pool.objects.filter(object_type=object_type, is_default=True).exists():
            Pool.objects.create(name=name, object_type=object_type, is_default=True)
    PoolSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("pools", "0002_pool_settings_events")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
