"""Re-chain the existing events under the HMAC key (audit.services.event_digest).

Run once by the operator who holds the key, when upgrading from the plain SHA-256
chain; from then on nobody without the key can recompute the chain."""

from django.db import migrations


def rechain(apps, schema_editor):
    from audit.services import GENESIS, HASHED_FIELDS, event_digest

    Event = apps.get_model("audit", "AuditEvent")
    Head = apps.get_model("audit", "AuditChainHead")
    if not Event.objects.exists():
        return
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
    prev, count = GENESIS, 0
    rows = Event.objects.order_by("id").values("id", *HASHED_FIELDS)
    for row in rows.iterator(chunk_size=2000):
        digest = event_digest(prev, row)
        Event.objects.filter(id=row["id"]).update(prev_hash=prev, hash=digest)
        prev, count = digest, count + 1
    Head.objects.update_or_create(id=1, defaults={"last_hash": prev, "count": count})
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [migrations.RunPython(rechain, migrations.RunPython.noop)]
