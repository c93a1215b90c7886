"""Pages of moderation: drafting with live pre-checks, my posts, the reviewer queue,
the review page, repost directives, flags. Thin: parse, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organization, Role
from accounts.scoping import (
    Action,
    Domain,
    get_visible_or_404,
    memberships_of,
    roles_of,
    scope_for,
)
from common import exports
from common.db import reads_from_replica
from common.errors import ApplicationError
from common.listing import PAGE_SIZES, page_size, paginate, sort_key
from moderation import emergency, selectors
from moderation.forms import DirectiveForm, PostForm
from moderation.models import DirectiveTarget, Flag, Post, PostStatus, RepostDirective
from moderation.services import directives, posts, publication, review
from moderation.services.deputies import deputy_roles_of
from moderation.signoff import signoff_pdf
from registry.models import AccountStatus, MediaAccount, Platform


def _error(request, exc: ApplicationError, form=None) -> None:
    if form is not None and exc.code == "override_required":
        # The fields name hit keys (for the API); people read the message, and the
        # reasons go beside each hit (moderation_precheck.js).
        form.add_error(None, str(exc.message))
    elif form is not None and exc.fields:
        field_map = {"account_ids": "accounts"}
        for name, msgs in exc.fields.items():
            name = field_map.get(name, name)
            target = name if name in form.fields else None
            for m in msgs:
                form.add_error(target, str(m))
    else:
        messages.error(request, str(exc.message))


def _require_business_view(user) -> None:
    """List pages of business data refuse (404) users who see none of it (the
    administrator roles), as the other apps' pages do."""
    if scope_for(user, Action.VIEW).is_empty:
        raise Http404


def _drafting_org(user) -> Organization | None:
    orgs = {m.organization for m in memberships_of(user)
            if m.role in (Role.OPERATOR, Role.OUTSOURCED_OPERATOR)}
    return sorted(orgs, key=lambda o: o.path)[0] if orgs else None


def _org_accounts(org):
    return list(MediaAccount.objects.filter(organization=org, status=AccountStatus.ACTIVE)
                .select_related("platform").order_by("platform__sort_order", "display_name"))


POST_SORTS = {
    "id": ("id",),
    "title": ("title", "id"),
    "organization": ("organization__path", "-id"),
    "status": ("status", "-id"),
    "updated": ("updated_at", "id"),
}


@login_required
def post_list(request):
    _require_business_view(request.user)
    mine = request.GET.get("mine", "1") == "1"
    status = request.GET.get("status") or None
    status = status if status in PostStatus.values else None
    sort, order = sort_key(request, POST_SORTS, "-id")
    qs = selectors.post_list(request.user, mine=mine, status=status).order_by(*order)
    page = paginate(request, qs)
    export = urlencode({"mine": "1" if mine else "0", "status": status or ""})
    return render(request, "moderation/post_list.html", {
        "page": page, "page_sizes": PAGE_SIZES, "sort": sort, "mine": mine,
        "status": status, "statuses": PostStatus.choices, "export_query": export,
        "can_draft": _drafting_org(request.user) is not None,
    })


@login_required
def post_export(request):
    """The post list as XLSX (default) or CSV with the page's filters, through the
    one export writer (the "posts" kind the API's export uses too)."""
    _require_business_view(request.user)
    params = request.GET.copy()
    params["mine"] = "1" if request.GET.get("mine", "1") == "1" else "0"
    if params.get("status") not in PostStatus.values:
        params.pop("status", None)
    try:
        return exports.respond(request, "posts", params,
                               request.GET.get("file_format", "xlsx"))
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("moderation:post_list")


