from django.db import migrations


def create_lookups(apps, schema_editor):
    from yingdan.customers.defaults import ensure_default_lookups

    ensure_default_lookups(apps.get_model("core", "Lookup"))


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial"), ("core", "0001_initial")]
    operations = [migrations.RunPython(create_lookups, migrations.RunPython.noop)]
