"""What a benchmark run knows about its dataset: the province to measure and a
supervisor of it, plus small SQL helpers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property

from django.db import connection


@dataclass
class Context:
    province_path: str = ""
    _cache: dict = field(default_factory=dict)

    @cached_property
    def province(self):
        """The synthetic province with the most media accounts (the demo province or
        any root when there is no synthetic dataset)."""
        from accounts.models import Organization
        from demo.management.commands.generate_scale import SYNTHETIC_PREFIX

        if self.province_path:
            return Organization.objects.get(path=self.province_path)
        roots = list(Organization.objects.filter(depth=1).order_by("path"))
        if not roots:
            raise SystemExit(
                "No organizations: generate a dataset first (see bench/README.md)."
            )
        synthetic = [r for r in roots if r.name.startswith(SYNTHETIC_PREFIX)] or roots
        step = Organization.steplen
        counts = dict(
            self.rows(
                f"SELECT substr(org_path, 1, {step}), count(*) FROM registry_mediaaccount "
                "GROUP BY 1"
            )
        )
        return max(synthetic, key=lambda r: (counts.get(r.path, 0), r.path))

    @cached_property
    def supervisor(self):
        """A supervisor of the province (created once, through the services)."""
        from django.db import transaction

        from accounts import services
        from accounts.models import Membership, Role, User

        username = "bench-supervisor"
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = services.user_create(
                    actor=None,
                    organization=self.province,
                    username=username,
                    password=f"Bench-{os.urandom(16).hex()}",  # 3+ character classes
                    display_name="Benchmark supervisor",
                )
            if not Membership.objects.filter(
                user=user,
                organization=self.province,
                role=Role.SUPERVISOR,
                is_active=True,
            ).exists():
                services.membership_grant(
                    actor=None,
                    user=user,
                    organization=self.province,
                    role=Role.SUPERVISOR,
                )
        return User.objects.get(pk=user.pk)

    def rows(self, sql: str, params=()) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def scalar(self, sql: str, params=()):
        return self.rows(sql, params)[0][0]


def explain(target) -> str:
    """The plan of a queryset or of (sql, params), as text."""
    if isinstance(target, tuple):
        sql, params = target
    else:
        sql, params = target.query.sql_with_params()
    prefix = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


def machine() -> dict:
    ram_gb = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            db = "PostgreSQL " + cursor.fetchone()[0].split()[0]
    else:
        import sqlite3

        db = "SQLite " + sqlite3.sqlite_version
    # Other processes on the machine skew medians: the load is recorded with them.
    load = round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None
    return {
        "nproc": os.cpu_count(),
        "ram_gb": ram_gb,
        "database": db,
        "load_1min": load,
    }


def dataset() -> dict:
    from accounts.models import Organization
    from registry.models import MediaAccount

    return {
        "name": connection.settings_dict.get("NAME"),
        "organizations": Organization.objects.count(),
        "media_accounts": MediaAccount.objects.count(),
    }
