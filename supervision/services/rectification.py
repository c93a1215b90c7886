"""Rectification orders (整改): issue, answer with evidence, verify and close or send
back, order a suspension, the overdue sweep with escalation; summons interviews.

The workflow is ORDER_TRANSITIONS beside the model and one transition helper that
locks the row, checks the table and the actor's right, saves and audits. While an
order about an account is open the account is "rectifying" (registry status), and
back to active when its last open order closes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role, User
from accounts.scoping import Action, require, roles_of
from audit.services import audit_record
from common.errors import Conflict, PermissionDenied, ValidationFailed
from notifications.models import Notification
from notifications.services import notify, notify_many
from registry.models import AccountStatus, MediaAccount
from supervision import policy
from supervision.models import (
    ORDER_OPEN_STATUSES,
    ORDER_TRANSITIONS,
    CloseReason,
    Finding,
    FindingStatus,
    OrderStatus,
    RectificationAnswer,
    RectificationOrder,
    SummonsInterview,
)
from supervision.services.findings import (
    _close,
    is_supervisor_over,
    require_supervisor_over,
)
from supervision.services.rollups import refresh_after_commit

ORG_ROLES = (Role.OPERATOR, Role.DEPARTMENT_HEAD, Role.LIAISON, Role.PRINCIPAL_LEADER)


def _people(organization_ids, roles) -> list[User]:
    members = (
        Membership.objects.active()
        .filter(organization_id__in=organization_ids, role__in=roles)
        .values("user_id")
    )
    return list(User.objects.filter(pk__in=members, is_active=True).only("id", "email"))


def due_at_for(issued_at: datetime, days: int) -> datetime:
    """The end (23:59:59 Asia/Shanghai) of the `days`-th day after issue."""
    day = timezone.localdate(issued_at) + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def _issuing_org(actor, organization: Organization) -> Organization:
    """The organization where the actor holds the supervisor role over the target
    (the nearest one)."""
    from accounts.scoping import memberships_of

    held = [
        m.organization
        for m in memberships_of(actor)
        if m.role == Role.SUPERVISOR
        and organization.path.startswith(m.organization.path)
    ]
    return max(held, key=lambda o: len(o.path))


def _set_rectifying(account: MediaAccount, actor, role: str) -> None:
    changed = MediaAccount.objects.filter(
        pk=account.pk, status=AccountStatus.ACTIVE
    ).update(status=AccountStatus.RECTIFYING, updated_at=timezone.now())
    if changed:
        audit_record(
            actor=actor,
            action="supervision.account_rectifying",
            target=account,
            organization=account.organization,
            role=role,
            before={"status": AccountStatus.ACTIVE},
            after={"status": AccountStatus.RECTIFYING},
        )


def _end_rectifying(account: MediaAccount, actor, role: str) -> None:
    still_open = RectificationOrder.objects.filter(
        account=account, status__in=ORDER_OPEN_STATUSES
    ).exists()
    if still_open:
        return
    changed = MediaAccount.objects.filter(
        pk=account.pk, status=AccountStatus.RECTIFYING
    ).update(status=AccountStatus.ACTIVE, updated_at=timezone.now())
    if changed:
        audit_record(
            actor=actor,
            action="supervision.account_rectified",
            target=account,
            organization=account.organization,
            role=role,
            before={"status": AccountStatus.RECTIFYING},
            after={"status": AccountStatus.ACTIVE},
        )


@transaction.atomic
def order_issue(
    *,
    actor,
    requirement: str,
    finding: Finding | None = None,
    account: MediaAccount | None = None,
    organization: Organization | None = None,
    inspection=None,
    days: int | None = None,
) -> RectificationOrder:
    """Order the sponsoring organization to rectify: from a finding, an inspection,
    or about an account or an organization directly. Deadline: `days` (default the
    policy, 10) to the end of that day."""
    errors = {}
    if not (requirement or "").strip():
        errors["requirement"] = [_("Say what must be rectified.")]
    if days is not None and (not isinstance(days, int) or not 1 <= days <= 90):
        errors["days"] = [_("Between 1 and 90 days.")]
    if finding is None and account is None and organization is None:
        errors["finding"] = [_("Name the finding, account or organization concerned.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    if finding is not None:
        finding = Finding.objects.select_related("organization", "account").get(
            pk=finding.pk
        )
        if finding.status != FindingStatus.OPEN:
            raise Conflict(_("The finding is closed."), code="finding_closed")
        account = finding.account
        organization = finding.organization
    elif account is not None:
        organization = account.organization
    role = require_supervisor_over(actor, organization)
    if (
        finding is not None
        and finding.orders.filter(status__in=ORDER_OPEN_STATUSES).exists()
    ):
        raise Conflict(
            _("An open rectification order exists for this finding."), code="order_open"
        )
    now = timezone.now()
    days = days or policy.rectification_days(organization)
    order = RectificationOrder(
        number=f"tmp-{now.timestamp()}-{actor.pk}",
        organization=organization,
        org_path=organization.path,
        issuing_organization=_issuing_org(actor, organization),
        account=account,
        finding=finding,
        inspection=inspection,
        requirement=requirement.strip()[:4000],
        issued_by=actor,
        issued_at=now,
        due_at=due_at_for(now, days),
    )
    order.save()
    order.number = f"ZG{timezone.localdate(now):%Y}-{order.pk:06d}"
    order.save(update_fields=["number"])
    if account is not None:
        _set_rectifying(account, actor, role)
    audit_record(
        actor=actor,
        action="supervision.order_issue",
        target=order,
        organization=organization,
        role=role,
        after={
            "finding": finding.pk if finding else None,
            "account": account.pk if account else None,
            "due_at": order.due_at,
            "days": days,
        },
    )
    notify(
        recipients=_people([organization.pk], ORG_ROLES),
        organization=organization,
        kind="supervision.order_issued",
        message=_(
            "Rectification order %(number)s: rectify by %(due)s and answer with "
            "evidence."
        )
        % {
            "number": order.number,
            "due": timezone.localtime(order.due_at).strftime("%Y-%m-%d"),
        },
        dedupe_key=f"order-issued:{order.pk}",
        url=reverse("supervision:order_detail", args=[order.pk]),
        target=order,
    )
    refresh_after_commit(organization.pk)
    return order


def _transition(order: RectificationOrder, to_status: str) -> str:
    allowed = ORDER_TRANSITIONS.get(order.status, frozenset())
    if to_status not in allowed:
        raise Conflict(
            _("This order cannot go from %(from)s to %(to)s.")
            % {"from": order.get_status_display(), "to": OrderStatus(to_status).label},
            code="bad_transition",
        )
    before = order.status
    order.status = to_status
    return before


def _locked(order: RectificationOrder) -> RectificationOrder:
    return (
        RectificationOrder.objects.select_for_update(of=("self",))
        .select_related("organization", "account", "finding", "issuing_organization")
        .get(pk=order.pk)
    )


@transaction.atomic
def order_answer(
    *,
    order: RectificationOrder,
    actor,
    text: str,
    evidence_url: str = "",
    evidence_file=None,
) -> RectificationAnswer:
    """The organization the order was sent to says what it did, with evidence (a
    link or a file; at least one). SECURITY: only people of that organization answer
    (others see no such order: 404; a supervisor above sees it but may not answer
    for the organization: 403)."""
    order = _locked(order)
    role = require(actor, Action.CHANGE, order.organization)
    if not roles_of(actor, order.organization):
        raise PermissionDenied(
            _("Only the organization the order was sent to answers it."),
            code="not_addressee",
        )
    errors = {}
    if not (text or "").strip():
        errors["text"] = [_("Say what was done.")]
    if evidence_url and (
        not evidence_url.startswith(("http://", "https://")) or len(evidence_url) > 500
    ):
        errors["evidence_url"] = [_("Enter a valid URL.")]
    if not evidence_url and evidence_file is None:
        errors["evidence"] = [_("Attach evidence: a link or a file.")]
    if evidence_file is not None:
        from common.errors import ValidationFailed as Refused
        from common.uploads import upload_check

        try:
            upload_check(evidence_file, field="evidence_file")  # the attachment allow-list
        except Refused as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(
            _("An answer needs what was done and evidence."),
            code="evidence_required",
            fields=errors,
        )
    before = _transition(order, OrderStatus.ANSWERED)
    order.save(update_fields=["status"])
    answer = RectificationAnswer(
        order=order,
        text=text.strip()[:4000],
        evidence_url=evidence_url,
        answered_by=actor,
        answered_at=timezone.now(),
    )
    if evidence_file is not None:
        answer.evidence_file = evidence_file
    answer.save()
    audit_record(
        actor=actor,
        action="supervision.order_answer",
        target=order,
        organization=order.organization,
        role=role,
        before={"status": before},
        after={
            "status": order.status,
            "answer": answer.pk,
            "evidence_url": evidence_url,
            "evidence_file": answer.evidence_file.name if evidence_file else "",
        },
    )
    notify(
        recipients=_people([order.issuing_organization_id], [Role.SUPERVISOR])
        + [order.issued_by],
        organization=order.issuing_organization,
        kind="supervision.order_answered",
        message=_("Rectification order %(number)s was answered: verify it.")
        % {"number": order.number},
        dedupe_key=f"order-answered:{answer.pk}",
        url=reverse("supervision:order_detail", args=[order.pk]),
        target=order,
    )
    refresh_after_commit(order.organization_id)
    return answer


def _last_answer(order) -> RectificationAnswer | None:
    return order.answers.order_by("-answered_at", "-id").first()


@transaction.atomic
def order_close(
    *, order: RectificationOrder, actor, note: str = ""
) -> RectificationOrder:
    """Verified: close the order, close its finding as rectified, and end the
    account's rectifying status when no other order is open."""
    order = _locked(order)
    role = require_supervisor_over(actor, order.organization)
    before = _transition(order, OrderStatus.CLOSED)
    order.closed_at = timezone.now()
    order.closed_by = actor
    order.verification_note = (note or "").strip()[:4000]
    order.save(update_fields=["status", "closed_at", "closed_by", "verification_note"])
    answer = _last_answer(order)
    if answer is not None:
        answer.decision, answer.decision_note = (
            OrderStatus.CLOSED,
            order.verification_note,
        )
        answer.save(update_fields=["decision", "decision_note"])
    if order.finding is not None and order.finding.status == FindingStatus.OPEN:
        _close(order.finding, actor, CloseReason.RECTIFIED, "")
    if order.account is not None:
        _end_rectifying(order.account, actor, role)
    audit_record(
        actor=actor,
        action="supervision.order_close",
        target=order,
        organization=order.organization,
        role=role,
        before={"status": before},
        after={
            "status": order.status,
            "note": order.verification_note,
            "late": order.closed_at > order.due_at,
        },
    )
    notify(
        recipients=_people([order.organization_id], ORG_ROLES),
        organization=order.organization,
        kind="supervision.order_closed",
        message=_("Rectification order %(number)s was verified and closed.")
        % {"number": order.number},
        dedupe_key=f"order-closed:{order.pk}",
        url=reverse("supervision:order_detail", args=[order.pk]),
        target=order,
    )
    refresh_after_commit(order.organization_id)
    return order


