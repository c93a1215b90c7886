"""Citizen messages (留言), their handling history, SLA policies and the timers.

Time fields every sweep and the supervision app read (all UTC, see README "Inbox"):

- `first_response_due_at`: the message must be accepted (受理) by then
  (met by `accepted_at`);
- `reply_due_at`: the reply must be published to the citizen by then (the issue's
  "resolution target", rule 33: answered within 5/7 working days; met by `replied_at`);
- `due_at`: the earliest of the two that is still unmet (NULL once both are met or
  while the clock is paused); `warn_at`: when the handler is warned;
- `breached_at`: set once, by the sweep, when `due_at` passed unmet;
- `sign_for_due_at` / `signed_for_at`: a transferred message is signed for (签收)
  by the receiving organization within the policy's working hours;
- `stale_at`: received + 3 months; a valid message still unanswered then is a
  veto-level finding (`stale_flagged_at` set once by the sweep).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.querysets import ScopedQuerySet
from registry.models import MediaAccount


class Channel(models.TextChoices):
    WEIBO_COMMENT = "weibo_comment", _("Weibo comment")
    WEIBO_PRIVATE = "weibo_private", _("Weibo private message")
    WECHAT = "wechat", _("WeChat message")
    DOUYIN_COMMENT = "douyin_comment", _("Douyin comment")
    WEB_FORM = "web_form", _("Web form")
    HOTLINE = "hotline", _("Hotline hand-over")
    OTHER = "other", _("Other channel")


class Source(models.TextChoices):
    WECHAT = "wechat", _("WeChat callback")
    COLLECTOR = "collector", _("Collector")
    IMPORT = "import", _("Import")
    MANUAL = "manual", _("Manual entry")


class Category(models.TextChoices):
    """Rule 20's five categories, plus other and not accepted."""

    INQUIRY = "inquiry", _("Inquiry")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report of wrongdoing")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")
    OTHER = "other", _("Other")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACCEPTED = "accepted", _("Accepted")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting on the citizen")
    REPLIED = "replied", _("Replied")
    RESOLVED = "resolved", _("Resolved")


# Statuses whose timers run (WAITING pauses the clock; REPLIED/RESOLVED are answered).
OPEN_STATUSES = (Status.NEW, Status.ACCEPTED, Status.IN_PROGRESS)
UNANSWERED_STATUSES = (*OPEN_STATUSES, Status.WAITING)
FINAL_STATUSES = (Status.RESOLVED,)
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.ACCEPTED, Status.REPLIED},
    Status.ACCEPTED: {Status.IN_PROGRESS, Status.WAITING, Status.REPLIED},
    Status.IN_PROGRESS: {Status.WAITING, Status.REPLIED},
    Status.WAITING: {Status.IN_PROGRESS},
    Status.REPLIED: {Status.RESOLVED, Status.IN_PROGRESS},  # reopen (重办)
    Status.RESOLVED: {Status.IN_PROGRESS},  # reopen after a dissatisfied rating
}


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


class SlaUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("Working days")
    HOURS = "hours", _("Clock hours")


class SlaPolicy(models.Model):
    """First-response and reply targets for a supervising organization's subtree
    (NULL: the national default), per category (blank: any category). The matching
    policy with the highest `priority` wins; ties go to the nearest organization."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True,
        related_name="sla_policies", verbose_name=_("organization"))
    category = models.CharField(_("category"), max_length=16, choices=Category.choices,
                                blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=0)
    unit = models.CharField(_("unit"), max_length=16, choices=SlaUnit.choices,
                            default=SlaUnit.WORKING_DAYS)
    first_response = models.PositiveSmallIntegerField(_("first response within"))
    reply = models.PositiveSmallIntegerField(_("reply within"))
    warn_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the time)"), default=80)
    sign_for_hours = models.PositiveSmallIntegerField(
        _("sign for within (working hours)"), default=4)
    transfer_restarts_clock = models.BooleanField(_("a transfer restarts the clock"),
                                                  default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "organization__path"

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(fields=["organization", "category", "priority"],
                                    name="inbox_sla_policy_unique"),
            models.CheckConstraint(condition=Q(warn_percent__gte=1, warn_percent__lte=99),
                                   name="inbox_sla_warn_percent_range"),
            models.CheckConstraint(condition=Q(first_response__gte=1, reply__gte=1),
                                   name="inbox_sla_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.organization or '—'} · {self.category or '*'} · {self.reply}"


class Collector(models.Model):
    """A platform collector that pushes messages for the accounts of its
    organization's subtree. Only a SHA-256 of its token is stored."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("organization"))
    name = models.CharField(_("name"), max_length=80)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "organization__path"

    class Meta:
        verbose_name = _("collector")
        verbose_name_plural = _("collectors")

    def __str__(self) -> str:
        return self.name


