from django.db import migrations

from yingdan.org.builtin import grant_new_modules


def forwards(apps, schema_editor):
    grant_new_modules(apps.get_model("org", "Role"), ["leads", "followups", "opportunities", "pools", "pipelines", "reports"])


class Migration(migrations.Migration):
    dependencies = [("org", "0002_builtin_roles")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
