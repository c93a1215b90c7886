"""A synthetic national-scale dataset for benchmarks: provinces, cities, counties,
townships, their supervising offices and departments, and N media accounts.

SYNTHETIC DATA: every organization's name starts with "合成" ("synthetic"), the
accounts' platform ids start with "syn", and no audit event is written for them (a
benchmark dataset is not a governance action; 200,000 events would also dwarf the
real trail). Never run this against a production database.

Speed: 200,000 accounts with their ~50,000 organizations must load in well under
five minutes on PostgreSQL, so the command computes the treebeard materialized paths
itself (steplen 4, alphabet 0-9A-Z, depth, numchild) and loads rows with COPY; on
SQLite it falls back to bulk_create. The same --seed gives the same tree and the same
accounts (last_post_at is relative to the time of the run).

Shape at N = 200,000 (about the national count of 180,000): 31 provinces, 4-17
cities each, 5-12 counties per city, 7-13 townships per county (about three quarters
of the real count: many townships keep no account), a supervising office under every
province, city and county government, and 12 / 8 / 5 departments per province / city
/ county. Smaller N shrinks the tree by N/200,000 to the power 1/4 per level, so a
test with 500 accounts gets a few hundred organizations.
"""

from __future__ import annotations

import io
import json
import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Level, Organization, OrgKind

SYNTHETIC_PREFIX = "合成"
ACCOUNT_ID_PREFIX = "syn"
NATIONAL_ACCOUNTS = 200_000
ALPHABET = Organization.alphabet
STEP = Organization.steplen

# The first two digits of the 31 provincial-level region codes (GB/T 2260).
PROVINCE_CODES = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
    "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
    "63", "64", "65",
]  # fmt: skip
DEPARTMENTS = {
    Level.PROVINCE: ["公安厅", "教育厅", "卫生健康委员会", "文化和旅游厅", "应急管理厅",
                     "生态环境厅", "交通运输厅", "市场监督管理局", "人力资源和社会保障厅",
                     "自然资源厅", "住房和城乡建设厅", "税务局"],
    Level.CITY: ["公安局", "教育局", "卫生健康委员会", "文化和旅游局", "应急管理局",
                 "生态环境局", "交通运输局", "市场监督管理局"],
    Level.COUNTY: ["公安局", "教育局", "卫生健康局", "文化和旅游局", "应急管理局"],
}  # fmt: skip
# Relative number of accounts an organization keeps, by level and kind.
ACCOUNT_WEIGHT = {
    (Level.PROVINCE, OrgKind.GOVERNMENT): 30.0,
    (Level.PROVINCE, OrgKind.SUPERVISING_OFFICE): 2.0,
    (Level.PROVINCE, OrgKind.DEPARTMENT): 14.0,
    (Level.CITY, OrgKind.GOVERNMENT): 16.0,
    (Level.CITY, OrgKind.SUPERVISING_OFFICE): 1.0,
    (Level.CITY, OrgKind.DEPARTMENT): 7.0,
    (Level.COUNTY, OrgKind.GOVERNMENT): 8.0,
    (Level.COUNTY, OrgKind.SUPERVISING_OFFICE): 0.5,
    (Level.COUNTY, OrgKind.DEPARTMENT): 3.3,
    (Level.TOWNSHIP, OrgKind.GOVERNMENT): 1.6,
}
FOLLOWER_SCALE = {Level.PROVINCE: 300_000, Level.CITY: 60_000, Level.COUNTY: 12_000,
                  Level.TOWNSHIP: 1_500}  # fmt: skip
PLATFORM_SHARE = {
    "wechat_subscription": 30, "weibo": 22, "douyin": 18, "toutiao": 10, "kuaishou": 5,
    "wechat_service": 4, "wechat_channels": 4, "bilibili": 2, "app": 2, "xiaohongshu": 1,
    "mini_program": 1, "other": 1,
}  # fmt: skip
STATUS_SHARE = {
    "active": 85,
    "pending": 4,
    "rectifying": 4,
    "suspended": 3,
    "cancelled": 4,
}
VERIFICATION_SHARE = {"verified": 90, "pending": 6, "unverified": 4}


def segment(n: int) -> str:
    """Treebeard's path step for the n-th child (1-based): base 36, zero-padded."""
    digits = ""
    while n:
        n, r = divmod(n, len(ALPHABET))
        digits = ALPHABET[r] + digits
    if len(digits) > STEP:
        raise CommandError("Too many siblings for a path step of four characters.")
    return digits.rjust(STEP, ALPHABET[0])


def segment_value(seg: str) -> int:
    value = 0
    for ch in seg:
        value = value * len(ALPHABET) + ALPHABET.index(ch)
    return value


