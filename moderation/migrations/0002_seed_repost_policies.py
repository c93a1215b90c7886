from django.db import migrations

# DOMAIN.md rule 15: Weibo within 1 hour; WeChat subscription accounts within 1
# working day. Other platforms fall back to 24 hours until a policy row is added.
POLICIES = [
    ("weibo", "minutes", 60, 15),
    ("wechat_subscription", "working_days", 1, 120),
]


def seed(apps, schema_editor):
    Platform = apps.get_model("registry", "Platform")
    RepostPolicy = apps.get_model("moderation", "RepostPolicy")
    for code, unit, amount, warn in POLICIES:
        platform = Platform.objects.filter(code=code).first()
        if platform and not RepostPolicy.objects.filter(platform=platform,
                                                        organization__isnull=True).exists():
            RepostPolicy.objects.create(platform=platform, organization=None, unit=unit,
                                        amount=amount, warn_before_minutes=warn)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial"), ("registry", "0002_seed_platforms")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
