"""PostgreSQL: drop the varchar_pattern_ops ("_like") twins Django adds to the indexed text columns of customers.

They only serve `LIKE 'x%'` under a non-C collation. Nothing filters these columns that way: prefix searches
are ranges (`search.providers.prefix_q`) that the plain B-tree indexes answer, name fragments go through the
bigram table, duplicate keys and phones are compared exactly, and credit_code keeps its unique index. Every
index costs each write of a customer one more entry (a claim; a recycling night moves 100,000+ rows), and
these six were never scanned. SQLite has no such indexes: nothing to do there.
"""

from django.db import migrations

LIKE_INDEXES = {
    "customers_customer_search_name_0676cdf4_like": "search_name",
    "customers_customer_search_pinyin_67e5e820_like": "search_pinyin",
    "customers_customer_search_initials_6a400ea9_like": "search_initials",
    "customers_customer_phone_01182399_like": "phone",
    "customers_customer_dedupe_name_70fc3e21_like": "dedupe_name",
    "customers_customer_credit_code_06b22623_like": "credit_code",
}


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in LIKE_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in LIKE_INDEXES.items():
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "customers_customer" ("{column}" varchar_pattern_ops)')


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0008_customer_pool_customer_pool_entered_at_and_more"),
    ]

    operations = [migrations.RunPython(drop, restore)]