# Platform codes of WeChat official accounts start with this (wechat_service,
# wechat_subscription): only those accounts have WeChat settings.
WECHAT_PLATFORM_PREFIX = "wechat"


class WeChatEndpoint(models.Model):
    """The server-callback (消息推送) endpoint of one WeChat official account, and
    the credentials its replies are sent with (客服消息). The token, the
    EncodingAESKey and the AppSecret are stored encrypted (Fernet, key from
    settings, never in the database) and never shown back; the public URL carries a
    random slug. Without an AppSecret the account cannot send through the
    customer-service API (replies go by another route)."""

    class Mode(models.TextChoices):
        PLAIN = "plain", _("Plain text")
        SAFE = "safe", _("Safe mode (AES)")

    account = models.OneToOneField(MediaAccount, on_delete=models.CASCADE,
                                   related_name="wechat_endpoint",
                                   verbose_name=_("media account"))
    slug = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    app_id = models.CharField(_("AppID"), max_length=32)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices,
                            default=Mode.SAFE)
    token_encrypted = models.TextField(editable=False)
    aes_key_encrypted = models.TextField(editable=False, blank=True)
    app_secret_encrypted = models.TextField(editable=False, blank=True)
    secret_changed_at = models.DateTimeField(_("AppSecret changed at"), null=True,
                                             blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "account__org_path"

    class Meta:
        verbose_name = _("WeChat endpoint")
        verbose_name_plural = _("WeChat endpoints")

    def __str__(self) -> str:
        return str(self.slug)

    @property
    def can_send(self) -> bool:
        return bool(self.app_id and self.app_secret_encrypted)


class RawPayload(models.Model):
    """What a platform sent, kept as received (stored before any parsing, so no
    message is lost; rejected payloads are kept for inspection)."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        # Accepted and answered (202); a worker makes its messages (the drain).
        QUEUED = "queued", _("Queued")
        PROCESSED = "processed", _("Processed")
        DUPLICATE = "duplicate", _("Duplicate")
        REJECTED = "rejected", _("Rejected")

    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    account = models.ForeignKey(MediaAccount, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    body = models.TextField(_("body"))
    meta = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=12, choices=State.choices,
                             default=State.RECEIVED)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(_("received at"))

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("raw payload")
        verbose_name_plural = _("raw payloads")
        indexes = [models.Index(fields=["state", "received_at"],
                                name="inbox_raw_state_idx")]

    def __str__(self) -> str:
        return f"{self.source} {self.pk}"


class MessageQuerySet(ScopedQuerySet):
    def visible_to(self, user, action="view"):
        """The handling organization's scope sees a message; the organization it
        came to (`origin_path`) keeps seeing it after a transfer."""
        from accounts.scoping import scope_for

        scope = scope_for(user, action, self.model.scope_domain)
        if action != "view":
            return self.filter(scope.q("org_path"))
        return self.filter(scope.q("org_path") | scope.q("origin_path"))


class Message(models.Model):
    """A citizen's message. `original_text` never changes after receipt; staff
    may correct `text` (e.g. a transcription), which is what pages show."""

    # Not indexed alone: inbox_msg_org_recv_idx and inbox_msg_org_status_idx lead
    # with it (one index fewer to write per message received).
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="inbox_messages",
        verbose_name=_("handling organization"), db_index=False)
    org_path = models.CharField(max_length=255, editable=False)
    origin_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("received by"))
    origin_path = models.CharField(max_length=255, editable=False)
    supervising_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("supervising organization"))
    region_code = models.CharField(max_length=6, editable=False)
    account = models.ForeignKey(MediaAccount, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+",
                                verbose_name=_("media account"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    platform_message_id = models.CharField(_("platform message id"), max_length=128,
                                           blank=True)
    raw_payload = models.ForeignKey(RawPayload, on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+")
    citizen_handle = models.CharField(_("citizen"), max_length=120, blank=True)
    citizen_openid = models.CharField(max_length=64, blank=True)
    original_text = models.TextField(_("original text"), editable=False)
    text = models.TextField(_("text"))
    received_at = models.DateTimeField(_("received at"))
    category = models.CharField(_("category"), max_length=16, choices=Category.choices,
                                blank=True)
    suggested_category = models.CharField(_("suggested category"), max_length=16,
                                          choices=Category.choices, blank=True)
    must_answer = models.BooleanField(_("must answer"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.NEW)
    # Not indexed alone: inbox_msg_handler_idx (handler, status) leads with it.
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="+",
                                verbose_name=_("handler"), db_index=False)
    # The SLA policy in force for this message, copied when its clock starts.
    sla_policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    sla_unit = models.CharField(max_length=16, choices=SlaUnit.choices)
    sla_first_response = models.PositiveSmallIntegerField()
    sla_reply = models.PositiveSmallIntegerField()
    sla_warn_percent = models.PositiveSmallIntegerField()
    clock_started_at = models.DateTimeField(_("clock started"))
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    # Working seconds (or clock seconds for hour policies) the clock was paused.
    paused_seconds = models.PositiveIntegerField(default=0)
    extension_days = models.PositiveSmallIntegerField(_("extension (working days)"),
                                                      default=0)
    first_response_due_at = models.DateTimeField(_("first response due"))
    reply_due_at = models.DateTimeField(_("reply due"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    due_provisional = models.BooleanField(default=False)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    escalated_liaison_at = models.DateTimeField(null=True, blank=True)
    escalated_supervisor_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    # Office seconds from receipt to acceptance (the median first response).
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    first_replied_at = models.DateTimeField(null=True, blank=True)
    replied_on_time = models.BooleanField(null=True, blank=True)
    reply_route = models.CharField(_("reply route"), max_length=16, blank=True)
    transferred_at = models.DateTimeField(null=True, blank=True)
    sign_for_due_at = models.DateTimeField(_("sign for by"), null=True, blank=True)
    signed_for_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    sign_for_escalated_at = models.DateTimeField(null=True, blank=True)
    transfer_count = models.PositiveSmallIntegerField(default=0)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    problem_case_at = models.DateTimeField(_("problem case since"), null=True,
                                           blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=16,
                                    choices=Satisfaction.choices, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    rating_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # WeChat: the customer-service API may answer until 48 h after the follower's
    # last message.
    wechat_window_closes_at = models.DateTimeField(null=True, blank=True)
    stale_at = models.DateTimeField()
    stale_flagged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MessageQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            # Idempotent ingestion: one message per platform message id and account.
            models.UniqueConstraint(
                fields=["account", "platform_message_id"],
                condition=~Q(platform_message_id=""), name="inbox_message_platform_id"),
        ]
        indexes = [
            models.Index(fields=["org_path"], name="inbox_msg_path_idx",
                         opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["organization", "-received_at"],
                         name="inbox_msg_org_recv_idx"),
            # The handler's inbox ("my organization", unanswered), newest first: the
            # page and its total read this index only.
            models.Index(fields=["organization", "-received_at", "-id"],
                         name="inbox_msg_org_open_idx",
                         condition=Q(status__in=["new", "accepted", "in_progress",
                                                 "waiting"])),
            models.Index(fields=["origin_path"], name="inbox_msg_origin_idx",
                         opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["organization", "status", "-received_at"],
                         name="inbox_msg_org_status_idx"),
            models.Index(fields=["handler", "status"], name="inbox_msg_handler_idx"),
            # The sweep's partial indexes: only unmarked open rows are in them.
            models.Index(fields=["due_at"], name="inbox_msg_breach_idx",
                         condition=Q(breached_at__isnull=True, due_at__isnull=False)),
            models.Index(fields=["warn_at"], name="inbox_msg_warn_idx",
                         condition=Q(warned_at__isnull=True, warn_at__isnull=False)),
            models.Index(fields=["breached_at"], name="inbox_msg_escalate_idx",
                         condition=Q(breached_at__isnull=False,
                                     escalated_supervisor_at__isnull=True)),
            models.Index(fields=["sign_for_due_at"], name="inbox_msg_signfor_idx",
                         condition=Q(signed_for_at__isnull=True,
                                     sign_for_escalated_at__isnull=True)),
            models.Index(fields=["stale_at"], name="inbox_msg_stale_idx",
                         condition=Q(stale_flagged_at__isnull=True,
                                     replied_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.text[:30]}"

    @property
    def is_open(self) -> bool:
        return self.status in UNANSWERED_STATUSES


class MessageEvent(models.Model):
    """One step in a message's history (its timeline). The audit trail has the
    same steps; this table is what the message page and the recompute read."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        CLASSIFIED = "classified", _("Classified")
        ACCEPTED = "accepted", _("Accepted")
        EDITED = "edited", _("Text corrected")
        ASSIGNED = "assigned", _("Assigned")
        TRANSFERRED = "transferred", _("Transferred")
        RETURNED = "returned", _("Transfer returned")
        SIGNED_FOR = "signed_for", _("Signed for")
        PAUSED = "paused", _("Waiting on the citizen")
        RESUMED = "resumed", _("Resumed")
        EXTENDED = "extended", _("Extended")
        REPLY_DRAFTED = "reply_drafted", _("Reply drafted")
        REPLY_APPROVED = "reply_approved", _("Reply approved")
        REPLY_REJECTED = "reply_rejected", _("Reply sent back")
        REPLIED = "replied", _("Reply published")
        RATED = "rated", _("Rated")
        REOPENED = "reopened", _("Reopened")
        RESOLVED = "resolved", _("Resolved")
        PROBLEM_CASE = "problem_case", _("Escalated as a problem case")
        WARNED = "warned", _("Due soon")
        BREACHED = "breached", _("Deadline missed")
        SEND_QUEUED = "send_queued", _("Reply queued for WeChat")
        SEND_FAILED = "send_failed", _("WeChat send failed")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    from_organization = models.ForeignKey(Organization, on_delete=models.SET_NULL,
                                          null=True, blank=True, related_name="+")
    to_organization = models.ForeignKey(Organization, on_delete=models.SET_NULL,
                                        null=True, blank=True, related_name="+")
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["message", "at"], name="inbox_event_msg_idx")]

    def __str__(self) -> str:
        return f"{self.message_id} {self.kind}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE,
                                related_name="attachments")
    kind = models.CharField(max_length=16, blank=True)  # image, voice, video, file
    url = models.URLField(max_length=1000, blank=True)
    media_id = models.CharField(max_length=128, blank=True)
    name = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name or self.url or self.media_id


