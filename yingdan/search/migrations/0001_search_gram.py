from django.db import migrations, models

# The table is created by hand so that SQLite stores it WITHOUT ROWID (the primary key is the table: half the
# size of a rowid table plus an index) and PostgreSQL compares grams bytewise (COLLATE "C": prefix ranges over
# grams are plain B-tree ranges whatever the database's locale).
SQLITE_CREATE = (
    'CREATE TABLE "search_searchgram" ("kind" smallint unsigned NOT NULL CHECK ("kind" >= 0), '
    '"gram" varchar(2) NOT NULL, "object_id" bigint NOT NULL, PRIMARY KEY ("kind", "gram", "object_id")) WITHOUT ROWID'
)
POSTGRES_CREATE = (
    'CREATE TABLE "search_searchgram" ("kind" smallint NOT NULL CHECK ("kind" >= 0), '
    '"gram" varchar(2) COLLATE "C" NOT NULL, "object_id" bigint NOT NULL, PRIMARY KEY ("kind", "gram", "object_id"))'
)


def create_table(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)
    else:
        schema_editor.create_model(apps.get_model("search", "SearchGram"))


def drop_table(apps, schema_editor):
    schema_editor.execute('DROP TABLE "search_searchgram"')


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(create_table, drop_table)],
            state_operations=[
                migrations.CreateModel(
                    name="SearchGram",
                    fields=[
                        ("pk", models.CompositePrimaryKey("kind", "gram", "object_id", blank=True, editable=False, primary_key=True, serialize=False)),
                        ("kind", models.PositiveSmallIntegerField(help_text="The search provider's kind code.", verbose_name="object kind")),
                        ("gram", models.CharField(max_length=2, verbose_name="gram")),
                        ("object_id", models.BigIntegerField(verbose_name="object id")),
                    ],
                    options={
                        "verbose_name": "search gram",
                        "verbose_name_plural": "search grams",
                    },
                ),
            ],
        ),
    ]
