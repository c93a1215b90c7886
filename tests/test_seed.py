"""The demo seed and the synthetic scale dataset."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F
from django.urls import reverse
from django.utils import timezone

from accounts.models import Level, Membership, Organization, OrgKind, User
from audit.models import AuditEvent
from demo.management.commands.generate_scale import SYNTHETIC_PREFIX
from demo.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS, WORK_DEPT
from moderation.models import (
    Dictionary,
    DirectiveTarget,
    Flag,
    FlagKind,
    Post,
    PostStatus,
    RepostDirective,
    ReviewStep,
    SignOffSheet,
    Term,
)
from notifications.models import Notification
from registry.derive import derive_supervising_many
from registry.models import (
    AccountExemption,
    CredentialCustody,
    Filing,
    FilingKind,
    FilingStatus,
    MediaAccount,
    RotationTask,
)

pytestmark = pytest.mark.django_db


def _seed():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict:
    return {
        "organizations": Organization.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "accounts": MediaAccount.objects.count(),
        "operators": MediaAccount.operators.through.objects.count(),
        "audit": AuditEvent.objects.count(),
        "filings": Filing.objects.count(),
        "exemptions": AccountExemption.objects.count(),
        "custody": CredentialCustody.objects.count(),
        "rotations": RotationTask.objects.count(),
        "dictionaries": Dictionary.objects.count(),
        "terms": Term.objects.count(),
        "posts": Post.objects.count(),
        "steps": ReviewStep.objects.count(),
        "directives": RepostDirective.objects.count(),
        "targets": DirectiveTarget.objects.count(),
        "flags": Flag.objects.count(),
        "notifications": Notification.objects.count(),
    }


def _seeded_accounts():
    """The bulk-seeded accounts: not those the demo work filed for opening."""
    return MediaAccount.objects.exclude(filings__kind=FilingKind.OPEN)


@pytest.fixture
def seeded():
    _seed()
    return Organization.objects.get(depth=1, name="云岭省人民政府")


def test_second_run_creates_nothing(seeded):
    before = _counts()
    output = _seed()
    assert _counts() == before
    assert "0 organizations, 0 users, 0 roles, 0 media accounts created" in output
    assert "0 parts of demo work created" in output


def test_first_run_writes_audit_events():
    before = AuditEvent.objects.count()
    _seed()
    actions = dict(
        AuditEvent.objects.values_list("action").annotate(n=Count("id")).order_by()
    )
    assert actions["media_account.seeded"] == _seeded_accounts().count()
    assert actions["organization.created"] == Organization.objects.count()
    assert AuditEvent.objects.count() > before
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


def test_tree_shape(seeded):
    subtree = Organization.objects.filter(path__startswith=seeded.path)
    governments = subtree.filter(kind=OrgKind.GOVERNMENT)
    assert governments.filter(level=Level.CITY).count() >= 2
    assert governments.filter(level=Level.COUNTY).count() >= 4
    assert governments.filter(level=Level.TOWNSHIP).count() >= 8
    for gov in governments.exclude(level=Level.TOWNSHIP):
        children = subtree.filter(path__startswith=gov.path, depth=gov.depth + 1)
        assert children.filter(kind=OrgKind.SUPERVISING_OFFICE).count() == 1, gov
        assert children.filter(kind=OrgKind.DEPARTMENT).count() >= 5, gov
    assert Organization.find_problems() == ([], [], [], [], [])


def test_media_accounts(seeded):
    accounts = (
        _seeded_accounts()
        .filter(org_path__startswith=seeded.path)
        .select_related("organization")
    )
    assert 140 <= accounts.count() <= 160
    assert not accounts.exclude(org_path=F("organization__path")).exists()
    assert not accounts.exclude(region_code=F("organization__region_code")).exists()
    statuses = set(accounts.values_list("status", flat=True))
    assert statuses == {"active", "pending", "rectifying", "suspended", "cancelled"}
    assert accounts.filter(status="active").count() > accounts.count() / 2
    now = timezone.now()
    active = accounts.filter(status="active")
    assert active.filter(last_post_at__lt=now - timedelta(days=90)).exists()
    assert active.filter(
        last_post_at__lt=now - timedelta(days=15),
        last_post_at__gte=now - timedelta(days=90),
    ).exists()
    assert active.filter(last_post_at__gte=now - timedelta(days=15)).exists()
    assert accounts.values("platform").distinct().count() >= 8
    orgs = list({a.organization for a in accounts})
    expected = derive_supervising_many(orgs)
    for account in accounts:
        assert (
            account.supervising_organization_id == expected[account.organization_id].pk
        )
    office = accounts.get(organization__name=WORK_DEPT, platform__code="weibo")
    assert office.supervising_organization.name == "苍澜市人民政府办公室"


def test_roles_and_operators(seeded):
    held = {
        m.user.username: m
        for m in Membership.objects.filter(
            user__username__startswith="demo-", is_active=True
        ).select_related("user", "organization")
    }
    assert set(held) == {d.username for d in DEMO_USERS}
    for demo in DEMO_USERS:
        assert held[demo.username].role == demo.role
        assert held[demo.username].organization.name == demo.org_name
    # Supervisors and auditors of the province hold their role at its root.
    assert held["demo-supervisor"].organization == seeded
    assert held["demo-auditor"].organization == seeded
    outsourced = held["demo-outsourced"]
    assert outsourced.agreement_signed_on and outsourced.agreement_document
    operator = User.objects.get(username="demo-operator")
    dept_accounts = MediaAccount.objects.filter(organization__name=WORK_DEPT)
    assert dept_accounts.exists()
    assert set(operator.operated_accounts.all()) == set(dept_accounts)
    assert (
        MediaAccount.objects.visible_to(
            User.objects.get(username="demo-supervisor")
        ).count()
        == MediaAccount.objects.filter(org_path__startswith=seeded.path).count()
    )
    assert set(MediaAccount.objects.visible_to(operator)) == set(dept_accounts)


def test_every_demo_user_signs_in(seeded, client):
    for demo in DEMO_USERS:
        response = client.post(
            reverse("accounts:login"),
            {"username": demo.username, "password": DEMO_PASSWORD},
        )
        assert response.status_code == 302, demo.username
        assert client.session.get("_auth_user_id") == str(
            User.objects.get(username=demo.username).pk
        )
        client.logout()
    response = client.post(
        reverse("accounts:login"), {"username": "demo-operator", "password": "wrong"}
    )
    assert "_auth_user_id" not in client.session


def test_demo_work_in_every_part(seeded):
    """After seeding, a visitor finds work at every stage, made through the services
    (so with audit events and notifications)."""
    dept = Organization.objects.get(name=WORK_DEPT)
    operator = User.objects.get(username="demo-operator")
    filings = Filing.objects.filter(organization=dept)
    pending = filings.filter(status=FilingStatus.SUBMITTED)
    assert pending.count() >= 3
    assert pending.filter(is_late=True).exists()
    assert filings.filter(status=FilingStatus.APPROVED).exists()
    rejected = filings.get(status=FilingStatus.REJECTED)
    assert rejected.decision_reason and rejected.account.status == "not_opened"
    assert AccountExemption.objects.active().filter(organization=dept).exists()
    # The pending second Weibo account rests on the exemption.
    assert pending.filter(exemption__isnull=False).exists()
    assert CredentialCustody.objects.filter(account__organization=dept).count() >= 2
    task = RotationTask.objects.open().get(account__organization=dept)
    assert not task.departed_user.memberships.filter(is_active=True).exists()

    posts = Post.objects.filter(organization=dept, author=operator)
    statuses = {(p.status, p.awaiting_role) for p in posts}
    assert ("draft", "") in statuses
    assert ("in_review", "department_head") in statuses
    assert ("in_review", "confidentiality_reviewer") in statuses
    assert ("approved", "") in statuses
    assert ("published", "") in statuses
    approved = posts.get(status=PostStatus.APPROVED)
    assert SignOffSheet.objects.filter(revision=approved.current_revision).exists()
    resubmitted = posts.get(awaiting_role="department_head")
    assert resubmitted.revisions.count() == 2
    overridden = [p for p in posts if p.current_revision.overrides]
    assert overridden and overridden[0].current_revision.overrides[0]["reason"]

    province = seeded
    dictionaries = Dictionary.objects.filter(organization=province)
    assert {d.kind for d in dictionaries} >= {"sensitive", "common_error"}
    assert Term.objects.filter(dictionary__in=dictionaries).count() >= 10

    directive = RepostDirective.objects.get(organization=province)
    assert directive.issued_by.username == "demo-supervisor"
    targets = directive.targets.all()
    assert targets.filter(confirmed_at__isnull=False).count() >= 2
    assert targets.filter(confirmed_at__isnull=True, due_at__lt=timezone.now()).exists()
    assert targets.filter(confirmed_at__isnull=True, due_at__gt=timezone.now()).exists()
    assert Flag.objects.filter(
        kind=FlagKind.UNAPPROVED_PUBLICATION, organization=dept
    ).exists()

    # Real audit events and notifications, from the demo users.
    actions = set(
        AuditEvent.objects.filter(actor_label__contains="演示").values_list(
            "action", flat=True
        )
    )
    assert {
        "filing.submitted",
        "filing.approved",
        "filing.rejected",
        "exemption.granted",
        "credential_custody.set",
        "moderation.post_submit",
        "moderation.post_approve",
        "moderation.post_publish",
        "moderation.directive_issue",
        "moderation.repost_confirm",
    } <= actions
    assert AuditEvent.objects.filter(action="credential_rotation.opened").exists()
    assert Notification.objects.filter(recipient__username="demo-depthead").exists()
    assert Notification.objects.filter(recipient__username="demo-operator").exists()
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


# --- generate_scale -------------------------------------------------------------------


def _generate(*args):
    out = io.StringIO()
    call_command("generate_scale", *args, stdout=out)
    return out.getvalue()


def test_generate_scale_small():
    _seed()  # the synthetic roots go after existing ones
    demo_orgs = Organization.objects.count()
    output = _generate("--accounts", "500", "--seed", "7")
    assert "SYNTHETIC" in output
    synthetic = Organization.objects.filter(name__startswith=SYNTHETIC_PREFIX)
    assert Organization.objects.count() == demo_orgs + synthetic.count()
    assert 100 <= synthetic.count() <= 600
    accounts = MediaAccount.objects.filter(platform_account_id__startswith="syn")
    assert accounts.count() == 500
    # A valid treebeard tree: no bad paths, orphans, wrong depth or numchild.
    assert Organization.find_problems() == ([], [], [], [], [])
    for org in synthetic.annotate():
        if org.numchild:
            assert (
                Organization.objects.filter(
                    path__startswith=org.path, depth=org.depth + 1
                ).count()
                == org.numchild
            )
    paths = list(Organization.objects.values_list("path", flat=True))
    assert len(paths) == len(set(paths))
    assert not accounts.exclude(org_path=F("organization__path")).exists()
    assert not accounts.exclude(region_code=F("organization__region_code")).exists()
    sample = list(synthetic.order_by("path")[:: max(1, synthetic.count() // 40)])
    expected = derive_supervising_many(sample)
    for account in accounts.filter(organization__in=sample):
        assert (
            account.supervising_organization_id == expected[account.organization_id].pk
        )
    levels = set(synthetic.values_list("level", flat=True))
    assert levels == {"province", "city", "county", "township"}
    assert {"active", "cancelled"} <= set(accounts.values_list("status", flat=True))
    # Synthetic data writes no audit events.
    assert not AuditEvent.objects.filter(
        organization_label__startswith=SYNTHETIC_PREFIX
    ).exists()


def test_generate_scale_is_deterministic_and_clears():
    _generate("--accounts", "300", "--seed", "3")

    def snapshot():
        return sorted(
            MediaAccount.objects.filter(
                platform_account_id__startswith="syn"
            ).values_list(
                "platform_account_id",
                "org_path",
                "platform__code",
                "status",
                "followers",
            )
        ), sorted(
            Organization.objects.filter(name__startswith=SYNTHETIC_PREFIX).values_list(
                "path", "name", "numchild"
            )
        )

    first = snapshot()
    with pytest.raises(CommandError):
        _generate("--accounts", "300", "--seed", "3")
    _generate("--accounts", "300", "--seed", "3", "--clear")
    assert snapshot() == first
    _generate("--accounts", "300", "--seed", "4", "--clear")
    assert snapshot() != first
    assert (
        MediaAccount.objects.filter(platform_account_id__startswith="syn").count()
        == 300
    )


def test_demo_second_factor(settings):
    """Business roles sign in with a password alone even with the production default
    (supervisors need a second factor); the administrators' TOTP secrets are printed
    and work."""
    import re
    from base64 import b32decode

    from django.test import Client
    from django_otp.oath import totp

    settings.SECOND_FACTOR_DEFAULT_ROLES = ["supervisor"]
    output = _seed()
    secrets = dict(re.findall(r"(demo-\w+): TOTP secret ([A-Z2-7]+)", output))
    assert set(secrets) == {"demo-sysadmin", "demo-secadmin", "demo-auditadmin"}
    client = Client()
    client.post(reverse("accounts:login"), {"username": "demo-supervisor", "password": DEMO_PASSWORD})
    assert client.get("/").status_code == 200
    admin = Client()
    admin.post(reverse("accounts:login"), {"username": "demo-auditadmin", "password": DEMO_PASSWORD})
    response = admin.get("/audit/")
    assert response.status_code == 302 and "/second-factor/" in response["Location"]
    code = totp(b32decode(secrets["demo-auditadmin"]))
    admin.post("/accounts/second-factor/", {"code": f"{code:06d}"})
    assert admin.get("/audit/").status_code == 200
    # Idempotent: a second run finds the rules and devices.
    before = _counts()
    assert secrets == dict(re.findall(r"(demo-\w+): TOTP secret ([A-Z2-7]+)", _seed()))
    assert _counts() == before
