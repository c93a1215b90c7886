"""Pages: sign-in, home, the organization tree, roles and people."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from accounts import selectors, services
from accounts.forms import PasswordChangeForm, SignInForm
from accounts.models import Organization
from accounts.passwords import change_required
from accounts.scoping import (
    Action,
    Domain,
    get_visible_or_404,
    memberships_of,
    roles_of,
    scope_for,
)
from common.errors import ApplicationError
from common.pii import mask_phone


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    authentication_form = SignInForm


@login_required
def password_change(request):
    """Self-service password change; also where the forced change leads."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ApplicationError as exc:
            for field, texts in exc.fields.items():
                for text in texts:
                    form.add_error(field if field in form.fields else None, text)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password has been changed."))
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = ""
            return redirect(target or "home")
    context = {
        "form": form,
        "forced": change_required(request.user),
        "help_texts": password_validators_help_texts(),
    }
    return render(request, "accounts/password_change.html", context)


def lockout_response(request, credentials, *args, **kwargs):
    """What axes answers once a username has failed 5 times in 15 minutes."""
    from django.http import JsonResponse

    message = _(
        "Too many failed sign-in attempts. This account is locked for 15 minutes; "
        "try again later or ask your security administrator."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "locked_out", "detail": message}, status=429)
    return render(request, "accounts/locked_out.html", {"message": message}, status=429)


@login_required
def home(request):
    """The workbench (工作台): the to-do cards the apps register for the user's roles
    (common.workbench), each linking to the filtered list behind its count."""
    from common.workbench import cards_for

    memberships = memberships_of(request.user)
    business = scope_for(request.user, Action.VIEW, Domain.BUSINESS)
    context = {
        "cards": cards_for(request.user),
        "memberships": memberships,
        "scope_roots": selectors.organization_roots(request.user),
        "has_business": not business.is_empty,
    }
    return render(request, "accounts/home.html", context)


@login_required
def org_tree(request):
    text = request.GET.get("q", "").strip()[:60]
    context = {
        "roots": selectors.organization_roots(request.user),
        "query": text,
        "results": selectors.organization_search(request.user, text) if text else None,
    }
    return render(request, "accounts/org_tree.html", context)


@login_required
def org_detail(request, pk: int):
    org = get_visible_or_404(Organization.objects.get_queryset(), request.user, pk=pk)
    children = Paginator(selectors.organization_children(request.user, org), 100)
    page = children.get_page(request.GET.get("page"))
    if request.GET.get("fragment") == "children":
        # The tree page expands a node by fetching this fragment (static/js/app.js).
        return render(request, "accounts/_org_children.html", {"org": org, "children": page})
    revealed = {}
    if request.method == "POST" and request.POST.get("reveal_phone", "").isdigit():
        from accounts.models import Membership

        member = Membership.objects.active().filter(
            organization=org, user_id=int(request.POST["reveal_phone"])
        ).select_related("user").first()
        if member is None:
            raise Http404
        try:
            revealed[member.user_id] = services.phone_reveal(actor=request.user, user=member.user)
        except ApplicationError as exc:
            if exc.status == 404:
                raise Http404 from exc
            raise
    members = list(selectors.members_of(request.user, org))
    for m in members:
        m.phone_shown = revealed.get(m.user_id) or mask_phone(m.user.phone)
        m.phone_revealed = m.user_id in revealed
    context = {
        "org": org,
        "breadcrumb": selectors.ancestors_visible(request.user, org),
        "children": page,
        "members": members,
        "can_see_access": scope_for(request.user, Action.VIEW, Domain.ACCESS).contains(org),
    }
    return render(request, "accounts/org_detail.html", context)


MEMBERSHIP_SORTS = {
    "person": ("user__username", "organization__path"),
    "role": ("role", "organization__path"),
    "organization": ("organization__path", "role"),
    "since": ("started_on", "id"),
    "until": ("ended_on", "id"),
}


def _membership_filters(user, params):
    from accounts.models import Role

    role = params.get("role", "")
    role = role if role in Role.values else ""
    active = params.get("active", "1")
    qs = selectors.memberships_visible(user)
    if role:
        qs = qs.filter(role=role)
    if active in {"0", "1"}:
        qs = qs.filter(is_active=active == "1")
    return qs, role, active


