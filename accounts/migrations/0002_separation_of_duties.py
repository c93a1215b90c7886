"""三员分立 in the database: one person's active roles belong to one duty (one
administrator role, or business roles only). PostgreSQL only: an exclusion constraint
over (user, duty) needs btree_gist; SQLite (the embedded development default) relies on
accounts.services.separation_check alone.

Existing violations keep the constraint from being created; the migration then says
so, and the security administrator's access page lists them to be ended first (run
`manage.py migrate accounts 0001 && manage.py migrate` afterwards to add it)."""

from django.db import migrations

DUTY = (
    "(CASE WHEN role IN ('system_admin', 'security_admin', 'audit_admin') "
    "THEN role ELSE 'business' END)"
)
VIOLATIONS = f"""
    SELECT user_id FROM accounts_membership WHERE is_active
    GROUP BY user_id HAVING COUNT(DISTINCT {DUTY}) > 1
"""


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(VIOLATIONS)
        offenders = [row[0] for row in cursor.fetchall()]
        if offenders:
            print(
                f"\n  accounts.0002: {len(offenders)} users hold roles of more than one duty "
                f"(user ids {offenders[:20]}); the separation-of-duties constraint is NOT "
                "added until their roles are ended."
            )
            return
        cursor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        cursor.execute(
            "ALTER TABLE accounts_membership ADD CONSTRAINT membership_one_duty "
            f"EXCLUDE USING gist (user_id WITH =, {DUTY} WITH <>) WHERE (is_active)"
        )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE accounts_membership DROP CONSTRAINT IF EXISTS membership_one_duty"
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(add_constraint, drop_constraint)]
