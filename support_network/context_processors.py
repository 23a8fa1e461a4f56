"""Template context: the user's memberships for the organisation switcher."""

from support_network.selectors import memberships_of


def acting_organisation(request):
    """Return the user's memberships and the one acted through in the UI."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = list(memberships_of(user))
    code = request.session.get("organisation")
    current = next((m for m in memberships if m.organisation.code == code), None)
    if current is None and memberships:
        current = memberships[0]
    return {"memberships": memberships, "current_membership": current}
