from django.db import migrations

from yingdan.org.builtin import grant_new_modules


def forwards(apps, schema_editor):
    grant_new_modules(apps.get_model("org", "Role"), ["tasks"])


class Migration(migrations.Migration):
    dependencies = [("tasks", "0001_initial"), ("org", "0003_grant_customer_asset_modules")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
