from django.db import migrations


def forwards(apps, schema_editor):
    from yingdan.opportunities.defaults import ensure_defaults_with

    ensure_defaults_with(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0001_initial"),
        ("core", "0003_attachment"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