@login_required
def membership_list(request):
    from common.listing import PAGE_SIZES, paginate, sort_key

    if scope_for(request.user, Action.VIEW, Domain.ACCESS).is_empty:
        raise Http404
    qs, role, active = _membership_filters(request.user, request.GET)
    sort, order = sort_key(request, MEMBERSHIP_SORTS, "organization")
    page = paginate(request, qs.order_by(*order))
    from accounts.models import Role

    return render(
        request,
        "accounts/membership_list.html",
        {
            "page": page,
            "page_sizes": PAGE_SIZES,
            "sort": sort,
            "roles": Role.choices,
            "role": role,
            "active": active,
            "filter_query": urlencode({"role": role, "active": active}),
            "violations": list(selectors.separation_violations(request.user)),
        },
    )


@login_required
def membership_export(request):
    """Roles and people as XLSX (default) or CSV (common/exports.py)."""
    from common import exports

    if scope_for(request.user, Action.EXPORT, Domain.ACCESS).is_empty:
        raise Http404
    try:
        return exports.respond(
            request, "memberships", request.GET, request.GET.get("file_format", "xlsx")
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("accounts:membership_list")


def memberships_table(user, params):
    """The roles-and-people export (the "memberships" export kind)."""
    from accounts.models import Role
    from common import exports
    from common.errors import NotFound
    from common.exports import Column, Table

    if scope_for(user, Action.EXPORT, Domain.ACCESS).is_empty:
        raise NotFound(_("Not found."))
    qs, _role, _active = _membership_filters(user, params)
    qs = qs.filter(
        pk__in=selectors.memberships_visible(user, Action.EXPORT).values("pk")
    ).order_by("organization__path", "role", "user__username")
    rows = qs.values_list(
        "user__username", "user__display_name", "role", "organization__name",
        "is_active", "started_on", "ended_on", "agreement_signed_on",
        "agreement_document",
    )
    return Table(
        title=_("Roles and people"),
        columns=[
            Column(_("Username"), width=20), Column(_("Display name"), width=16),
            Column(_("Role"), labels=dict(Role.choices), width=16),
            Column(_("Organization"), width=30), Column(_("Active"), "bool"),
            Column(_("Since"), "date"), Column(_("Until"), "date"),
            Column(_("Confidentiality agreement signed on"), "date", width=16),
            Column(_("Confidentiality agreement document"), width=24),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT, Domain.ACCESS),
    )


def _next_url(request) -> str:
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return ""
    return target


@login_required
def otp_enrol(request):
    """Enrol an authenticator app: scan the QR code (or type the key), confirm with a
    code, keep the recovery codes shown once."""
    from accounts import second_factor

    if request.user.is_verified() and request.method == "GET" and "again" not in request.GET:
        return redirect(_next_url(request) or "home")
    device = second_factor.pending_device(request.user)
    error = ""
    if request.method == "POST":
        try:
            codes = second_factor.second_factor_enrol(
                request=request, user=request.user, code=request.POST.get("code", "")
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            return render(
                request,
                "accounts/otp_recovery_codes.html",
                {"codes": codes, "next": _next_url(request) or "/"},
            )
    context = {
        "qr_svg": second_factor.qr_svg(device),
        "secret": second_factor.secret_base32(device),
        "error": error,
    }
    return render(request, "accounts/otp_enrol.html", context)


@login_required
def otp_verify(request):
    """The second step of signing in: a code from the app or a recovery code."""
    from accounts import second_factor

    if request.user.is_verified():
        return redirect(_next_url(request) or "home")
    if not second_factor.has_second_factor(request.user):
        return redirect("accounts:otp_enrol")
    error = ""
    if request.method == "POST":
        try:
            second_factor.second_factor_verify(
                request=request, user=request.user, code=request.POST.get("code", "")
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            return redirect(_next_url(request) or "home")
    return render(request, "accounts/otp_verify.html", {"error": error})


@login_required
def second_factor_rules(request):
    """The security administrator decides which business roles sign in with a second
    factor (administrators always do)."""
    from accounts import second_factor
    from accounts.models import Role

    if Role.SECURITY_ADMIN not in roles_of(request.user):
        raise Http404
    if request.method == "POST":
        try:
            second_factor.second_factor_rule_set(
                actor=request.user, role=request.POST.get("role", ""),
                required=request.POST.get("required") == "1",
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The second-factor rule was saved."))
        return redirect("accounts:second_factor_rules")
    return render(request, "accounts/second_factor_rules.html",
                  {"rows": second_factor.rule_rows()})
