from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from notifications.models import Notification
from notifications.services import notification_mark_read


@login_required
def notification_list(request):
    qs = Notification.objects.for_user(request.user).select_related("organization")
    if request.GET.get("unread") == "1":
        qs = qs.unread()
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page, "unread_only": request.GET.get("unread") == "1"})


@login_required
@require_POST
def notification_read(request):
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    notification_mark_read(user=request.user, ids=ids)
    return redirect("notifications:list")