@transaction.atomic
def order_send_back(
    *, order: RectificationOrder, actor, reason: str
) -> RectificationOrder:
    order = _locked(order)
    role = require_supervisor_over(actor, order.organization)
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Say why it is sent back."), fields={"reason": [_("Required.")]}
        )
    before = _transition(order, OrderStatus.SENT_BACK)
    order.save(update_fields=["status"])
    answer = _last_answer(order)
    if answer is not None:
        answer.decision, answer.decision_note = (
            OrderStatus.SENT_BACK,
            reason.strip()[:4000],
        )
        answer.save(update_fields=["decision", "decision_note"])
    audit_record(
        actor=actor,
        action="supervision.order_send_back",
        target=order,
        organization=order.organization,
        role=role,
        before={"status": before},
        after={"status": order.status, "reason": reason.strip()[:4000]},
    )
    notify(
        recipients=_people([order.organization_id], ORG_ROLES),
        organization=order.organization,
        kind="supervision.order_sent_back",
        message=_("Rectification order %(number)s was sent back: %(reason)s")
        % {"number": order.number, "reason": reason.strip()[:120]},
        dedupe_key=f"order-sent-back:{order.pk}:{answer.pk if answer else 0}",
        url=reverse("supervision:order_detail", args=[order.pk]),
        target=order,
    )
    refresh_after_commit(order.organization_id)
    return order


