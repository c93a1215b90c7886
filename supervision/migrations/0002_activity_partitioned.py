"""Activity and metric snapshots. On PostgreSQL both tables are partitioned by month
(declarative range partitioning; DDL in supervision/partitions.py), with this month's
and the next three months' partitions created here and later ones by the daily job;
on SQLite they are plain tables (SQLite has no partitioning)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.utils import timezone

TABLES = {"AccountPost": "supervision_accountpost",
          "MetricSnapshot": "supervision_metricsnapshot"}


def create_tables(apps, schema_editor):
    from supervision import partitions

    if schema_editor.connection.vendor != "postgresql":
        for name in TABLES:
            schema_editor.create_model(apps.get_model("supervision", name))
        return
    for table in TABLES.values():
        schema_editor.execute(partitions.CREATE_SQL[table])
    partitions.ensure_ahead(timezone.localdate(), 3)


def drop_tables(apps, schema_editor):
    for table in TABLES.values():
        schema_editor.execute(f"DROP TABLE IF EXISTS {table} CASCADE")


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0005_filing_late_account_idx'),
        ('supervision', '0001_initial'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='AccountPost',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('platform_post_id', models.CharField(max_length=128, verbose_name='platform post id')),
                ('org_path', models.CharField(editable=False, max_length=255)),
                ('published_at', models.DateTimeField(verbose_name='published at')),
                ('url', models.CharField(blank=True, max_length=500, verbose_name='URL')),
                ('source', models.CharField(choices=[('moderation', 'Publication record'), ('collector', 'Collector'), ('import', 'Import')], max_length=12, verbose_name='source')),
                ('recorded_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='recorded at')),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.mediaaccount', verbose_name='account')),
                ('platform', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.platform', verbose_name='platform')),
            ],
            options={
                'verbose_name': 'published post (activity)',
                'verbose_name_plural': 'published posts (activity)',
                'indexes': [models.Index(fields=['account', 'published_at'], name='activity_account_idx'), models.Index(fields=['org_path', 'published_at'], name='activity_path_idx', opclasses=['varchar_pattern_ops', ''])],
                'constraints': [models.UniqueConstraint(fields=('account', 'platform_post_id', 'published_at'), name='activity_post_unique')],
            },
        ),
        migrations.CreateModel(
            name='MetricSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('org_path', models.CharField(editable=False, max_length=255)),
                ('followers', models.PositiveBigIntegerField(default=0, verbose_name='followers')),
                ('posts', models.PositiveBigIntegerField(default=0, verbose_name='posts')),
                ('reads', models.PositiveBigIntegerField(default=0, verbose_name='reads')),
                ('reposts', models.PositiveBigIntegerField(default=0, verbose_name='reposts')),
                ('comments', models.PositiveBigIntegerField(default=0, verbose_name='comments')),
                ('likes', models.PositiveBigIntegerField(default=0, verbose_name='likes')),
                ('recorded_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='recorded at')),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.mediaaccount', verbose_name='account')),
            ],
            options={
                'verbose_name': 'metric snapshot',
                'verbose_name_plural': 'metric snapshots',
                'indexes': [models.Index(fields=['org_path', 'day'], name='metric_path_idx', opclasses=['varchar_pattern_ops', ''])],
                'constraints': [models.UniqueConstraint(fields=('account', 'day'), name='metric_account_day_unique')],
            },
        ),
    ]

    # The models first (state only), then the tables: RunPython then sees the models.
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
        migrations.RunPython(create_tables, drop_tables),
    ]
