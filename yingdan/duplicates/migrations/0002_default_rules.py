from django.db import migrations


def create_default_rules(apps, schema_editor):
    from yingdan.duplicates.defaults import ensure_default_rules

    ensure_default_rules(apps.get_model("duplicates", "DuplicateRule"))


class Migration(migrations.Migration):
    dependencies = [("duplicates", "0001_rules_transfers_merges")]
    operations = [migrations.RunPython(create_default_rules, migrations.RunPython.noop)]
