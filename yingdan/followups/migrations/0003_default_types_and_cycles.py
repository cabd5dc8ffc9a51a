from django.db import migrations


def forwards(apps, schema_editor):
    from yingdan.followups.defaults import ensure_defaults

    ensure_defaults(apps.get_model("core", "Lookup"))


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0002_initial"),
        ("customers", "0002_default_lookups"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
