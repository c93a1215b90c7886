"""Pages: credential custody of an account and the open credential-rotation tasks."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.scoping import Action, get_visible_or_404, scope_for
from common.errors import ApplicationError
from registry import forms, selectors
from registry.lists import rotation_tasks
from registry.models import MediaAccount, RotationTask
from registry.services import custody as custody_services
from registry.views import page


@page
def rotation_list(request):
    if scope_for(request.user, Action.VIEW).is_empty:
        raise Http404
    show = "all" if request.GET.get("show") == "all" else "open"
    qs = rotation_tasks(request.user, request.GET)
    page_obj = Paginator(qs, 50).get_page(request.GET.get("page"))
    can_export = not scope_for(request.user, Action.EXPORT).is_empty
    return render(
        request,
        "registry/rotation_list.html",
        {"page": page_obj, "show": show, "form": forms.RotationDoneForm(),
         "export_kind": "rotations" if can_export else ""},
    )


@page
@require_POST
def rotation_done(request, pk: int):
    task = get_visible_or_404(RotationTask.objects.all(), request.user, Action.CHANGE, pk=pk)
    form = forms.RotationDoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the date the credentials were changed."))
        return redirect("registry:rotation_list")
    try:
        custody_services.rotation_complete(
            actor=request.user, task=task, changed_on=form.cleaned_data["changed_on"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Recorded: the credentials were changed."))
    return redirect("registry:rotation_list")


@page
def custody_edit(request, pk: int):
    account = get_visible_or_404(
        MediaAccount.objects.select_related("organization"), request.user, Action.CHANGE, pk=pk
    )
    custody = getattr(account, "custody", None) if hasattr(account, "custody") else None
    people = [
        (m.user_id, f"{m.user} ({m.user.username})")
        for m in selectors.organization_people(account.organization)
    ]
    people = list(dict(people).items())
    initial = {"holder": custody.holder_id, "last_changed_on": custody.last_changed_on} if custody else {}
    form = forms.CustodyForm(request.POST or None, initial=initial, people=people)
    if request.method == "POST" and form.is_valid():
        holder_id = form.cleaned_data["holder"]
        try:
            custody_services.custody_set(
                actor=request.user,
                account=account,
                holder=User.objects.filter(pk=holder_id).first() if holder_id else None,
                last_changed_on=form.cleaned_data["last_changed_on"],
            )
        except ApplicationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(request, _("Credential custody recorded."))
            return redirect("registry:account_detail", account.pk)
    return render(request, "registry/custody_edit.html", {"account": account, "form": form})