def _post_form_page(request, post: Post | None):
    org = post.organization if post else _drafting_org(request.user)
    if org is None:
        raise Http404
    accounts = _org_accounts(org)
    if request.method == "POST":
        form = PostForm(request.POST, accounts=accounts)
        then_submit = request.POST.get("then") == "submit"
        overrides = {key[len("override:"):]: value for key, value in request.POST.items()
                     if key.startswith("override:")}
        if form.is_valid():
            try:
                kwargs = form.service_kwargs()
                # Save and submit in one step: one transaction, so a refused
                # submission leaves nothing saved and the form keeps what was typed.
                with transaction.atomic():
                    saved, created = _save_post(request, post, org, form, kwargs)
                    if then_submit:
                        posts.post_submit(post=saved, actor=request.user, overrides=overrides)
                if then_submit:
                    messages.success(request, _("Saved and submitted for review."))
                elif created:
                    messages.success(request, _("Draft saved."))
                else:
                    messages.success(request, _("Saved as a new revision."))
                return redirect("moderation:post_detail", saved.pk)
            except ApplicationError as exc:
                _error(request, exc, form)
    else:
        initial = {"importance": "general", "kind": request.GET.get("kind", "original"),
                   "corrects": request.GET.get("corrects")}
        if post is not None:
            initial = {
                "title": post.title, "text": post.text, "importance": post.importance,
                "column_tag": post.column_tag, "is_repost": post.is_repost,
                "repost_source": post.repost_source, "scheduled_at": post.scheduled_at,
                "links": "\n".join(post.links),
                "accounts": [str(i) for i in post.current_revision.account_ids],
            }
        form = PostForm(initial=initial, accounts=accounts)
    return render(request, "moderation/post_form.html",
                  {"form": form, "post": post, "organization": org,
                   "chains": selectors.review_chains(),
                   "overrides": request.POST if request.method == "POST" else {}})


def _save_post(request, post, org, form, kwargs) -> tuple[Post, bool]:
    """Create the draft or save a new revision; (the post, whether it is new)."""
    if post is not None:
        return posts.post_update(post=post, actor=request.user, **kwargs), False
    kind = form.cleaned_data.get("kind") or "original"
    corrects = None
    if form.cleaned_data.get("corrects"):
        corrects = Post.objects.visible_to(request.user).filter(
            pk=form.cleaned_data["corrects"]).first()
    created = posts.post_create(actor=request.user, organization=org, kind=kind,
                                corrects=corrects, **kwargs)
    return created, True


@login_required
def post_create(request):
    return _post_form_page(request, None)


@login_required
def post_edit(request, pk: int):
    post = get_visible_or_404(Post.objects.select_related("organization", "current_revision"),
                              request.user, Action.CHANGE, pk=pk)
    try:
        posts.require_editor(request.user, post)
    except ApplicationError as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    return _post_form_page(request, post)


@login_required
def post_detail(request, pk: int):
    post = selectors.post_detail(request.user, pk)
    steps = selectors.current_steps(post)
    revisions = list(post.revisions.all())
    diff = None
    if len(revisions) > 1:
        def number(name):
            value = request.GET.get(name, "")
            return int(value) if value.isdigit() else None
        diff = selectors.revision_pair_diff(post, number("from"), number("to"))
    held = roles_of(request.user, post.organization)
    soft = hard = []
    if post.status in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED):
        from moderation.prechecks import split_hits

        hard, soft = split_hits(posts.precheck_post(post))
        seen, unique_soft = set(), []
        for h in soft:
            if h.key not in seen:
                seen.add(h.key)
                unique_soft.append(h)
        soft = unique_soft
    sheet = next((x for x in post.signoffs.all()
                  if x.revision_id == post.current_revision_id), None)
    published = {p.account_id for p in post.publications.all()}
    return render(request, "moderation/post_detail.html", {
        "post": post, "revision": post.current_revision, "steps": steps,
        "revisions": revisions, "diff": diff, "hard": hard, "soft": soft, "sheet": sheet,
        "can_decide": (post.status == PostStatus.IN_REVIEW
                       and (post.awaiting_role in held
                            or (post.organization_id, post.awaiting_role)
                            in deputy_roles_of(request.user))
                       and post.author_id != request.user.pk
                       and Role.OUTSOURCED_OPERATOR not in held),
        "can_edit": posts.can_edit(request.user, post),
        "unpublished": [a for a in post.target_accounts.all() if a.pk not in published],
        "events": (emergency.events_for(post.organization)
                   if post.status in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED)
                   and posts.can_edit(request.user, post) else []),
        "all_steps": sorted(post.steps.all(), key=lambda s: (s.round, s.order)),
    })


@login_required
@require_POST
def post_submit(request, pk: int):
    post = get_visible_or_404(Post.objects.all(), request.user, Action.CHANGE, pk=pk)
    overrides = {key[len("override:"):]: value for key, value in request.POST.items()
                 if key.startswith("override:")}
    try:
        posts.post_submit(post=post, actor=request.user, overrides=overrides)
        messages.success(request, _("Submitted for review."))
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("moderation:post_detail", pk)


