from django.db import migrations


def create_roles(apps, schema_editor):
    from yingdan.org.builtin import ensure_builtin_roles

    ensure_builtin_roles(apps.get_model("org", "Role"))


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
