from accounts.navigation import nav_for
from accounts.scoping import memberships_of


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    return {"nav_items": nav_for(user), "my_memberships": memberships_of(user)}
