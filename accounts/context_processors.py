from accounts.scoping import memberships_of
from common import navigation as nav


def navigation(request):
    """The menus of base.html (common.navigation) and the user's roles."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": None}
    return {"nav": nav.build(user, request.path), "my_memberships": memberships_of(user)}