@transaction.atomic
def order_suspension(
    *, order: RectificationOrder, actor, reason: str
) -> RectificationOrder:
    """A supervisor orders the account suspended; the sponsoring organization files
    the suspension (registry filing) and the supervisor approves it there."""
    order = _locked(order)
    role = require_supervisor_over(actor, order.organization)
    if order.account is None:
        raise Conflict(_("This order concerns no account."), code="no_account")
    if not order.is_open:
        raise Conflict(_("The order is closed."), code="order_closed")
    if order.suspension_ordered:
        raise Conflict(_("A suspension is already ordered."), code="suspension_ordered")
    if not (reason or "").strip():
        raise ValidationFailed(_("Say why."), fields={"reason": [_("Required.")]})
    order.suspension_ordered = True
    order.suspension_ordered_at = timezone.now()
    order.save(update_fields=["suspension_ordered", "suspension_ordered_at"])
    audit_record(
        actor=actor,
        action="supervision.order_suspension",
        target=order,
        organization=order.organization,
        role=role,
        after={"account": order.account_id, "reason": reason.strip()[:4000]},
    )
    notify(
        recipients=_people([order.organization_id], ORG_ROLES),
        organization=order.organization,
        kind="supervision.suspension_ordered",
        message=_(
            "Suspension of %(account)s ordered (%(number)s): file the suspension."
        )
        % {"account": order.account.display_name, "number": order.number},
        dedupe_key=f"suspension-ordered:{order.pk}",
        url=reverse("registry:filing_file", args=[order.account_id, "suspend"]),
        target=order,
    )
    return order


