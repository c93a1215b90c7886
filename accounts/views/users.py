"""Sign-ins and roles in the browser, for the security administrator (系统管理 >
用户管理): list, create (with the first role), deactivate and reactivate, grant and
end roles, lift a sign-in lockout. Every change goes through accounts.services (or
accounts.lockout.lockout_clear) and is audited there; these views only collect input
and show the services' refusals beside the field they concern."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import selectors, services
from accounts.forms import MembershipGrantForm, UserCreateForm
from accounts.lockout import lockout_clear
from accounts.models import Role
from accounts.scoping import Action, Domain, scope_for
from common.errors import ApplicationError
from common.listing import PAGE_SIZES, paginate, sort_key

SORTS = {
    "username": ("username", "pk"),
    "name": ("display_name", "username"),
    "last_login": ("last_login", "pk"),
    "joined": ("date_joined", "pk"),
}
STATUSES = (
    ("active", gettext_lazy("Active")),
    ("inactive", gettext_lazy("Deactivated")),
    ("locked", gettext_lazy("Locked out")),
)


def _require_access(user, action: Action = Action.VIEW) -> None:
    # Only the security administrator holds the access domain; for everyone else
    # these pages do not exist.
    if scope_for(user, action, Domain.ACCESS).is_empty:
        raise Http404


def _filters(params) -> dict:
    org = str(params.get("organization", ""))
    status = str(params.get("status", ""))
    return {
        "text": str(params.get("q", "")).strip()[:60],
        "role": str(params.get("role", ""))
        if params.get("role") in Role.values
        else "",
        "status": status if status in dict(STATUSES) else "",
        "organization_id": int(org) if org.isdigit() else None,
    }


def _apply_errors(form, exc: ApplicationError) -> None:
    """A service's refusal beside the field it names, else above the form."""
    placed: set[str] = set()
    for field, texts in (exc.fields or {}).items():
        if field in form.fields:
            for text in texts:
                form.add_error(field, text)
                placed.add(str(text))
    # The message says why (the agreement an outsourced operator needs, the roles a
    # person already holds), unless a field already shows it word for word.
    if str(exc.message) not in placed:
        form.add_error(None, exc.message)


@login_required
def user_list(request):
    _require_access(request.user)
    filters = _filters(request.GET)
    sort, order = sort_key(request, SORTS, "username")
    qs = selectors.user_list(request.user, **filters).order_by(*order)
    page = paginate(request, qs)
    export = request.GET.copy()
    export.pop("page", None)
    export.pop("per_page", None)
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": page,
            "page_sizes": PAGE_SIZES,
            "sort": sort,
            "filters": filters,
            "roles": Role.choices,
            "statuses": STATUSES,
            "export_query": export.urlencode(),
            "can_change": not scope_for(
                request.user, Action.CHANGE, Domain.ACCESS
            ).is_empty,
        },
    )


@login_required
def user_export(request):
    """The filtered list as XLSX or CSV (common/exports.py)."""
    from common import exports

    _require_access(request.user, Action.EXPORT)
    try:
        return exports.respond(
            request, "users", request.GET, request.GET.get("file_format", "xlsx")
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("accounts:user_list")


def users_table(user, params):
    """The people export (registered as the "users" export kind)."""
    from common import exports
    from common.errors import NotFound
    from common.exports import Column, Table

    if scope_for(user, Action.EXPORT, Domain.ACCESS).is_empty:
        raise NotFound(_("Not found."))
    qs = selectors.user_list(user, **_filters(params)).order_by("username", "pk")
    role_labels = dict(Role.choices)

    def rows():
        for u in qs.iterator(chunk_size=500):
            roles = "；".join(
                f"{m.organization.name} {role_labels.get(m.role, m.role)}"
                for m in u.visible_roles
            )
            yield (
                u.username,
                u.display_name,
                u.email,
                roles,
                u.is_active,
                u.locked,
                u.last_login,
                u.date_joined,
            )

    return Table(
        title=_("Users"),
        columns=[
            Column(_("Username"), width=20),
            Column(_("Display name"), width=16),
            Column(_("E-mail"), width=24),
            Column(_("Roles"), width=50),
            Column(_("Active"), "bool"),
            Column(_("Locked out"), "bool"),
            Column(_("Last sign-in"), "datetime", width=20),
            Column(_("Created"), "datetime", width=20),
        ],
        rows=rows(),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT, Domain.ACCESS),
    )


