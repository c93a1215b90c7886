"""National default SLA policies (DOMAIN.md rule 33); supervising organizations add
their own with a higher priority or a nearer organization."""

from django.db import migrations

DEFAULTS = [
    ("", "working_days", 1, 5),
    ("inquiry", "working_days", 1, 5),
    ("suggestion", "working_days", 1, 5),
    ("praise", "working_days", 1, 5),
    ("complaint", "working_days", 1, 7),
    ("report", "working_days", 1, 7),
    ("other", "working_days", 1, 5),
    ("not_accepted", "hours", 24, 24),
]


def load(apps, schema_editor):
    SlaPolicy = apps.get_model("inbox", "SlaPolicy")
    for category, unit, first_response, reply in DEFAULTS:
        SlaPolicy.objects.get_or_create(
            organization=None, category=category, priority=0,
            defaults={"unit": unit, "first_response": first_response, "reply": reply},
        )


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