def orders_sweep(now: datetime | None = None) -> dict:
    """Mark open orders past their deadline overdue and escalated, once (one
    set-based UPDATE stamping this run's time); the notices follow after commit."""
    now = now or timezone.now()
    with transaction.atomic():
        marked = RectificationOrder.objects.filter(
            status__in=ORDER_OPEN_STATUSES,
            overdue_at__isnull=True,
            due_at__lt=now,
        ).update(overdue_at=now, escalated_at=now)
        if marked:
            stamp = now.isoformat()
            transaction.on_commit(lambda: _send_overdue(stamp))
            transaction.on_commit(_send_rollup)
    return {"overdue": marked}


def _send_overdue(stamp: str) -> None:
    from supervision.tasks import notify_orders_overdue

    notify_orders_overdue.delay(stamp)


def _send_rollup() -> None:
    from supervision.tasks import rollup_today

    rollup_today.delay()


@transaction.atomic
def orders_notify_overdue(*, stamp: str) -> int:
    """Notify, for the orders marked overdue at `stamp`, the organization's people
    and (escalation) the supervisors of the issuing organization and of the
    organization above it. A fixed number of queries."""
    at = datetime.fromisoformat(stamp)
    orders = list(
        RectificationOrder.objects.filter(overdue_at=at).values_list(
            "pk",
            "number",
            "organization_id",
            "issuing_organization_id",
            "issuing_organization__path",
        )
    )
    if not orders:
        return 0
    parent_paths = {
        p[: len(p) - Organization.steplen]
        for *_r, p in orders
        if len(p) > Organization.steplen
    }
    parents = dict(
        Organization.objects.filter(path__in=parent_paths).values_list("path", "id")
    )
    wanted = defaultdict(set)  # organization id -> order rows it must hear about
    for pk, number, org_id, issuing_id, issuing_path in orders:
        wanted[("org", org_id)].add((pk, number, org_id))
        wanted[("sup", issuing_id)].add((pk, number, org_id))
        parent = parents.get(issuing_path[: len(issuing_path) - Organization.steplen])
        if parent:
            wanted[("sup", parent)].add((pk, number, org_id))
    org_ids = {k[1] for k in wanted}
    members = (
        Membership.objects.active()
        .filter(organization_id__in=org_ids, role__in=[*ORG_ROLES, Role.SUPERVISOR])
        .values_list("organization_id", "user_id", "role")
    )
    rows = []
    for org_id, user_id, role in members:
        side = "sup" if role == Role.SUPERVISOR else "org"
        for pk, number, target_org in wanted.get((side, org_id), ()):
            message = (
                _("Rectification order %(number)s is overdue.")
                if side == "org"
                else _("Rectification order %(number)s is overdue (escalated).")
            ) % {"number": number}
            rows.append(
                Notification(
                    recipient_id=user_id,
                    organization_id=target_org,
                    kind="supervision.order_overdue",
                    message=str(message)[:300],
                    url=reverse("supervision:order_detail", args=[pk]),
                    target_type="supervision.rectificationorder",
                    target_id=str(pk),
                    dedupe_key=f"order-overdue:{pk}",
                )
            )
    return notify_many(rows=rows)


@transaction.atomic
def summons_record(
    *,
    actor,
    organization: Organization,
    held_at: datetime,
    reason: str,
    attendees: str,
    outcome: str,
    order: RectificationOrder | None = None,
) -> SummonsInterview:
    """Record a summons interview (约谈) of an organization (DOMAIN.md rule 42)."""
    errors = {}
    for name, value in (
        ("reason", reason),
        ("attendees", attendees),
        ("outcome", outcome),
    ):
        if not (value or "").strip():
            errors[name] = [_("Required.")]
    if held_at is None:
        errors["held_at"] = [_("Required.")]
    elif held_at > timezone.now() + timedelta(days=1):
        errors["held_at"] = [_("In the future.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    role = require_supervisor_over(actor, organization)
    if order is not None and order.organization_id != organization.pk:
        raise ValidationFailed(
            _("The order was sent to another organization."),
            fields={"order": [_("Another organization's order.")]},
        )
    interview = SummonsInterview.objects.create(
        organization=organization,
        org_path=organization.path,
        order=order,
        held_at=held_at,
        reason=reason.strip(),
        attendees=attendees.strip(),
        outcome=outcome.strip(),
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action="supervision.summons_record",
        target=interview,
        organization=organization,
        role=role,
        after={"held_at": held_at, "order": order.pk if order else None},
    )
    return interview


def can_answer(user, order: RectificationOrder) -> bool:
    return order.status in (OrderStatus.ISSUED, OrderStatus.SENT_BACK) and bool(
        roles_of(user, order.organization)
    )


def can_verify(user, order: RectificationOrder) -> bool:
    return order.status == OrderStatus.ANSWERED and is_supervisor_over(
        user, order.organization
    )