@login_required
def user_create(request):
    _require_access(request.user, Action.CHANGE)
    form = UserCreateForm.searching(
        request, actor=request.user, keep=("username", "display_name", "email")
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.user_enrol(
                actor=request.user,
                organization=data["organization"],
                username=data["username"],
                password=data["password"],
                role=data["role"],
                display_name=data["display_name"],
                email=data["email"],
                agreement_signed_on=data["agreement_signed_on"],
                agreement_document=data["agreement_document"],
            )
        except ApplicationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "%(user)s was created; the temporary password must be changed at the "
                    "first sign-in."
                )
                % {"user": person},
            )
            return redirect("accounts:user_detail", pk=person.pk)
    return render(request, "accounts/user_create.html", {"form": form})


def _visible_person(request, pk: int):
    person = (
        selectors.users_visible(request.user)
        .annotate(locked=selectors.locked_out_q())
        .filter(pk=pk)
        .first()
    )
    if person is None:
        raise Http404
    return person


@login_required
def user_detail(request, pk: int):
    """One person: their roles within the jurisdiction, and the actions on them.
    POST `op`: deactivate, reactivate, unlock, end (with `membership`), grant."""
    _require_access(request.user)
    person = _visible_person(request, pk)
    granting = request.POST.get("op") == "grant"
    if request.method == "GET" or granting:
        grant_form = MembershipGrantForm.searching(request, actor=request.user)
    else:
        grant_form = MembershipGrantForm(actor=request.user)
    # The organization search (the grant form's "find") only narrows the choices.
    if request.method == "POST" and (grant_form.is_bound or not granting):
        done = _act(request, person, grant_form)
        if done:
            messages.success(request, done)
            return redirect("accounts:user_detail", pk=person.pk)
        person = _visible_person(request, pk)
    roles = (
        selectors.memberships_visible(request.user)
        .filter(user=person)
        .order_by("-is_active", "organization__path", "role")
    )
    attempts = AccessAttempt.objects.filter(username=person.username).order_by(
        "-attempt_time"
    )[:20]
    return render(
        request,
        "accounts/user_detail.html",
        {
            "person": person,
            "roles": roles,
            "attempts": attempts,
            "grant_form": grant_form,
            "can_change": not scope_for(
                request.user, Action.CHANGE, Domain.ACCESS
            ).is_empty,
        },
    )


def _act(request, person, grant_form) -> str:
    """Run the requested action; the success message, or "" after showing why not."""
    op = request.POST.get("op", "")
    try:
        if op == "deactivate":
            services.user_deactivate(actor=request.user, user=person)
            return _("The sign-in of %(user)s was deactivated.") % {"user": person}
        if op == "reactivate":
            services.user_reactivate(actor=request.user, user=person)
            return _("The sign-in of %(user)s was reactivated.") % {"user": person}
        if op == "unlock":
            lockout_clear(actor=request.user, username=person.username)
            return _("The sign-in lockout of %(user)s was lifted.") % {"user": person}
        if op == "end":
            raw = request.POST.get("membership", "")
            membership = (
                selectors.memberships_visible(request.user)
                .filter(user=person, pk=int(raw) if raw.isdigit() else 0)
                .first()
            )
            if membership is None:
                raise Http404
            services.membership_end(actor=request.user, membership=membership)
            return _("The role %(role)s in %(org)s has ended.") % {
                "role": membership.get_role_display(),
                "org": membership.organization,
            }
        if op == "grant":
            if not grant_form.is_valid():
                return ""
            data = grant_form.cleaned_data
            if not person.is_active:
                grant_form.add_error(
                    None, _("Reactivate the sign-in before granting a role.")
                )
                return ""
            m = services.membership_grant(
                actor=request.user,
                user=person,
                organization=data["organization"],
                role=data["role"],
                agreement_signed_on=data["agreement_signed_on"],
                agreement_document=data["agreement_document"],
            )
            return _("%(user)s now holds the role %(role)s in %(org)s.") % {
                "user": person,
                "role": m.get_role_display(),
                "org": m.organization,
            }
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        if op == "grant":
            _apply_errors(grant_form, exc)
        else:
            messages.error(request, exc.message)
        return ""
    messages.error(request, _("Unknown action."))
    return ""
