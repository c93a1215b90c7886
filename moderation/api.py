"""REST API of moderation. Every viewset inherits the scoped base (accounts.api_base):
out-of-scope rows answer 404. Views stay thin: they parse, call a service, render."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.api_base import ScopedModelViewSet
from accounts.models import Organization, Role
from accounts.scoping import Action, memberships_of, scope_for
from common import exports
from common.errors import NotFound, ValidationFailed
from moderation import prechecks, selectors
from moderation import serializers as s
from moderation.models import (
    Dictionary,
    DirectiveTarget,
    Flag,
    Post,
    PublishedPost,
    RepostDirective,
    RepostPolicy,
    ReviewDeputy,
    ReviewRole,
    Term,
)
from moderation.services import (
    dictionaries,
    directives,
    policies,
    posts,
    publication,
    review,
)
from moderation.signoff import signoff_pdf
from registry.models import MediaAccount, Platform

DRAFT_ROLES = (Role.OPERATOR, Role.OUTSOURCED_OPERATOR)


def _organization(user, org_id, *, prefer=DRAFT_ROLES) -> Organization:
    """The organization named in the request (must be visible), or the user's own
    when they hold exactly one matching membership."""
    if org_id is not None:
        org = Organization.objects.filter(pk=org_id).first()
        if org is None or not scope_for(user, Action.VIEW).contains(org):
            # SECURITY: another jurisdiction's organization answers like a missing one.
            raise NotFound(_("Not found."))
        return org
    orgs = {m.organization for m in memberships_of(user) if m.role in prefer}
    if len(orgs) != 1:
        raise ValidationFailed(_("Name the organization."),
                               fields={"organization": [_("Required.")]})
    return orgs.pop()


def _data(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


PRECHECK_RESPONSE = inline_serializer("PrecheckResult", {
    "hits": serializers.ListField(child=serializers.DictField()),
    "hard": serializers.IntegerField(), "soft": serializers.IntegerField(),
    "length": serializers.IntegerField(),
})


PROGRESS_PAGE_SIZE = 100
PROGRESS_MAX_PAGE_SIZE = 500


def _positive_int(request, name: str, default: int, maximum: int | None) -> int:
    """A query parameter that must be a whole number from 1 to `maximum`: a clear
    400 naming it otherwise."""
    raw = request.query_params.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1 or (maximum and int(raw) > maximum):
        rule = (_("Enter a whole number from 1 to %(max)s.") % {"max": maximum}
                if maximum else _("Enter a whole number of at least 1."))
        raise ValidationFailed(rule, fields={name: [rule]})
    return int(raw)


class PostViewSet(ScopedModelViewSet):
    """Posts: draft, edit (a new revision), submit, review, publish."""

    queryset = Post.objects.all()
    serializer_class = s.PostListSerializer
    change_actions = frozenset({"submit", "publish", "attachments", "approve", "reject",
                                "request_changes"})
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def narrow_queryset(self, queryset):
        if self.action == "retrieve":
            return queryset.select_related("organization", "author", "current_revision")\
                .prefetch_related("target_accounts__platform", "steps__decided_by",
                                  "steps__revision", "revisions__created_by", "attachments",
                                  "publications", "signoffs")
        queryset = queryset.select_related("organization", "author", "current_revision")\
            .prefetch_related("target_accounts__platform")
        if self.action == "queue":
            return queryset.filter(pk__in=selectors.review_queue(self.request.user)
                                   .values("pk")).order_by("submitted_at", "id")
        params = self.request.query_params
        if self.action == "export":
            queryset = queryset.select_related(None).prefetch_related(None)
        if params.get("mine") in ("1", "true"):
            queryset = queryset.filter(author=self.request.user)
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        return queryset.order_by("-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.PostListSerializer(page, many=True).data)

    @action(detail=False, methods=["get"])
    def export(self, request):
        """The posts you may export (same filters as the list), as CSV."""
        return exports.respond(request, "posts", request.query_params,
                               request.query_params.get("file_format", "csv"), api=True)

    @extend_schema(responses=s.PostListSerializer(many=True),
                   summary="Posts waiting for the caller's review, oldest first")
    @action(detail=False, methods=["get"])
    def queue(self, request):
        """What waits on me, oldest first."""
        return self.list(request)

    def retrieve(self, request, pk=None):
        return Response(s.PostDetailSerializer(self.get_object()).data)

    def _detail(self, post, code=status.HTTP_200_OK):
        fresh = self.get_queryset().model.objects.filter(pk=post.pk)
        fresh = fresh.select_related("organization", "author", "current_revision")\
            .prefetch_related("target_accounts__platform", "steps__decided_by",
                              "steps__revision", "revisions__created_by", "attachments",
                              "publications", "signoffs").get()
        return Response(s.PostDetailSerializer(fresh).data, status=code)

    @extend_schema(request=s.PostCreateSerializer, responses={201: s.PostDetailSerializer},
                   summary="Draft a post")
    def create(self, request):
        data = _data(s.PostCreateSerializer, request)
        org = _organization(request.user, data.pop("organization", None))
        corrects = None
        if data.get("corrects"):
            corrects = Post.objects.visible_to(request.user).filter(pk=data["corrects"]).first()
            if corrects is None:
                raise ValidationFailed(_("Unknown post."), fields={"corrects": [_("Unknown.")]})
        data["corrects"] = corrects
        post = posts.post_create(actor=request.user, organization=org, **data)
        return self._detail(post, status.HTTP_201_CREATED)

    @extend_schema(request=s.PostUpdateSerializer, responses=s.PostDetailSerializer,
                   summary="Edit a post (saves a new revision)")
    def partial_update(self, request, pk=None):
        post = self.get_object()
        data = dict(_data(s.PostUpdateSerializer, request))
        post = posts.post_update(post=post, actor=request.user, **data)
        return self._detail(post)

    @extend_schema(request=s.SubmitSerializer, responses=s.PostDetailSerializer,
                   summary="Submit a post for review (soft hits need override reasons)")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        data = _data(s.SubmitSerializer, request)
        post = posts.post_submit(post=self.get_object(), actor=request.user,
                                 overrides=data["overrides"])
        return self._detail(post)

    @extend_schema(request=s.LinkEventSerializer, responses=s.PostDetailSerializer,
                   summary="Link a draft to an open public-opinion event (emergency "
                           "review path), or unlink it")
    @action(detail=True, methods=["post"], url_path="link-event")
    def link_event(self, request, pk=None):
        data = _data(s.LinkEventSerializer, request)
        post = posts.post_link_event(post=self.get_object(), actor=request.user,
                                     event_ref=data["event"])
        return self._detail(post)

    def _decide(self, request, decision):
        data = _data(s.DecisionSerializer, request)
        post = self.get_object()
        review.step_decide(post=post, actor=request.user, decision=decision,
                           comment=data["comment"], step_role=data["step"] or None,
                           revision_number=data["revision"])
        return self._detail(post)

    @extend_schema(request=s.DecisionSerializer, responses=s.PostDetailSerializer,
                   summary="Approve the current review step")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, review.Decision.APPROVE)

    @extend_schema(request=s.DecisionSerializer, responses=s.PostDetailSerializer,
                   summary="Reject the post")
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, review.Decision.REJECT)

    @extend_schema(request=s.DecisionSerializer, responses=s.PostDetailSerializer,
                   summary="Return the post to its author for changes")
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        return self._decide(request, review.Decision.REQUEST_CHANGES)

    @extend_schema(request=s.PublishSerializer, responses=s.PostDetailSerializer,
                   summary="Record where and when the post was published")
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        data = _data(s.PublishSerializer, request)
        post = self.get_object()
        account = MediaAccount.objects.visible_to(request.user).filter(pk=data["account"]).first()
        if account is None:
            raise ValidationFailed(_("Unknown account."), fields={"account": [_("Unknown.")]})
        publication.post_mark_published(post=post, actor=request.user, account=account,
                                        url=data["url"], published_at=data["published_at"])
        return self._detail(post)

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}}, "required": ["file"]}},
        responses={201: s.PostDetailSerializer}, summary="Attach a file to the post")
    @action(detail=True, methods=["post"])
    def attachments(self, request, pk=None):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed(_("Choose a file."), fields={"file": [_("Required.")]})
        post = self.get_object()
        posts.attachment_add(post=post, actor=request.user, upload=upload)
        return self._detail(post, status.HTTP_201_CREATED)

    @extend_schema(responses=OpenApiTypes.OBJECT,
                   summary="The difference between two revisions (?from=&to=)")
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        post = self.get_object()
        def number(name):
            value = request.query_params.get(name)
            return int(value) if value and value.isdigit() else None
        data = selectors.revision_pair_diff(post, number("from"), number("to"))
        return Response(data)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY},
                   summary="The sign-off sheet (PDF) of the current revision")
    @action(detail=True, methods=["get"])
    def signoff(self, request, pk=None):
        post = self.get_object()
        sheet = post.signoffs.filter(revision_id=post.current_revision_id).first()
        if sheet is None:
            raise NotFound(_("This post has no sign-off sheet yet."))
        response = HttpResponse(signoff_pdf(sheet, verify_url=request.build_absolute_uri(reverse("signoff_verify"))), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{sheet.number}.pdf"'
        return response

    @extend_schema(request=s.PrecheckSerializer, responses=PRECHECK_RESPONSE,
                   summary="Pre-check a text while typing")
    @action(detail=False, methods=["post"])
    def precheck(self, request):
        """Live feedback while typing: hits with position, kind, severity, suggestion."""
        data = _data(s.PrecheckSerializer, request)
        org = _organization(request.user, data.get("organization"))
        platforms = sorted({
            (a.platform.code, a.platform.name, a.platform.max_post_length)
            for a in MediaAccount.objects.visible_to(request.user)
            .filter(pk__in=data["account_ids"]).select_related("platform")
        })
        hits = prechecks.run_prechecks(
            text=data["text"], org_path=org.path, links=data["links"],
            is_repost=data["is_repost"], repost_source=data["repost_source"],
            platforms=platforms, stamp_max_age=prechecks.LIVE_STAMP_AGE,
        )
        hard, soft = prechecks.split_hits(hits)
        return Response({"hits": [h.as_dict() for h in hits], "hard": len(hard),
                         "soft": len(soft), "length": len(data["text"])})


class DictionaryViewSet(ScopedModelViewSet):
    """Pre-check dictionaries of the user's jurisdiction, and their terms."""

    queryset = Dictionary.objects.all()
    serializer_class = s.DictionarySerializer
    change_actions = frozenset({"add_term", "remove_term"})

    def narrow_queryset(self, queryset):
        return queryset.select_related("organization").order_by("org_path", "kind", "name")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.DictionarySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.DictionarySerializer(self.get_object()).data)

    def create(self, request):
        data = _data(s.DictionarySerializer, request)
        org = _organization(request.user, data.get("organization_id"),
                            prefer=(Role.SUPERVISOR,))
        dictionary = dictionaries.dictionary_create(actor=request.user, organization=org,
                                                    name=data["name"], kind=data["kind"])
        return Response(s.DictionarySerializer(dictionary).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def terms(self, request, pk=None):
        dictionary = self.get_object()
        page = self.paginate_queryset(Term.objects.filter(dictionary=dictionary).order_by("id"))
        return self.get_paginated_response(s.TermSerializer(page, many=True).data)

    @action(detail=True, methods=["post"], url_path="terms/add")
    def add_term(self, request, pk=None):
        data = _data(s.TermSerializer, request)
        term = dictionaries.term_add(actor=request.user, dictionary=self.get_object(), **data)
        return Response(s.TermSerializer(term).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], url_path=r"terms/(?P<term_id>\d+)/remove")
    def remove_term(self, request, pk=None, term_id=None):
        term = Term.objects.filter(dictionary=self.get_object(), pk=term_id).first()
        if term is None:
            raise NotFound(_("Not found."))
        dictionaries.term_remove(actor=request.user, term=term)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublishedPostViewSet(ScopedModelViewSet):
    """Posts seen on platforms, reported by collectors; idempotent by platform and
    platform post id (a repeat answers 200 with the first report)."""

    queryset = PublishedPost.objects.all()
    serializer_class = s.PublishedPostSerializer

    def narrow_queryset(self, queryset):
        return queryset.select_related("platform").order_by("-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.PublishedPostSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.PublishedPostSerializer(self.get_object()).data)

    def create(self, request):
        data = _data(s.PublishedPostReportSerializer, request)
        account = MediaAccount.objects.visible_to(request.user).select_related(
            "organization", "supervising_organization").filter(pk=data.pop("account")).first()
        if account is None:
            # SECURITY: an account of another jurisdiction answers like a missing one.
            raise NotFound(_("Not found."))
        row, created = publication.published_post_report(actor=request.user, account=account,
                                                         **data)
        return Response(s.PublishedPostSerializer(row).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class FlagViewSet(ScopedModelViewSet):
    queryset = Flag.objects.all()
    serializer_class = s.FlagSerializer
    change_actions = frozenset({"resolve"})

    def narrow_queryset(self, queryset):
        queryset = queryset.select_related("organization").order_by("-id")
        if self.request.query_params.get("open") in ("1", "true"):
            queryset = queryset.filter(resolved_at__isnull=True)
        return queryset

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.FlagSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.FlagSerializer(self.get_object()).data)

    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        data = _data(s.ResolveSerializer, request)
        flag = publication.flag_resolve(flag=self.get_object(), actor=request.user,
                                        resolution=data["resolution"])
        return Response(s.FlagSerializer(flag).data)


class RepostDirectiveViewSet(ScopedModelViewSet):
    queryset = RepostDirective.objects.all()
    serializer_class = s.DirectiveSerializer

    def narrow_queryset(self, queryset):
        # `confirmed` and `targets_seen` count the targets the caller may see (the
        # same numbers as the directive page).
        seen = scope_for(self.request.user, Action.VIEW).q("targets__org_path")
        return (
            queryset.select_related("organization")
            .annotate(targets_seen=Count("targets", filter=seen),
                      confirmed=Count("targets", filter=seen & Q(
                          targets__confirmed_at__isnull=False)))
            .order_by("-id")
        )

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.DirectiveSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.DirectiveSerializer(self.get_object()).data)

    def create(self, request):
        data = _data(s.DirectiveCreateSerializer, request)
        org = _organization(request.user, data.get("organization"), prefer=(Role.SUPERVISOR,))
        post = None
        if data["post"]:
            post = Post.objects.visible_to(request.user).filter(pk=data["post"]).first()
            if post is None:
                raise ValidationFailed(_("Unknown post."), fields={"post": [_("Unknown.")]})
        directive = directives.directive_issue(
            actor=request.user, organization=org, title=data["title"],
            source_url=data["source_url"], post=post, note=data["note"],
            platform_codes=data["platforms"], organization_ids=data["organizations"],
        )
        directive = self.get_queryset().get(pk=directive.pk)
        return Response(s.DirectiveSerializer(directive).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT, description="Page of the "
                             "organizations list (1 first)."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Organizations "
                             f"per page, at most {PROGRESS_MAX_PAGE_SIZE} (default "
                             f"{PROGRESS_PAGE_SIZE})."),
        ],
        summary="Completion by organization of the targets you see (paged)",
    )
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        """Completion by organization, in tree order: the totals over every target
        the caller sees, and one page of the organizations (`count` of them in
        all), so a directive to 5,000 accounts does not answer with thousands of
        rows at once (issue 9). The page drills down by level instead."""
        size = _positive_int(request, "page_size", PROGRESS_PAGE_SIZE,
                             PROGRESS_MAX_PAGE_SIZE)
        number = _positive_int(request, "page", 1, None)
        data = selectors.directive_progress(self.get_object(), request.user)
        rows = data["organizations"]
        start = (number - 1) * size
        return Response({**data, "count": len(rows), "page": number, "page_size": size,
                         "organizations": rows[start:start + size]})


