from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common import exports
from common.exports import Column, Table
from notifications.models import Notification
from notifications.services import notification_mark_read


def _notifications(user, params):
    """The user's own notifications (`unread=1`: the unread alone), newest first."""
    qs = Notification.objects.for_user(user)
    if params.get("unread") == "1":
        qs = qs.unread()
    return qs


@login_required
def notification_list(request):
    qs = _notifications(request.user, request.GET).select_related("organization")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {
        "page": page, "unread_only": request.GET.get("unread") == "1",
        "export_kind": "notifications"})


def notifications_table(user, params):
    """The user's notifications as the page lists them (the "notifications" export
    kind): a notification is its recipient's alone, so no other scope applies."""
    qs = _notifications(user, params)
    rows = qs.values_list("created_at", "organization__name", "message", "url", "read_at")
    return Table(
        title=_("Notifications"),
        columns=[
            Column(_("Time"), "datetime", width=20),
            Column(_("Organization"), width=30),
            Column(_("Message"), width=60),
            Column(_("Link"), width=30),
            Column(_("Read at"), "datetime", width=20),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user),
    )


@login_required
@require_POST
def notification_read(request):
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    notification_mark_read(user=request.user, ids=ids)
    return redirect("notifications:list")