@dataclass
class Node:
    path: str
    name: str
    short_name: str
    kind: str
    level: str
    region_code: str
    numchild: int = 0
    gov_path: str = ""  # the government this organization belongs to
    account_name: str = ""  # what its media accounts are called


class TreeBuilder:
    def __init__(self, rng: random.Random, accounts: int, first_root: int):
        self.rng = rng
        self.g = min(1.0, accounts / NATIONAL_ACCOUNTS) ** 0.25
        self.next_root = first_root
        self.nodes: list[Node] = []
        self.offices: dict[str, str] = {}  # government path -> office path

    def _count(self, low: int, high: int) -> int:
        return max(1, round(self.rng.randint(low, high) * self.g))

    def _add(self, parent: Node | None, **fields) -> Node:
        if parent is None:
            path = segment(self.next_root)
            self.next_root += 1
        else:
            parent.numchild += 1
            path = parent.path + segment(parent.numchild)
        node = Node(path=path, **fields)
        node.gov_path = (
            path if node.kind == OrgKind.GOVERNMENT or parent is None else parent.path
        )
        if node.kind == OrgKind.DEPARTMENT:
            node.account_name = node.name.replace("人民政府", "")
        else:
            node.account_name = f"{node.short_name}发布"
        self.nodes.append(node)
        return node

    def _government(self, parent, place, short, level, code, office_name) -> Node:
        gov = self._add(parent, name=f"{place}人民政府", short_name=short,
                        kind=OrgKind.GOVERNMENT, level=level, region_code=code)  # fmt: skip
        office = self._add(gov, name=f"{place}人民政府{office_name}", short_name=short,
                           kind=OrgKind.SUPERVISING_OFFICE, level=level, region_code=code)  # fmt: skip
        self.offices[gov.path] = office.path
        departments = DEPARTMENTS[level]
        for dept in departments[: max(1, round(len(departments) * self.g))]:
            self._add(gov, name=f"{place}{dept}", short_name=short, kind=OrgKind.DEPARTMENT,
                      level=level, region_code=code)  # fmt: skip
        return gov

    def build(self) -> list[Node]:
        provinces = PROVINCE_CODES[: max(1, round(len(PROVINCE_CODES) * self.g))]
        for pp in provinces:
            place = f"{SYNTHETIC_PREFIX}{pp}省"
            province = self._government(
                None, place, place, Level.PROVINCE, f"{pp}0000", "办公厅"
            )
            for c in range(1, self._count(4, 17) + 1):
                ccode = f"{pp}{c:02d}00"
                cplace = f"{SYNTHETIC_PREFIX}{ccode[:4]}市"
                city = self._government(
                    province, cplace, cplace, Level.CITY, ccode, "办公室"
                )
                for k in range(1, self._count(5, 12) + 1):
                    kcode = f"{ccode[:4]}{k:02d}"
                    kplace = f"{SYNTHETIC_PREFIX}{kcode}县"
                    county = self._government(
                        city, kplace, kplace, Level.COUNTY, kcode, "办公室"
                    )
                    for t in range(1, self._count(7, 13) + 1):
                        self._add(county, name=f"{kplace}第{t}镇人民政府",
                                  short_name=f"{kplace}第{t}镇", kind=OrgKind.GOVERNMENT,
                                  level=Level.TOWNSHIP, region_code=kcode)  # fmt: skip
        return self.nodes