class DirectiveTargetViewSet(ScopedModelViewSet):
    queryset = DirectiveTarget.objects.all()
    serializer_class = s.TargetSerializer
    change_actions = frozenset({"confirm"})

    def narrow_queryset(self, queryset):
        queryset = queryset.select_related("account", "platform", "organization")
        params = self.request.query_params
        if params.get("directive", "").isdigit():
            queryset = queryset.filter(directive_id=int(params["directive"]))
        if params.get("open") in ("1", "true"):
            queryset = queryset.filter(confirmed_at__isnull=True)
        return queryset.order_by("due_at", "id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.TargetSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.TargetSerializer(self.get_object()).data)

    @action(detail=False, methods=["get"])
    def export(self, request):
        """Repost completion, one row per target you may export (same filters as the
        list), as CSV (or ?file_format=xlsx); a large one answers 202 with a job."""
        return exports.respond(request, "repost_targets", request.query_params,
                               request.query_params.get("file_format", "csv"), api=True)

    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        data = _data(s.ConfirmSerializer, request)
        target = directives.target_confirm(target=self.get_object(), actor=request.user,
                                           repost_url=data["repost_url"])
        return Response(s.TargetSerializer(target).data)



class RepostPolicyViewSet(ScopedModelViewSet):
    """Repost deadlines per platform: the national defaults and the policies of the
    organizations in your jurisdiction (an organization's policy applies to its
    subtree; the nearest one wins). Everyone with business data reads them;
    supervisors add and change the policies of their jurisdiction.

    A policy applies to directives issued after it is saved: each target's deadline
    is computed once, when the directive is issued, and is not moved by later
    policy changes.

    `GET effective/?organization=<id>` answers the policy in force per platform for
    one organization."""

    queryset = RepostPolicy.objects.all()
    serializer_class = s.RepostPolicySerializer

    def narrow_queryset(self, queryset):
        queryset = queryset.select_related("platform", "organization")
        params = self.request.query_params
        if params.get("platform"):
            queryset = queryset.filter(platform__code=params["platform"])
        if params.get("organization", "").isdigit():
            queryset = queryset.filter(organization_id=int(params["organization"]))
        return queryset.order_by("platform__sort_order", "organization__path", "id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.RepostPolicySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.RepostPolicySerializer(self.get_object()).data)

    def create(self, request):
        data = _data(s.RepostPolicyWriteSerializer, request)
        errors = {f: [_("Required.")] for f in ("platform", "organization", "unit", "amount")
                  if f not in data}
        if errors:
            raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
        platform = Platform.objects.filter(code=data["platform"]).first()
        if platform is None:
            raise ValidationFailed(_("Unknown platform."), fields={"platform": [_("Unknown.")]})
        org = Organization.objects.filter(pk=data["organization"]).first()
        if org is None:
            raise NotFound(_("Not found."))
        policy = policies.repost_policy_save(actor=request.user, policy=RepostPolicy(
            platform=platform, organization=org, unit=data["unit"], amount=data["amount"],
            warn_before_minutes=data.get("warn_before_minutes", 15)))
        return Response(s.RepostPolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        policy = self.get_object()
        data = _data(s.RepostPolicyWriteSerializer, request)
        if {"platform", "organization"} & set(data):
            raise ValidationFailed(
                _("A policy's platform and organization do not change; add a new policy."),
                fields={f: [_("Cannot be changed.")] for f in ("platform", "organization")
                        if f in data})
        for field in policies.CHANGEABLE:
            if field in data:
                setattr(policy, field, data[field])
        policy = policies.repost_policy_save(actor=request.user, policy=policy)
        return Response(s.RepostPolicySerializer(policy).data)

    @action(detail=False, methods=["get"])
    def effective(self, request):
        """The policy in force per platform for one organization you can see."""
        value = request.query_params.get("organization", "")
        org = Organization.objects.filter(pk=int(value)).first() if value.isdigit() else None
        if org is None or not scope_for(request.user, Action.VIEW).contains(org):
            raise NotFound(_("Not found."))
        found = directives.policies_for(org)
        rows = RepostPolicy.objects.filter(pk__in=[p.pk for p in found.values()])\
            .select_related("platform", "organization").order_by("platform__sort_order")
        return Response({"organization": org.pk,
                         "fallback": {"unit": directives.FALLBACK[0],
                                      "amount": directives.FALLBACK[1],
                                      "warn_before_minutes": directives.FALLBACK[2]},
                         "policies": s.RepostPolicySerializer(rows, many=True).data})


# --- exports (common/exports.py; registered in moderation.apps) ------------------------
def posts_table(user, params) -> exports.Table:
    """The posts export: what GET /api/v1/posts/export/ answers for `user`."""
    from common.exports import Column, Table
    from moderation.models import Importance, PostKind, PostStatus

    qs = exports.viewset_queryset(PostViewSet, user, params)
    rows = qs.values_list(
        "id", "organization__name", "kind", "title", "importance", "status",
        "author__username", "current_revision__number", "scheduled_at", "submitted_at",
        "approved_at", "created_at")
    when = "datetime"
    columns = [
        Column(_("ID"), "number"), Column(_("Organization"), width=30),
        Column(_("Kind"), labels=dict(PostKind.choices)), Column(_("Title"), width=40),
        Column(_("Importance"), labels=dict(Importance.choices)),
        Column(_("Status"), labels=dict(PostStatus.choices)), Column(_("Author")),
        Column(_("Revision"), "number"), Column(_("Scheduled publication"), when),
        Column(_("Submitted"), when), Column(_("Approved"), when), Column(_("Created"), when),
    ]
    return Table(
        title=_("Posts"), columns=columns, rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def repost_targets_table(user, params) -> exports.Table:
    """Repost completion: what GET /api/v1/directive-targets/export/ answers."""
    from common.exports import Column, Table

    qs = exports.viewset_queryset(DirectiveTargetViewSet, user, params)
    rows = qs.values_list(
        "id", "directive_id", "directive__title", "organization__name",
        "account__display_name", "platform__name", "due_at", "confirmed_at",
        "repost_url", "overdue_at")
    when = "datetime"
    columns = [
        Column(_("ID"), "number"), Column(_("Directive"), "number"),
        Column(_("Title"), width=40), Column(_("Organization"), width=30),
        Column(_("Account"), width=24), Column(_("Platform")), Column(_("Due"), when),
        Column(_("Confirmed"), when), Column(_("Repost URL"), width=40),
        Column(_("Marked overdue"), when), Column(_("Completed"), "bool"),
    ]
    return Table(
        title=_("Repost completion"), columns=columns,
        rows=([*row, row[7] is not None] for row in rows.iterator(chunk_size=2000)),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


class ReviewDeputySerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewDeputy
        fields = ["id", "organization", "role", "deputy", "on_behalf_of", "starts_on", "ends_on",
                  "reason", "appointed_by", "appointed_at", "ended_at"]
        read_only_fields = ["id", "on_behalf_of", "appointed_by", "appointed_at", "ended_at"]


class ReviewDeputyWriteSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False, allow_null=True, default=None)
    role = serializers.ChoiceField(choices=ReviewRole.choices)
    deputy = serializers.IntegerField()
    on_behalf_of = serializers.IntegerField(required=False, allow_null=True, default=None)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class ReviewDeputyViewSet(ScopedModelViewSet):
    """Deputies (代签): the principal leader appoints someone to decide a review role's
    steps for a period on behalf of its holder; `end/` ends an appointment early.
    Decisions taken as deputy record `on_behalf_of`."""

    queryset = ReviewDeputy.objects.all()
    serializer_class = ReviewDeputySerializer

    def narrow_queryset(self, queryset):
        return queryset.order_by("-starts_on", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ReviewDeputySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ReviewDeputySerializer(self.get_object()).data)

    @extend_schema(request=ReviewDeputyWriteSerializer, responses=ReviewDeputySerializer)
    def create(self, request):
        from accounts.models import User
        from moderation.services import deputies

        data = _data(ReviewDeputyWriteSerializer, request)
        org = _organization(request.user, data["organization"], prefer=(Role.PRINCIPAL_LEADER,))
        users = User.objects.in_bulk([data["deputy"], data["on_behalf_of"] or 0])
        deputy = users.get(data["deputy"])
        if deputy is None:
            raise ValidationFailed(_("Unknown person."), fields={"deputy": [_("Unknown.")]})
        appointment = deputies.deputy_appoint(
            actor=request.user, organization=org, role=data["role"], deputy=deputy,
            on_behalf_of=users.get(data["on_behalf_of"]) if data["on_behalf_of"] else None,
            starts_on=data["starts_on"], ends_on=data["ends_on"], reason=data["reason"],
        )
        return Response(ReviewDeputySerializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ReviewDeputySerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        from moderation.services import deputies

        appointment = deputies.deputy_end(actor=request.user, appointment=self.get_object())
        return Response(ReviewDeputySerializer(appointment).data)
