"""Operations that migrations share (kept small and stable: old migrations import them)."""

from django.db import migrations


def drop_indexes_by_name(table: str, indexes: dict[str, str]) -> migrations.RunPython:
    """Drop single-column indexes {name: column} of `table` by name; reversed by creating them again.

    For an index a composite one already covers: the model's field says db_index=False in the state only,
    since AlterField would rebuild the whole table on SQLite."""

    def drop(apps, schema_editor):
        for name in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    def restore(apps, schema_editor):
        for name, column in indexes.items():
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')

    return migrations.RunPython(drop, restore)