def allocate(rng: random.Random, weights: list[float], total: int) -> list[int]:
    """Split `total` over the weights (largest remainder; ties broken by the rng)."""
    wsum = sum(weights)
    exact = [total * w / wsum for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(
        range(len(weights)), key=lambda i: (counts[i] - exact[i], rng.random())
    )
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


class Command(BaseCommand):
    help = (
        "Generate a SYNTHETIC national-scale dataset (organizations named 合成…, "
        "--accounts media accounts) for benchmarks. No audit events are written."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--accounts", type=int, required=True, help="number of media accounts"
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="random seed (default 2026)"
        )
        parser.add_argument(
            "--clear",
            action="store_true",
            help="delete an earlier synthetic dataset first",
        )
        parser.add_argument(
            "--no-operations",
            action="store_true",
            help="organizations and accounts only (no operators, filings, posts, "
            "directives; see demo/scale_ops.py)",
        )
        parser.add_argument(
            "--operations-only",
            action="store_true",
            help="add the operational volumes to an existing synthetic dataset",
        )

    def handle(self, *args, accounts: int, seed: int, clear: bool, **options):
        from demo import scale_ops

        if accounts < 1:
            raise CommandError("--accounts must be at least 1.")
        if options.get("operations_only"):
            scale_ops.clear()
            scale_ops.generate(
                stdout=self.stdout, accounts=accounts, seed=seed,
                synthetic_prefix=SYNTHETIC_PREFIX,
            )
            return
        started = time.perf_counter()
        with transaction.atomic():
            existing = synthetic_roots()
            if existing and not clear:
                raise CommandError(
                    f"A synthetic dataset already exists ({len(existing)} provinces named "
                    f"{SYNTHETIC_PREFIX}…); pass --clear to replace it."
                )
            if existing:
                scale_ops.clear()
                removed = clear_synthetic(existing)
                self.stdout.write(
                    f"Cleared the synthetic dataset: {removed[0]} media accounts, "
                    f"{removed[1]} organizations ({time.perf_counter() - started:.1f} s)."
                )
            t0 = time.perf_counter()
            rng = random.Random(seed)
            last_root = Organization.get_last_root_node()
            first_root = segment_value(last_root.path[:STEP]) + 1 if last_root else 1
            tree = TreeBuilder(rng, accounts, first_root)
            nodes = tree.build()
            rows = self._account_rows(rng, nodes, tree.offices, accounts)
            t1 = time.perf_counter()
            ids = insert_organizations(nodes)
            t2 = time.perf_counter()
            insert_accounts(rows, ids)
            t3 = time.perf_counter()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Outside the transaction: what autovacuum would reach eventually
                # (statistics, visibility map for index-only scans), done now so the
                # benchmarks measure the steady state.
                # VACUUM cannot run inside a transaction (e.g. a test's): ANALYZE can.
                vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
                for model in (Organization, media_account_model()):
                    table = connection.ops.quote_name(model._meta.db_table)
                    cursor.execute(f"{vacuum} {table}")
        t4 = time.perf_counter()
        self.stdout.write(
            self.style.SUCCESS(
                f"SYNTHETIC dataset (seed {seed}): {len(nodes)} organizations in "
                f"{sum(1 for n in nodes if len(n.path) == STEP)} provinces, "
                f"{len(rows)} media accounts on {connection.vendor} in "
                f"{t4 - started:.1f} s (generate {t1 - t0:.1f} s, organizations "
                f"{t2 - t1:.1f} s, accounts {t3 - t2:.1f} s, vacuum analyze {t4 - t3:.1f} s)."
            )
        )
        if not options.get("no_operations"):
            scale_ops.generate(
                stdout=self.stdout, accounts=accounts, seed=seed,
                synthetic_prefix=SYNTHETIC_PREFIX,
            )

    def _account_rows(
        self, rng: random.Random, nodes: list[Node], offices: dict[str, str], total: int
    ) -> list[dict]:
        from registry.models import Platform

        platforms = {p.code: p.pk for p in Platform.objects.all()}
        if not platforms:
            raise CommandError("No platforms: run `manage.py migrate` first.")
        share = {c: w for c, w in PLATFORM_SHARE.items() if c in platforms}
        weights = [ACCOUNT_WEIGHT.get((n.level, n.kind), 1.0) for n in nodes]
        per_org = allocate(rng, weights, total)
        owners = [i for i, k in enumerate(per_org) for _ in range(k)]
        platform_ids = [
            platforms[c]
            for c in rng.choices(list(share), list(share.values()), k=total)
        ]
        statuses = rng.choices(list(STATUS_SHARE), list(STATUS_SHARE.values()), k=total)
        verifications = rng.choices(
            list(VERIFICATION_SHARE), list(VERIFICATION_SHARE.values()), k=total
        )
        now = timezone.now()
        epoch = date(2013, 1, 1)
        rows = []
        for i, (owner, platform_id, status) in enumerate(
            zip(owners, platform_ids, statuses, strict=True)
        ):
            node = nodes[owner]
            idle = rng.random()
            if status == "pending":
                last_post_at, followers, opened_on, verification = (
                    None,
                    0,
                    None,
                    "pending",
                )
            else:
                if status in ("suspended", "cancelled") or idle > 0.92:
                    hours = rng.randint(91 * 24, 800 * 24)  # idle for more than 90 days
                elif idle > 0.80:
                    hours = rng.randint(16 * 24, 90 * 24)  # idle for more than 15 days
                else:
                    hours = rng.randint(1, 15 * 24 - 1)
                last_post_at = now - timedelta(
                    hours=hours, seconds=rng.randint(0, 3599)
                )
                followers = int(FOLLOWER_SCALE[node.level] * rng.lognormvariate(0, 1.2))
                opened_on = epoch + timedelta(days=rng.randint(0, 4300))
                verification = verifications[i]
            rows.append(
                {
                    "platform_id": platform_id,
                    "display_name": node.account_name,
                    "platform_account_id": f"{ACCOUNT_ID_PREFIX}{i:07d}",
                    "org": node.path,
                    # registry.derive's rule (the office under the owner's
                    # government), computed in memory for the whole tree.
                    "supervising": offices.get(node.gov_path, node.gov_path),
                    "status": status,
                    "verification": verification,
                    "category": "institutional",
                    "supervising_overridden": False,
                    "last_post_at": last_post_at,
                    "followers": followers,
                    "opened_on": opened_on,
                    "org_path": node.path,
                    "region_code": node.region_code,
                }
            )
        return rows


def media_account_model():
    from registry.models import MediaAccount

    return MediaAccount


def synthetic_roots() -> list[str]:
    return list(
        Organization.objects.filter(
            depth=1, name__startswith=SYNTHETIC_PREFIX
        ).values_list("path", flat=True)
    )


def _under(field: str, roots: list[str]) -> Q:
    q = Q()
    for root in roots:
        q |= Q(**{f"{field}__startswith": root})
    return q


def clear_synthetic(roots: list[str]) -> tuple[int, int]:
    """Delete the synthetic provinces, their accounts and whatever points at them.

    Rows of other models that reference the synthetic accounts or organizations
    (filings, memberships of benchmark users, ...) go through Django's collector
    (few rows); the accounts and organizations themselves are deleted with one raw
    DELETE each (treebeard's delete() and the collector are far too slow for 10^5 rows).
    """
    MediaAccount = media_account_model()
    accounts = MediaAccount.objects.filter(_under("org_path", roots))
    orgs = Organization.objects.filter(_under("path", roots))
    n_accounts, n_orgs = accounts.count(), orgs.count()
    through = MediaAccount.operators.through
    through._base_manager.filter(mediaaccount__in=accounts.values("pk"))._raw_delete(
        through.objects.db
    )
    for model, queryset in ((MediaAccount, accounts), (Organization, orgs)):
        for rel in model._meta.related_objects:
            if rel.many_to_many or rel.related_model is MediaAccount:
                continue
            related = rel.related_model._base_manager.filter(
                **{f"{rel.field.name}__in": queryset.values("pk")}
            )
            related.delete()
        if model is MediaAccount:
            # Accounts whose *supervising* organization is synthetic but sponsor is not
            # cannot exist (both come from the same tree), so this covers them all.
            queryset._raw_delete(queryset.db)
    orgs._raw_delete(orgs.db)
    return n_accounts, n_orgs


# --- loading -----------------------------------------------------------------------


def _value_sql(value) -> str:
    """One value in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if any(ch in text for ch in "\\\t\n\r"):
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _columns(model, given: set[str]) -> tuple[list, dict]:
    """The model's concrete columns except the primary key, and defaults for the ones
    this command does not set (so fields added to the model later still load)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {}
    now = timezone.now()
    for f in fields:
        if f.attname in given:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.has_default() or f.null or f.empty_strings_allowed:
            defaults[f.attname] = f.get_default()  # the default, None or ""
        else:
            raise CommandError(
                f"generate_scale does not know how to fill {model.__name__}.{f.name}."
            )
    return fields, defaults


def _copy(model, rows: list[dict]) -> None:
    fields, defaults = _columns(model, set(rows[0]) if rows else set())
    buf = io.StringIO()
    for row in rows:
        buf.write(
            "\t".join(
                _value_sql(row[f.attname] if f.attname in row else defaults[f.attname])
                for f in fields
            )
        )
        buf.write("\n")
    buf.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buf)


