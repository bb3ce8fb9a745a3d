from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.selectors import memberships_of_user


def current_organisation(request: HttpRequest) -> dict[str, Any]:
    """The organisation switcher's data for the page header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = memberships_of_user(user=user)
    chosen = request.session.get("corridor_organisation")
    current = next(
        (m for m in memberships if str(m.organisation_id) == chosen), memberships[0] if memberships else None
    )
    return {"memberships": memberships, "current_membership": current}
