from accounts.navigation import nav_for
from accounts.scoping import memberships_of


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = nav_for(user)
    # The current section is the longest item URL the path starts with ("/" only
    # matches itself), so "/accounts/orgs/5/" highlights "Organizations".
    path = request.path
    matches = [
        i
        for i in items
        if i["url"] == path or (i["url"] != "/" and path.startswith(i["url"]))
    ]
    current = max(matches, key=lambda i: len(i["url"]), default=None)
    items = [{**i, "current": i is current} for i in items]
    return {"nav_items": items, "my_memberships": memberships_of(user)}