def _bulk(model, rows: list[dict]) -> None:
    fields, defaults = _columns(model, set(rows[0]) if rows else set())
    objs = [model(**{**defaults, **row}) for row in rows]
    model._base_manager.bulk_create(objs, batch_size=2000)


def _load(model, rows: list[dict]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy(model, rows)
    else:
        _bulk(model, rows)


def insert_organizations(nodes: list[Node]) -> dict[str, int]:
    """Insert the tree; return path -> id."""
    now = timezone.now()
    rows = [
        {
            "path": n.path,
            "depth": len(n.path) // STEP,
            "numchild": n.numchild,
            "name": n.name,
            "short_name": n.short_name[:60],
            "kind": n.kind,
            "level": n.level,
            "region_code": n.region_code,
            "is_active": True,
            "created_at": now,
        }
        for n in nodes
    ]
    _load(Organization, rows)
    roots = sorted({n.path[:STEP] for n in nodes})
    return dict(
        Organization.objects.filter(_under("path", roots))
        .values_list("path", "id")
        .order_by()
    )


def insert_accounts(rows: list[dict], ids: dict[str, int]) -> None:
    """`rows` carry the sponsoring and supervising organizations' paths; resolve ids."""
    for row in rows:
        row["organization_id"] = ids[row.pop("org")]
        row["supervising_organization_id"] = ids[row.pop("supervising")]
    _load(media_account_model(), rows)
