"""Issue slips (问题通报单, rule 41) and the duty roster and daily duty log (rule 25)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, User
from accounts.scoping import Action, require
from audit.services import audit_record
from common.errors import Conflict, ValidationFailed
from inbox.models import Category, DutyAssignment, DutyLog, IssueSlip, Message, Reply
from workcalendar.calendar import SHANGHAI, deadline_after

MAX_SLIP_DAYS = 30


@transaction.atomic
def slip_issue(*, actor, organization: Organization, responsible: Organization, title: str,
               body: str, kind: str, importance: str = IssueSlip.Importance.GENERAL,
               due_working_days: int = 5, message: Message | None = None) -> IssueSlip:
    """Send a slip to a responsible organization of the issuer's subtree; its answer
    is due within `due_working_days` working days."""
    role = require(actor, Action.CHANGE, organization)
    errors = {}
    if not responsible.path.startswith(organization.path) or responsible == organization:
        errors["responsible_organization"] = [_("An organization under yours.")]
    if not (title or "").strip():
        errors["title"] = [_("Required.")]
    if not (body or "").strip():
        errors["body"] = [_("Required.")]
    if not (kind or "").strip():
        errors["kind"] = [_("Required.")]
    if importance not in IssueSlip.Importance.values:
        errors["importance"] = [_("Choose from the list.")]
    if not 1 <= int(due_working_days or 0) <= MAX_SLIP_DAYS:
        errors["due_working_days"] = [_("Between 1 and %(n)d working days.")
                                      % {"n": MAX_SLIP_DAYS}]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    now = timezone.now()
    slip = IssueSlip.objects.create(
        organization=organization, org_path=organization.path,
        responsible_organization=responsible, responsible_path=responsible.path,
        message=message, importance=importance, kind=kind.strip()[:60],
        title=title.strip()[:200], body=body.strip(), issued_by=actor, issued_at=now,
        due_at=deadline_after(now, int(due_working_days), responsible.region_code).due_at)
    audit_record(actor=actor, action="inbox.slip_issue", target=slip,
                 organization=organization, role=role,
                 after={"responsible": responsible.name, "title": slip.title,
                        "due_at": slip.due_at})
    return slip


@transaction.atomic
def slip_answer(*, slip: IssueSlip, actor, answer: str) -> IssueSlip:
    slip = IssueSlip.objects.select_for_update().select_related(
        "responsible_organization").get(pk=slip.pk)
    role = require(actor, Action.CHANGE, slip.responsible_organization)
    if slip.answered_at is not None:
        raise Conflict(_("This slip has already been answered."), code="answered")
    if not (answer or "").strip():
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"answer": [_("Required.")]})
    slip.answer, slip.answered_at = answer.strip(), timezone.now()
    slip.save(update_fields=["answer", "answered_at"])
    audit_record(actor=actor, action="inbox.slip_answer", target=slip,
                 organization=slip.responsible_organization, role=role,
                 after={"on_time": slip.answered_at <= slip.due_at})
    return slip


@transaction.atomic
def slip_publish(*, slip: IssueSlip, actor, url: str) -> IssueSlip:
    """Record where the handling result was published on the account."""
    slip = IssueSlip.objects.select_for_update().select_related("organization").get(pk=slip.pk)
    role = require(actor, Action.CHANGE, slip.organization)
    if slip.answered_at is None:
        raise Conflict(_("Publish the result after the answer."), code="not_answered")
    if not (url or "").startswith(("http://", "https://")):
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"url": [_("Enter a valid URL.")]})
    slip.result_published_url = url[:500]
    slip.save(update_fields=["result_published_url"])
    audit_record(actor=actor, action="inbox.slip_publish", target=slip,
                 organization=slip.organization, role=role, after={"url": url})
    return slip


# --- duty ---------------------------------------------------------------------------------
@transaction.atomic
def duty_assign(*, actor, organization: Organization, day: date, user: User,
                note: str = "") -> DutyAssignment:
    """Put a person of the organization on duty for a day (holidays included)."""
    role = require(actor, Action.CHANGE, organization)
    if not Membership.objects.active().filter(user=user, organization=organization).exists():
        raise ValidationFailed(_("Please correct the marked fields."), fields={
            "user": [_("The duty officer must hold a role in the organization.")]})
    row, created = DutyAssignment.objects.get_or_create(
        organization=organization, date=day, user=user, defaults={"note": note[:200]})
    if created:
        audit_record(actor=actor, action="inbox.duty_assign", target=row,
                     organization=organization, role=role,
                     after={"date": day, "user": str(user)})
    return row


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def duty_figures(organization: Organization, day: date) -> dict:
    """The day's figures from the data (a fixed number of queries): messages
    received by channel, replies published, positive and negative messages and the
    7-day trend of negatives, reposts confirmed, posts published, slips sent and
    answered, followers of the organization's accounts."""
    from moderation.models import DirectiveTarget, Publication
    from registry.models import MediaAccount

    lo, hi = _day_bounds(day)
    mine = Message.objects.filter(organization=organization)
    received = dict(mine.filter(received_at__gte=lo, received_at__lt=hi)
                    .values_list("channel").annotate(n=Count("id")).order_by())
    week_lo = lo - timedelta(days=6)
    tone = mine.filter(received_at__gte=week_lo, received_at__lt=hi).aggregate(
        positive=Count("id", filter=Q(received_at__gte=lo, category=Category.PRAISE)),
        negative=Count("id", filter=Q(received_at__gte=lo, category__in=[
            Category.COMPLAINT, Category.REPORT])),
        negative_week=Count("id", filter=Q(category__in=[Category.COMPLAINT,
                                                          Category.REPORT])))
    return {
        "received": sum(received.values()),
        "received_by_channel": received,
        "replies_published": Reply.objects.filter(
            message__organization=organization, published_at__gte=lo,
            published_at__lt=hi).count(),
        "positive": tone["positive"],
        "negative": tone["negative"],
        "negative_7_day_average": round(tone["negative_week"] / 7, 1),
        "reposts_confirmed": DirectiveTarget.objects.filter(
            organization=organization, confirmed_at__gte=lo, confirmed_at__lt=hi).count(),
        "posts_published": Publication.objects.filter(
            post__organization=organization, published_at__gte=lo,
            published_at__lt=hi).count(),
        "slips_sent": IssueSlip.objects.filter(organization=organization, issued_at__gte=lo,
                                               issued_at__lt=hi).count(),
        "slips_answered": IssueSlip.objects.filter(
            responsible_organization=organization, answered_at__gte=lo,
            answered_at__lt=hi).count(),
        "followers": MediaAccount.objects.filter(organization=organization).aggregate(
            n=Sum("followers"))["n"] or 0,
    }


@transaction.atomic
def duty_log_save(*, actor, organization: Organization, day: date, notes: str = "",
                  sign_off: bool = False) -> DutyLog:
    """Keep the day's log: the figures as computed now, the officer's notes, and the
    sign-off (after which the log no longer changes)."""
    role = require(actor, Action.CHANGE, organization)
    log, _created = DutyLog.objects.select_for_update().get_or_create(
        organization=organization, date=day)
    if log.signed_off_at is not None:
        raise Conflict(_("This duty log is signed off."), code="signed_off")
    log.figures = duty_figures(organization, day)
    log.notes = (notes or "").strip()
    fields = ["figures", "notes"]
    if sign_off:
        log.signed_off_by, log.signed_off_at = actor, timezone.now()
        fields += ["signed_off_by", "signed_off_at"]
    log.save(update_fields=fields)
    if sign_off:
        audit_record(actor=actor, action="inbox.duty_log_sign", target=log,
                     organization=organization, role=role,
                     after={"date": day, "figures": log.figures})
    return log
