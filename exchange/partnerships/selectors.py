"""Reads of partnerships and their documents, starting from the rules of ``exchange.access``.

Who sees what is decided there (``partnership_visible_to``: members, invited or
confirmed, and everyone signed in for a public partnership in force;
``partnership_documents_visible_to``: active members only). These selectors add
the joins the API and the pages render, decided up front.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.tenancy import Actor, through_access
from exchange.access import partnership_documents_visible_to, partnership_visible_to
from exchange.models import Match, Partnership, PartnershipDocument, PartnershipMember
from opportunities.access import listing_visible_to


@through_access("the grouped matches of partnerships resolved through exchange.access")
def partnership_list(*, actor: Actor) -> QuerySet[Partnership]:
    """Visible partnerships with everything the API renders, in a fixed number of queries.

    ``visible_listings`` holds only the grouped listings the actor may read itself
    (a member's draft stays the member's); ``attached_matches`` holds every grouped
    match, which the serializer narrows for non-members.
    """
    return partnership_visible_to(actor=actor).prefetch_related(
        Prefetch(
            "memberships",
            queryset=PartnershipMember.objects.select_related("organisation").order_by("invited_at", "id"),
        ),
        Prefetch("listings", queryset=listing_visible_to(actor=actor).only("id"), to_attr="visible_listings"),
        Prefetch(
            "matches",
            queryset=Match.objects.only("id", "demand_owner_id", "supply_owner_id"),
            to_attr="attached_matches",
        ),
    )


def partnership_document_list(*, actor: Actor) -> QuerySet[PartnershipDocument]:
    """Documents of the partnerships the actor's organisation is an active member of.

    Not the public readers of a public partnership: documents are members-only.
    """
    return partnership_documents_visible_to(actor=actor).select_related("uploaded_by_organisation")


def membership_of(*, actor: Actor, partnership: Partnership) -> PartnershipMember | None:
    """The actor's organisation's row in the partnership (in any state), if it has one."""
    if not actor.is_authenticated:
        return None
    return PartnershipMember.objects.filter(partnership=partnership, organisation=actor.organisation).first()
