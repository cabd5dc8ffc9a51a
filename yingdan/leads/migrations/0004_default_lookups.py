from django.db import migrations


def create_lookups(apps, schema_editor):
    from yingdan.leads.defaults import ensure_default_lookups

    ensure_default_lookups(apps.get_model("core", "Lookup"))


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_assignment_rule"), ("core", "0001_initial")]
    operations = [migrations.RunPython(create_lookups, migrations.RunPython.noop)]
