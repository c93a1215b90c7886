"""The overview's clean-up list reads the accounts expected to post in the order
idle-the-longest first (never posted first of all), filtered by the scope and
stopped after 20 rows (issue 9): a partial index in exactly that order. Written in
SQL because the spelling differs: PostgreSQL needs NULLS FIRST (its ascending
default puts NULLs last); SQLite puts NULLs first already and rejects the clause."""

from django.db import migrations

CREATE = {
    "postgresql": (
        "CREATE INDEX IF NOT EXISTS account_cleanup_order_idx ON registry_mediaaccount "
        "(last_post_at ASC NULLS FIRST, id) WHERE status IN ('active', 'rectifying')"
    ),
    "sqlite": (
        "CREATE INDEX IF NOT EXISTS account_cleanup_order_idx ON registry_mediaaccount "
        "(last_post_at ASC, id) WHERE status IN ('active', 'rectifying')"
    ),
}


def create(apps, schema_editor):
    sql = CREATE.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS account_cleanup_order_idx")


class Migration(migrations.Migration):
    dependencies = [("registry", "0012_registry_figures")]

    operations = [migrations.RunPython(create, drop)]
