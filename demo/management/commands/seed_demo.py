"""Demo data: a fictional province (云岭省) with its tree, ~150 media accounts and one
sign-in per role.

Idempotent: organizations are found by name under their parent, users by username,
memberships by (user, organization, role), media accounts by (platform, platform
account id). A second run finds everything and writes nothing, not even an audit
event. Organizations, users and roles go through accounts.services (audited, actor =
the platform); media accounts are bulk-inserted in one transaction with one audit
event each (audit_record_bulk), because the registry services are not what this
command is about and 150 single inserts would only make `make run` slower.

Then the demo's work in progress (filings, custody, a rotation task, a dictionary,
posts at every stage of review, a repost directive, a flag) is made through the
registry and moderation services with the demo users as actors: see _demo_work.py.

All values are derived from a hash of each account's natural key, so the data is the
same on every machine and does not depend on the order rows are created in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.models import Level, Membership, Organization, OrgKind, Role, User

DEMO_PASSWORD = "Demo-Password-2026"

# (place, short, region code, children); townships keep their county's region code.
PROVINCE = ("云岭省", "云岭", "990000")
CITIES = [
    (
        "苍澜市",
        "苍澜",
        "990100",
        [
            ("明湖区", "明湖", "990102", ["白沙街道", "柳溪镇"]),
            ("青岚县", "青岚", "990103", ["石门镇", "云岫乡"]),
        ],
    ),
    (
        "玉屏市",
        "玉屏",
        "990200",
        [
            ("翠峰区", "翠峰", "990202", ["金桥街道", "桃源镇"]),
            ("松岚县", "松岚", "990203", ["龙潭镇", "清水乡"]),
        ],
    ),
]

# Department (province name, city name, county name), short label, platforms.
DEPARTMENTS = [
    (
        ("公安厅", "公安局", "公安局"),
        "公安",
        ["weibo", "wechat_subscription", "douyin"],
    ),
    (
        ("教育厅", "教育局", "教育局"),
        "教育",
        ["weibo", "wechat_subscription", "bilibili"],
    ),
    (
        ("卫生健康委员会", "卫生健康委员会", "卫生健康局"),
        "卫健",
        ["weibo", "wechat_subscription", "wechat_channels"],
    ),
    (
        ("文化和旅游厅", "文化和旅游局", "文化和旅游局"),
        "文旅",
        ["weibo", "wechat_subscription", "xiaohongshu"],
    ),
    (
        ("应急管理厅", "应急管理局", "应急管理局"),
        "应急",
        ["weibo", "wechat_subscription", "kuaishou"],
    ),
]
GOVERNMENT_PLATFORMS = ["weibo", "wechat_subscription", "douyin", "toutiao"]
TOWNSHIP_PLATFORMS = ["wechat_subscription", "douyin"]
LEVEL_INDEX = {Level.PROVINCE: 0, Level.CITY: 1, Level.COUNTY: 2}
FOLLOWER_SCALE = {
    Level.PROVINCE: 400_000,
    Level.CITY: 80_000,
    Level.COUNTY: 15_000,
    Level.TOWNSHIP: 2_000,
}

# The department every worker demo user belongs to: city 1's public security bureau.
WORK_DEPT = "苍澜市公安局"


@dataclass
class DemoUser:
    username: str
    display_name: str
    role: str
    org_name: str  # where the role is granted
    home_name: str = ""  # the organization the person belongs to (audit context)
    grant: dict = field(default_factory=dict)


DEMO_USERS = [
    DemoUser("demo-sysadmin", "演示·系统管理员", Role.SYSTEM_ADMIN, "云岭省人民政府"),
    DemoUser("demo-secadmin", "演示·安全管理员", Role.SECURITY_ADMIN, "云岭省人民政府"),
    DemoUser("demo-auditadmin", "演示·审计管理员", Role.AUDIT_ADMIN, "云岭省人民政府"),
    # The supervisor works in the province's supervising office but must see the
    # whole province, so the role is granted at the province government (the root).
    DemoUser(
        "demo-supervisor",
        "演示·省政府办监管员",
        Role.SUPERVISOR,
        "云岭省人民政府",
        home_name="云岭省人民政府办公厅",
    ),
    DemoUser(
        "demo-city-supervisor",
        "演示·市政府办监管员",
        Role.SUPERVISOR,
        "苍澜市人民政府",
        home_name="苍澜市人民政府办公室",
    ),
    DemoUser("demo-auditor", "演示·省级审计员", Role.AUDITOR, "云岭省人民政府"),
    DemoUser("demo-operator", "演示·运维人员", Role.OPERATOR, WORK_DEPT),
    DemoUser(
        "demo-outsourced",
        "演示·外包人员",
        Role.OUTSOURCED_OPERATOR,
        WORK_DEPT,
        grant={
            "agreement_signed_on": date(2026, 1, 5),
            "agreement_document": "苍公保密〔2026〕3号",
        },
    ),
    DemoUser("demo-depthead", "演示·部门负责人", Role.DEPARTMENT_HEAD, WORK_DEPT),
    DemoUser("demo-leader", "演示·分管领导", Role.LEADER_IN_CHARGE, WORK_DEPT),
    DemoUser("demo-principal", "演示·主要领导", Role.PRINCIPAL_LEADER, WORK_DEPT),
    DemoUser(
        "demo-secrecy", "演示·保密审查员", Role.CONFIDENTIALITY_REVIEWER, WORK_DEPT
    ),
    DemoUser("demo-liaison", "演示·联络员", Role.LIAISON, WORK_DEPT),
]


@dataclass
class OrgSpec:
    name: str
    kind: str
    level: str
    region_code: str
    short: str  # the place or label used in account names
    parent: str | None
    platforms: list[str]
    account_name: str = ""


def build_tree() -> list[OrgSpec]:
    """The demo tree as specs, parents before children."""
    specs: list[OrgSpec] = []

    def government(place, short, code, level, parent, office_suffix):
        gov = f"{place}人民政府"
        specs.append(
            OrgSpec(
                gov,
                OrgKind.GOVERNMENT,
                level,
                code,
                short,
                parent,
                GOVERNMENT_PLATFORMS,
                f"{short}发布",
            )
        )
        specs.append(
            OrgSpec(
                f"{gov}{office_suffix}",
                OrgKind.SUPERVISING_OFFICE,
                level,
                code,
                short,
                gov,
                [],
            )
        )
        for names, label, platforms in DEPARTMENTS:
            specs.append(
                OrgSpec(
                    f"{place}{names[LEVEL_INDEX[level]]}",
                    OrgKind.DEPARTMENT,
                    level,
                    code,
                    short,
                    gov,
                    platforms,
                    f"{short}{label}",
                )
            )
        return gov

    province, pshort, pcode = PROVINCE
    province_gov = government(province, pshort, pcode, Level.PROVINCE, None, "办公厅")
    # The province's own service channel (一网通办 mini-program).
    specs[0].platforms = [*GOVERNMENT_PLATFORMS, "mini_program"]
    for city, cshort, ccode, counties in CITIES:
        city_gov = government(city, cshort, ccode, Level.CITY, province_gov, "办公室")
        for county, kshort, kcode, townships in counties:
            county_gov = government(
                county, kshort, kcode, Level.COUNTY, city_gov, "办公室"
            )
            for town in townships:
                suffix = "办事处" if town.endswith("街道") else "人民政府"
                specs.append(
                    OrgSpec(
                        f"{town}{suffix}",
                        OrgKind.GOVERNMENT,
                        Level.TOWNSHIP,
                        kcode,
                        town,
                        county_gov,
                        TOWNSHIP_PLATFORMS,
                        f"{town}发布",
                    )
                )
    return specs


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _fraction(key: str, salt: str) -> float:
    return int(_digest(f"{salt}:{key}")[:8], 16) / 0xFFFFFFFF


def platform_account_id(code: str, key: str) -> str:
    h = _digest(key)
    if code in ("weibo", "bilibili"):
        return str(int(h[:12], 16) % 9_000_000_000 + 1_000_000_000)
    if code.startswith("wechat_") and code != "wechat_channels":
        return "Mz" + h[:14].upper() + "=="
    if code == "wechat_channels":
        return "sph" + h[:10]
    if code == "xiaohongshu":
        return h[:24]
    if code in ("douyin", "kuaishou", "toutiao"):
        return "MS4wLjAB" + h[:16]
    return "yl-" + h[:12]


def account_facts(key: str, level: str, now, force_active: bool = False) -> dict:
    """Status, activity and audience of one demo account, from its key."""
    r = _fraction(key, "status")
    if force_active or r < 0.80:
        status = "active"
    elif r < 0.86:
        status = "pending"
    elif r < 0.92:
        status = "rectifying"
    elif r < 0.96:
        status = "suspended"
    else:
        status = "cancelled"
    idle = _fraction(key, "idle")
    if status == "pending":
        last_post_at = None
    elif status in ("suspended", "cancelled") or idle > 0.85:
        last_post_at = now - timedelta(
            days=91 + int(_fraction(key, "days") * 300)
        )  # > 90
    elif idle > 0.70:
        last_post_at = now - timedelta(
            days=16 + int(_fraction(key, "days") * 70)
        )  # > 15
    else:
        last_post_at = now - timedelta(hours=1 + int(_fraction(key, "days") * 24 * 10))
    v = _fraction(key, "verification")
    if status == "pending":
        verification = "pending"
    else:
        verification = (
            "verified" if v < 0.9 else ("pending" if v < 0.96 else "unverified")
        )
    followers = (
        0
        if status == "pending"
        else int(FOLLOWER_SCALE[level] * (0.05 + 2 * _fraction(key, "followers") ** 2))
    )
    opened_on = (
        None
        if status == "pending"
        else date(2015, 1, 1) + timedelta(days=int(_fraction(key, "opened") * 3650))
    )
    return {
        "status": status,
        "last_post_at": last_post_at,
        "verification": verification,
        "followers": followers,
        "opened_on": opened_on,
    }


class Command(BaseCommand):
    help = "Load the demo province 云岭省 with media accounts and one sign-in per role (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            orgs, orgs_created = self._organizations()
            users, users_created, grants = self._users(orgs)
            accounts_created = self._media_accounts(orgs, users)
            # Imported here for the same reason as in _media_accounts.
            from demo.management.commands._demo_work import seed_work

            work_created = seed_work(
                orgs=orgs, work_dept=WORK_DEPT, password=DEMO_PASSWORD
            )
        from demo.assessment import (
            seed as seed_assessment,  # rubric, scores, circular, year
        )

        seed_assessment(stdout=self.stdout)
        self.stdout.write(
            f"Demo data: {orgs_created} organizations, {users_created} users, "
            f"{grants} roles, {accounts_created} media accounts created "
            f"({len(orgs)} organizations in the demo tree); "
            f"{work_created} parts of demo work created."
        )
        __import__("demo.supervision").supervision.seed(stdout=self.stdout)
        self._print_sign_ins(orgs)
        from demo import security

        security.seed(stdout=self.stdout)

    # --- organizations ---------------------------------------------------------------

    def _organizations(self) -> tuple[dict[str, Organization], int]:
        orgs: dict[str, Organization] = {}
        created = 0
        for spec in build_tree():
            parent = orgs[spec.parent] if spec.parent else None
            found = Organization.objects.filter(name=spec.name)
            if parent is None:
                found = found.filter(depth=1)
            else:
                found = found.filter(
                    depth=parent.depth + 1, path__startswith=parent.path
                )
            org = found.first()
            if org is None:
                org = services.organization_create(
                    actor=None,
                    parent=parent,
                    name=spec.name,
                    kind=spec.kind,
                    level=spec.level,
                    region_code=spec.region_code,
                    short_name=spec.short if spec.parent else "",
                )
                created += 1
                if parent is not None:
                    # add_child bumped numchild in the database, not on our copy.
                    parent.refresh_from_db(fields=["numchild"])
            orgs[spec.name] = org
        return orgs, created

    # --- people ------------------------------------------------------------------------

    def _users(self, orgs) -> tuple[dict[str, User], int, int]:
        existing = {
            u.username: u
            for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])
        }
        held = set(
            Membership.objects.filter(
                user__in=existing.values(), is_active=True
            ).values_list("user__username", "organization_id", "role")
        )
        users, created, grants = {}, 0, 0
        for demo in DEMO_USERS:
            org = orgs[demo.org_name]
            user = existing.get(demo.username)
            if user is None:
                user = services.user_create(
                    actor=None,
                    organization=orgs[demo.home_name or demo.org_name],
                    username=demo.username,
                    password=DEMO_PASSWORD,
                    display_name=demo.display_name,
                )
                created += 1
            if (demo.username, org.pk, demo.role) not in held:
                services.membership_grant(
                    actor=None,
                    user=user,
                    organization=org,
                    role=demo.role,
                    **demo.grant,
                )
                grants += 1
            users[demo.username] = user
        return users, created, grants

    # --- media accounts ----------------------------------------------------------------

    def _media_accounts(self, orgs, users) -> int:
        # Imported here: accounts must not depend on registry at import time (the
        # apps depend one way); this command is the demo's installer, not a module.
        from audit.services import audit_record_bulk
        from registry.derive import derive_supervising_many
        from registry.models import MediaAccount, Platform

        platforms = {p.code: p for p in Platform.objects.all()}
        specs = [s for s in build_tree() if s.platforms]
        supervising = derive_supervising_many([orgs[s.name] for s in specs])
        existing = set(
            MediaAccount.objects.filter(
                organization__in=[orgs[s.name] for s in specs]
            ).values_list("platform__code", "platform_account_id")
        )
        now = timezone.now()
        liaison = users["demo-liaison"]
        new = []
        for spec in specs:
            org = orgs[spec.name]
            for code in spec.platforms:
                key = f"{spec.name}/{code}"
                account_id = platform_account_id(code, key)
                if (code, account_id) in existing:
                    continue
                platform = platforms[code]
                facts = account_facts(
                    key, spec.level, now, force_active=spec.name == WORK_DEPT
                )
                template = platform.profile_url_template
                new.append(
                    MediaAccount(
                        platform=platform,
                        display_name=spec.account_name,
                        platform_account_id=account_id,
                        profile_url=template.format(account_id=account_id)
                        if template
                        else "",
                        organization=org,
                        supervising_organization=supervising[org.pk],
                        org_path=org.path,
                        region_code=org.region_code,
                        liaison=liaison if spec.name == WORK_DEPT else None,
                        **facts,
                    )
                )
        if new:
            MediaAccount.objects.bulk_create(new, batch_size=500)
            keys = {(a.platform_id, a.platform_account_id) for a in new}
            # Re-read: not every backend returns primary keys from a bulk insert.
            saved = [
                a
                for a in MediaAccount.objects.filter(
                    platform_account_id__in=[k[1] for k in keys]
                ).select_related("platform", "organization")
                if (a.platform_id, a.platform_account_id) in keys
            ]
            audit_record_bulk(
                actor=None,
                action="media_account.seeded",
                targets=saved,
                organization_of=lambda a: a.organization,
                after_of=lambda a: {
                    "platform": a.platform.code,
                    "display_name": a.display_name,
                    "platform_account_id": a.platform_account_id,
                    "status": a.status,
                },
            )
        dept_accounts = MediaAccount.objects.filter(organization=orgs[WORK_DEPT])
        users["demo-operator"].operated_accounts.add(*dept_accounts)
        return len(new)

    def _print_sign_ins(self, orgs) -> None:
        rows = [("username", "password", "role", "granted at")]
        for demo in DEMO_USERS:
            rows.append((demo.username, DEMO_PASSWORD, str(demo.role), demo.org_name))
        widths = [max(_width(r[i]) for r in rows) for i in range(4)]
        self.stdout.write("")
        self.stdout.write("Demo sign-ins:")
        for n, row in enumerate(rows):
            self.stdout.write(
                "  " + "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True))
            )
            if n == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
