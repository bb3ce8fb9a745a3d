from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.access import can_act_in_standing, is_moderator
from accounts.tenancy import tenant_scope
from config.web import web_actor, web_memberships

# (url name, label, who sees it): "member" = anyone acting for an organisation;
# "moderator" = an agency's moderators (the only ones the moderation pages admit);
# "everyone" = signed in or not.
NAVIGATION = [
    ("dashboard", _("Dashboard"), "member"),
    ("opportunities:listings", _("Listings"), "member"),
    ("opportunities:moderation", _("Moderation"), "moderator"),
    ("organisation-moderation", _("Verification"), "moderator"),
    ("exchange:matches", _("Matches"), "member"),
    ("exchange:partnerships", _("Partnerships"), "member"),
    ("exchange:suggestion-list", _("Suggestions"), "member"),
    ("exchange:profile-list", _("Migration profiles"), "member"),
    ("exchange:corridor-list", _("Corridors"), "member"),
    ("exchange:subscriptions", _("Alerts"), "member"),
    ("exchange:inbox", _("Inbox"), "member"),
    ("accounts:organisation", _("Organisation"), "admin"),
    ("public:listings", _("Public listings"), "anonymous"),
    ("exchange:public-profile-list", _("Public migration profiles"), "anonymous"),
    ("exchange:statistics", _("Statistics"), "everyone"),
    ("exchange:open-data", _("Open data"), "everyone"),
]


def current_organisation(request: HttpRequest) -> dict[str, Any]:
    """The header: organisation switcher, navigation for the actor, unread inbox count."""
    actor = web_actor(request)
    audience = {"everyone", "anonymous" if actor.organisation is None else "member"}
    if is_moderator(actor):
        audience.add("moderator")
    if actor.is_admin:
        audience.add("admin")
    nav = []
    for name, label, who in NAVIGATION:
        if who not in audience:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # a screen not installed (yet): leave it out
            continue
        current = request.path == url or (url != "/" and request.path.startswith(url))
        nav.append({"name": name, "url": url, "label": label, "current": current})
    # One current item: the longest matching address (/moderation/organisations/ is not /moderation/).
    current_items = sorted((item for item in nav if item["current"]), key=lambda item: len(str(item["url"])))
    for item in current_items[:-1]:
        item["current"] = False
    # The banner of a pending or suspended organisation: what its members cannot do, and why.
    standing = can_act_in_standing(actor)
    context: dict[str, Any] = {"nav": nav, "actor": actor, "standing_refusal": "" if standing else standing.reason}
    if actor.organisation is not None:
        from exchange.notifications.selectors import notification_unread_count

        memberships = web_memberships(request)
        current_membership = next((m for m in memberships if m.organisation_id == actor.organisation.pk), None)
        with tenant_scope(actor):
            unread = notification_unread_count(actor=actor)
        context.update(memberships=memberships, current_membership=current_membership, unread_count=unread)
    elif request.user.is_authenticated:
        context.update(memberships=[], current_membership=None)
    return context
