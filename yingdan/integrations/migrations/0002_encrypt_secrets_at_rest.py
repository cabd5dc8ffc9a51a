# Robot webhook URLs (they carry the access token) and signing secrets are stored encrypted from now on.
# The columns become text (a Fernet token is longer than the value), then every existing row is encrypted.
# Reversible: the reverse step writes the plain values back before the columns shrink again.

from django.db import migrations, models

import yingdan.integrations.crypto

FIELDS = {"Robot": ("webhook_url", "secret"), "Webhook": ("secret",)}


def encrypt_rows(apps, schema_editor):
    for name, fields in FIELDS.items():
        model = apps.get_model("integrations", name)
        for row in model.objects.only(*fields).iterator(chunk_size=500):
            # the field reads legacy plain text as it is and encrypts on the way back
            model.objects.filter(pk=row.pk).update(**{f: getattr(row, f) for f in fields})


def decrypt_rows(apps, schema_editor):
    for name, fields in FIELDS.items():
        model = apps.get_model("integrations", name)
        for row in model.objects.only(*fields).iterator(chunk_size=500):
            # a Value with a plain text output field bypasses the encrypting field; a value no key opens
            # keeps its ciphertext (restoring the old SECRET_KEY and migrating forward again recovers it)
            values = {f: getattr(row, f) for f in fields}
            values = {f: getattr(v, "stored", v) for f, v in values.items()}
            model.objects.filter(pk=row.pk).update(
                **{f: models.Value(v, output_field=models.TextField()) for f, v in values.items()})


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0001_robots_webhooks'),
    ]

    operations = [
        migrations.AlterField(
            model_name='robot',
            name='secret',
            field=yingdan.integrations.crypto.EncryptedCharField(blank=True, help_text='DingTalk/Feishu signing secret (加签). WeCom has no secret: its key is in the URL.', max_length=200, verbose_name='signing secret'),
        ),
        migrations.AlterField(
            model_name='robot',
            name='webhook_url',
            field=yingdan.integrations.crypto.EncryptedURLField(help_text="The robot's webhook address from the group settings.", max_length=500, verbose_name='webhook URL'),
        ),
        migrations.AlterField(
            model_name='webhook',
            name='secret',
            field=yingdan.integrations.crypto.EncryptedCharField(blank=True, help_text='Used to sign each body (X-Yingdan-Signature: sha256=HMAC-SHA256(secret, body)).', max_length=200, verbose_name='secret'),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