@login_required
@require_POST
def post_link_event(request, pk: int):
    post = get_visible_or_404(Post.objects.all(), request.user, Action.CHANGE, pk=pk)
    try:
        posts.post_link_event(post=post, actor=request.user,
                              event_ref=request.POST.get("event", ""))
        messages.success(request, _("The linked event was saved."))
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("moderation:post_detail", pk)


@login_required
@require_POST
def post_decide(request, pk: int):
    post = get_visible_or_404(Post.objects.all(), request.user, pk=pk)
    decision = request.POST.get("decision", "")
    revision = request.POST.get("revision", "")
    try:
        review.step_decide(post=post, actor=request.user, decision=decision,
                           comment=request.POST.get("comment", ""),
                           step_role=request.POST.get("step") or None,
                           revision_number=int(revision) if revision.isdigit() else None)
        messages.success(request, _("Your decision was recorded."))
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("moderation:post_detail", pk)


@login_required
@require_POST
def post_publish(request, pk: int):
    post = get_visible_or_404(Post.objects.all(), request.user, Action.CHANGE, pk=pk)
    account = MediaAccount.objects.visible_to(request.user).filter(
        pk=request.POST.get("account") if request.POST.get("account", "").isdigit() else None
    ).first()
    try:
        if account is None:
            raise ApplicationError(_("Choose the account."))
        publication.post_mark_published(post=post, actor=request.user, account=account,
                                        url=request.POST.get("url", "").strip())
        messages.success(request, _("Recorded as published."))
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("moderation:post_detail", pk)


@login_required
@require_POST
def post_attach(request, pk: int):
    post = get_visible_or_404(Post.objects.all(), request.user, Action.CHANGE, pk=pk)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ApplicationError(_("Choose a file."))
        posts.attachment_add(post=post, actor=request.user, upload=upload)
        messages.success(request, _("Attachment added (a new revision)."))
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("moderation:post_detail", pk)