class Reply(models.Model):
    class Kind(models.TextChoices):
        ANSWER = "answer", _("Answer")
        INTERIM = "interim", _("Interim reply")
        OUT_OF_REMIT = "out_of_remit", _("Out-of-remit explanation")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Sent back")
        PUBLISHED = "published", _("Published")

    class Route(models.TextChoices):
        PLATFORM = "platform", _("On the platform")
        WECHAT_API = "wechat_api", _("WeChat customer-service API")
        OTHER = "other", _("Another route (phone, letter)")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="replies")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices,
                            default=Kind.ANSWER)
    text = models.TextField(_("reply"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices,
                             default=State.DRAFT)
    needs_approval = models.BooleanField(default=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    class SendState(models.TextChoices):
        """Sending through the WeChat customer-service API (inbox.services.
        wechat_send): queued -> sending -> sent, or failed (the reply stays
        approved, the message unanswered)."""

        QUEUED = "queued", _("Queued for sending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Sending failed")

    route = models.CharField(max_length=16, choices=Route.choices, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    send_state = models.CharField(_("send state"), max_length=8,
                                  choices=SendState.choices, blank=True)
    # The idempotency key of one send: set when queued, also the Celery task id.
    send_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    send_requested_by = models.ForeignKey(settings.AUTH_USER_MODEL,
                                          on_delete=models.SET_NULL, null=True,
                                          blank=True, related_name="+")
    send_attempts = models.PositiveSmallIntegerField(default=0)
    # When it was (re)queued: a send queued long ago lost its task (reaper).
    send_queued_at = models.DateTimeField(null=True, blank=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    # A stable code (the platform's errcode, or ours: window_closed, network,
    # unknown_result, not_configured) and the platform's own words, for diagnosis.
    send_error_code = models.CharField(max_length=32, blank=True)
    send_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "message__org_path"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One send in flight per message: two answers never race to the citizen.
            models.UniqueConstraint(fields=["message"],
                                    condition=Q(send_state__in=["queued", "sending"]),
                                    name="inbox_reply_one_send_in_flight"),
        ]
        indexes = [
            models.Index(fields=["send_started_at"], name="inbox_reply_sending_idx",
                         condition=Q(send_state="sending")),
            models.Index(fields=["send_queued_at"], name="inbox_reply_queued_idx",
                         condition=Q(send_state="queued")),
        ]

    def __str__(self) -> str:
        return self.text[:40]

    @property
    def send_error_text(self) -> str:
        """Why the WeChat send failed, in the handler's words ("" when it did not)."""
        from inbox.wechat_errors import explain

        return explain(self.send_error_code, self.send_error)


class IssueSlipQuerySet(ScopedQuerySet):
    def visible_to(self, user, action="view"):
        """The issuing organization's scope and the responsible one's see a slip."""
        from accounts.scoping import scope_for

        scope = scope_for(user, action, self.model.scope_domain)
        if action != "view":
            return self.filter(scope.q("org_path"))
        return self.filter(scope.q("org_path") | scope.q("responsible_path"))


class IssueSlip(models.Model):
    """A problem notification (问题通报单, rule 41): sent to the responsible
    department, whose answer is tracked against the due date."""

    class Importance(models.TextChoices):
        GENERAL = "general", _("General")
        IMPORTANT = "important", _("Important")
        URGENT = "urgent", _("Urgent")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("issued by"))
    org_path = models.CharField(max_length=255, editable=False)
    responsible_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("responsible organization"))
    responsible_path = models.CharField(max_length=255, editable=False)
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="issue_slips")
    importance = models.CharField(_("importance"), max_length=12,
                                  choices=Importance.choices, default=Importance.GENERAL)
    kind = models.CharField(_("type"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("content"))
    due_at = models.DateTimeField(_("due"))
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    result_published_url = models.URLField(_("result published at"), max_length=500,
                                           blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    issued_at = models.DateTimeField(_("issued at"))

    objects = IssueSlipQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("issue slip")
        verbose_name_plural = _("issue slips")
        indexes = [models.Index(fields=["due_at"], name="inbox_slip_due_idx",
                                condition=Q(answered_at__isnull=True,
                                            overdue_at__isnull=True))]

    def __str__(self) -> str:
        return self.title


class DutyAssignment(models.Model):
    """Who is on duty (值班) for an organization on a day (holidays included)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("organization"))
    date = models.DateField(_("date"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("duty officer"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "organization__path"

    class Meta:
        verbose_name = _("duty assignment")
        verbose_name_plural = _("duty roster")
        constraints = [models.UniqueConstraint(fields=["organization", "date", "user"],
                                               name="inbox_duty_unique")]

    def __str__(self) -> str:
        return f"{self.organization} {self.date} {self.user}"


class DutyLog(models.Model):
    """The daily duty log: figures computed from the data, the officer's notes and
    sign-off."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("organization"))
    date = models.DateField(_("date"))
    figures = models.JSONField(default=dict)
    notes = models.TextField(_("notes"), blank=True)
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+")
    signed_off_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "organization__path"

    class Meta:
        verbose_name = _("duty log")
        verbose_name_plural = _("duty logs")
        constraints = [models.UniqueConstraint(fields=["organization", "date"],
                                               name="inbox_dutylog_unique")]

    def __str__(self) -> str:
        return f"{self.organization} {self.date}"