@login_required
def attachment_download(request, pk: int, attachment_pk: int):
    """A post's attachment, for whoever may see the post (its organization, its
    reviewers, supervisors above it); another organization's answers 404.

    SECURITY: always a download (Content-Disposition: attachment) of the type sniffed
    at upload, with nosniff, so a browser never renders an attachment as a page of
    ours; media has no public URL, this is the only way to a file. Each download is
    a security event (reads of unpublished drafts are audited)."""
    post = get_visible_or_404(Post.objects.select_related("organization"), request.user,
                              pk=pk)
    attachment = post.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404
    try:
        stream = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    posts.attachment_download_record(attachment=attachment, actor=request.user)
    response = FileResponse(
        stream, as_attachment=True, filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def post_signoff(request, pk: int):
    post = get_visible_or_404(Post.objects.select_related("organization", "author"),
                              request.user, pk=pk)
    sheet = post.signoffs.select_related("revision", "post").filter(
        revision_id=post.current_revision_id).first()
    if sheet is None:
        raise Http404
    response = HttpResponse(signoff_pdf(sheet, verify_url=request.build_absolute_uri(reverse("signoff_verify"))), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{sheet.number}.pdf"'
    return response


@login_required
def queue(request):
    _require_business_view(request.user)
    # review_queue's order: emergency reviews first, then what has waited longest.
    page = paginate(request, selectors.review_queue(request.user))
    return render(request, "moderation/queue.html",
                  {"page": page, "page_sizes": PAGE_SIZES, "export_kind": "review_queue"})


def review_queue_table(user, params):
    """What waits on the user's review, in the queue's order (the "review_queue"
    export kind): selectors.review_queue decides, as for the page."""
    from django.db.models.functions import Left

    from common.errors import NotFound
    from common.exports import Column, Table
    from moderation.models import Importance

    if scope_for(user, Action.VIEW).is_empty:  # as _require_business_view
        raise NotFound(_("Not found."))
    qs = selectors.review_queue(user)
    rows = qs.annotate(opening=Left("text", 30)).values_list(
        "id", "title", "opening", "organization__name", "importance", "awaiting_role",
        "author__display_name", "author__username", "submitted_at", "event_label")

    def lines():
        for (pk, title, opening, org, importance, step, author, username, submitted,
             event) in rows.iterator(chunk_size=2000):
            yield [pk, title or opening, org, importance, step, author or username,
                   submitted, event]

    return Table(
        title=_("Review queue"),
        columns=[
            Column(_("ID"), "number"), Column(_("Title"), width=40),
            Column(_("Organization"), width=30),
            Column(_("Importance"), labels=dict(Importance.choices)),
            Column(_("Step"), labels=dict(Role.choices), width=16),
            Column(_("Author"), width=16), Column(_("Submitted"), "datetime", width=20),
            Column(_("Emergency"), width=30),
        ],
        rows=lines(),
        count=qs.order_by().count,
        organization=exports.scope_label(user),
    )


@login_required
@reads_from_replica
def directive_list(request):
    """The supervisor's own directives first (completion rate, overdue in red), then
    the others it sees; above them, the reposts waiting for the user: only targets
    on accounts the user operates, overdue first."""
    _require_business_view(request.user)
    mine = request.GET.get("mine") == "1"
    page = selectors.directive_page(
        request.user, request.GET.get("page"), page_size(request), mine=mine
    )
    to_repost = selectors.targets_to_repost(request.user)
    return render(request, "moderation/directive_list.html", {
        "page": page, "page_sizes": PAGE_SIZES, "mine": mine,
        "targets": to_repost[:50], "targets_total": to_repost.count(),
        "now": timezone.now(),
        "can_issue": Role.SUPERVISOR in roles_of(request.user),
        "export_kind": (
            "directives" if not scope_for(request.user, Action.EXPORT).is_empty else ""),
    })


def directives_table(user, params):
    """The directive list as the page shows it (the "directives" export kind): the
    user's own first, `mine=1` keeps them alone; targets counted as far as the user
    sees them (one GROUP BY, selectors.directive_list)."""
    from common.errors import NotFound
    from common.exports import Column, Table

    if scope_for(user, Action.EXPORT).is_empty:
        raise NotFound(_("Not found."))
    qs = selectors.directive_list(user, mine=params.get("mine") == "1").filter(
        pk__in=RepostDirective.objects.visible_to(user, Action.EXPORT).values("pk"))
    rows = qs.values_list("id", "title", "organization__name", exports.person("issued_by"),
                          "issued_at", "targets_seen", "confirmed", "open_overdue", "own")

    def lines():
        for pk, title, org, by, at, seen, confirmed, overdue, own in rows.iterator(
                chunk_size=2000):
            rate = round(100 * confirmed / seen, 1) if seen else None
            yield [pk, title, org, by, at, seen, confirmed, rate, overdue, bool(own)]

    return Table(
        title=_("Repost directives"),
        columns=[
            Column(_("ID"), "number"), Column(_("Title"), width=40),
            Column(_("Issuing organization"), width=30), Column(_("Issued by"), width=16),
            Column(_("Issued at"), "datetime", width=20),
            Column(_("Target accounts"), "number"), Column(_("Confirmed"), "number"),
            Column(_("Completion (%)"), "number"),
            Column(_("Open and overdue"), "number"), Column(_("Issued by me"), "bool"),
        ],
        rows=lines(),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


@login_required
def directive_create(request):
    supervised = sorted({m.organization for m in memberships_of(request.user)
                         if m.role == Role.SUPERVISOR}, key=lambda o: o.path)
    if not supervised:
        raise Http404
    platforms = list(Platform.objects.filter(is_active=True))
    form = DirectiveForm(request.POST or None, platforms=platforms)
    if request.method == "POST" and form.is_valid():
        try:
            directive = directives.directive_issue(
                actor=request.user, organization=supervised[0],
                title=form.cleaned_data["title"], source_url=form.cleaned_data["source_url"],
                note=form.cleaned_data["note"], platform_codes=form.cleaned_data["platforms"],
            )
            messages.success(request, _("Directive issued to %(n)s accounts.")
                             % {"n": directive.target_count})
            return redirect("moderation:directive_detail", directive.pk)
        except ApplicationError as exc:
            _error(request, exc, form)
    return render(request, "moderation/directive_form.html",
                  {"form": form, "organization": supervised[0]})


@login_required
def directive_detail(request, pk: int):
    """Completion rolled up one level below an organization (?at=, drillable), with
    subtotals by level, sortable (?sort=) and exportable; the user's own accounts to
    repost on top. The progress table refreshes itself (?fragment=progress) while
    targets are open and the tab is visible."""
    directive = get_visible_or_404(RepostDirective.objects.select_related("organization",
                                                                          "issued_by"),
                                   request.user, pk=pk)
    at = directive.organization
    raw_at = request.GET.get("at", "")
    if raw_at.isdigit():
        # Drill into an organization below the issuer that the user sees, or that
        # lies above what they see (an operator's city): rows count only the
        # targets the user may see, whatever the level.
        at = Organization.objects.filter(pk=int(raw_at),
                                         path__startswith=directive.organization.path).first()
        roots = scope_for(request.user, Action.VIEW).roots()
        if at is None or not (
            scope_for(request.user, Action.VIEW, Domain.DIRECTORY).contains(at)
            or any(root.startswith(at.path) for root in roots)
        ):
            raise Http404
    rollup = selectors.directive_rollup(directive, request.user, at=at,
                                        sort=request.GET.get("sort", "name"))
    context = {"directive": directive, "rollup": rollup, "sort": rollup["sort"],
               "closed": rollup["totals"]["open"] == 0}
    if request.GET.get("fragment") == "progress":
        return render(request, "moderation/_directive_progress.html", context)
    trail = list(
        Organization.objects.filter(
            path__in=[at.path[:n] for n in range(len(directive.organization.path),
                                                  len(at.path), Organization.steplen)]
        ).order_by("path")
    ) if at.pk != directive.organization.pk else []
    context.update({
        "trail": trail,
        "targets": selectors.targets_to_repost(request.user).filter(directive=directive)[:100],
    })
    return render(request, "moderation/directive_detail.html", context)


@login_required
@require_POST
def target_confirm(request, pk: int):
    target = get_visible_or_404(DirectiveTarget.objects.all(), request.user, Action.CHANGE,
                                pk=pk)
    try:
        directives.target_confirm(target=target, actor=request.user,
                                  repost_url=request.POST.get("repost_url", "").strip())
        messages.success(request, _("Repost confirmed."))
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("moderation:directive_detail", target.directive_id)


@login_required
def flag_list(request):
    _require_business_view(request.user)
    open_only = request.GET.get("all") != "1"
    sort, order = sort_key(request, FLAG_SORTS, "-time")
    page = paginate(request, selectors.flag_list(request.user, open_only=open_only)
                    .order_by(*order))
    return render(request, "moderation/flag_list.html", {
        "page": page, "page_sizes": PAGE_SIZES, "sort": sort, "open_only": open_only,
    })


FLAG_SORTS = {
    "time": ("created_at", "id"),
    "organization": ("org_path", "-id"),
    "kind": ("kind", "-id"),
}


@login_required
def flag_export(request):
    """The flags as XLSX (default) or CSV (open only unless ?all=1), through the one
    export writer."""
    _require_business_view(request.user)
    try:
        return exports.respond(request, "flags", request.GET,
                               request.GET.get("file_format", "xlsx"))
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("moderation:flag_list")


def flags_table(user, params):
    """The flags export (the "flags" export kind)."""
    from common.errors import NotFound
    from common.exports import Column, Table
    from moderation.models import FlagKind

    if scope_for(user, Action.EXPORT).is_empty:
        raise NotFound(_("Not found."))
    qs = selectors.flag_list(user, open_only=params.get("all") != "1").filter(
        pk__in=Flag.objects.visible_to(user, Action.EXPORT).values("pk"))
    rows = qs.values_list("created_at", "organization__name", "kind", "message",
                          "published_post__account__display_name", "published_post__url",
                          "resolved_at", "resolution")
    return Table(
        title=_("Flags"),
        columns=[
            Column(_("Time"), "datetime", width=20), Column(_("Organization"), width=30),
            Column(_("Kind"), labels=dict(FlagKind.choices), width=20),
            Column(_("Message"), width=40), Column(_("Account"), width=20),
            Column(_("Link"), width=30), Column(_("Resolved at"), "datetime", width=20),
            Column(_("Resolution"), width=30),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


@login_required
@require_POST
def flag_resolve(request, pk: int):
    flag = get_visible_or_404(Flag.objects.all(), request.user, Action.CHANGE, pk=pk)
    try:
        publication.flag_resolve(flag=flag, actor=request.user,
                                 resolution=request.POST.get("resolution", ""))
        messages.success(request, _("Flag resolved."))
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("moderation:flag_list")


def signoff_verify(request):
    """Public: is this sign-off sheet genuine? Given a sheet number and its
    verification code, answers only yes or no (no content of the sheet, and the
    same "no" for a missing number and a wrong code)."""
    from moderation.signoff import verify

    number = request.GET.get("number", "").strip()[:40]
    code = request.GET.get("code", "").strip()[:20]
    genuine = verify(number, code) if number and code else None
    return render(request, "moderation/signoff_verify.html",
                  {"number": number, "code": code, "genuine": genuine})


def deputies_table(user, params):
    """The deputies page as an export (the "deputies" kind): selectors.deputy_list
    decides, kept to what the user may export; in force today or not as the page
    says it."""
    from django.db.models import Case, Q, Value, When

    from common.errors import NotFound
    from common.exports import Column, Table
    from moderation.models import ReviewRole

    if scope_for(user, Action.EXPORT).is_empty:
        raise NotFound(_("Not found."))
    qs = selectors.deputy_list(user, Action.EXPORT)
    today = timezone.localdate()
    rows = qs.annotate(
        in_force=Case(
            When(Q(ended_at__isnull=True, starts_on__lte=today, ends_on__gte=today),
                 then=Value(True)),
            default=Value(False),
        )
    ).values_list(
        "organization__name", "role", exports.person("deputy"),
        exports.person("on_behalf_of"), "starts_on", "ends_on", "reason",
        exports.person("appointed_by"), "appointed_at", "in_force", "ended_at",
    )
    return Table(
        title=_("Deputies"),
        columns=[
            Column(_("Organization"), width=30),
            Column(_("Review role"), labels=dict(ReviewRole.choices), width=16),
            Column(_("Deputy"), width=16), Column(_("On behalf of"), width=16),
            Column(_("From"), "date"), Column(_("Until"), "date"),
            Column(_("Reason"), width=40), Column(_("Appointed by"), width=16),
            Column(_("Appointed at"), "datetime", width=20),
            Column(_("In force"), "bool"), Column(_("Ended at"), "datetime", width=20),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


@login_required
def deputy_list(request):
    """Deputies (代签) of the organizations the user belongs to; the principal leader
    appoints one for a review role and a period, or ends an appointment early."""
    from moderation.forms import DeputyForm
    from moderation.services import deputies

    led = [m.organization for m in memberships_of(request.user)
           if m.role == Role.PRINCIPAL_LEADER]
    form = DeputyForm(request.POST or None, organizations=led) if led else None
    if request.method == "POST":
        if form is None:
            raise DjangoPermissionDenied(_("Only a principal leader appoints deputies."))
        if form.is_valid():
            data = form.cleaned_data
            try:
                deputies.deputy_appoint(
                    actor=request.user, organization=data["organization"], role=data["role"],
                    deputy=data["deputy"], starts_on=data["starts_on"], ends_on=data["ends_on"],
                    reason=data["reason"],
                )
            except ApplicationError as exc:
                _error(request, exc, form)
            else:
                messages.success(request, _("Deputy appointed."))
                return redirect("moderation:deputy_list")
    rows = selectors.deputy_list(request.user).select_related(
        "organization", "deputy", "on_behalf_of", "appointed_by")
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for row in page:
        row.in_force = row.active_on(today)
        row.can_end = (row.ended_at is None and row.ends_on >= today
                       and row.organization_id in {o.pk for o in led})
    can_export = not scope_for(request.user, Action.EXPORT).is_empty
    return render(request, "moderation/deputy_list.html",
                  {"page": page, "form": form,
                   "export_kind": "deputies" if can_export else ""},
                  status=400 if form is not None and form.errors else 200)


@login_required
@require_POST
def deputy_end(request, pk: int):
    from moderation.models import ReviewDeputy
    from moderation.services import deputies

    appointment = get_visible_or_404(ReviewDeputy.objects.all(), request.user, pk=pk)
    try:
        deputies.deputy_end(actor=request.user, appointment=appointment)
        messages.success(request, _("The appointment has ended."))
    except ApplicationError as exc:
        if exc.status == 403:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        _error(request, exc)
    return redirect("moderation:deputy_list")
