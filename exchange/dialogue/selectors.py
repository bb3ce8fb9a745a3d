"""Reads of the dialogue on a match: its thread and each organisation's read state.

The match itself comes from ``exchange.matching.selectors.match_list`` (the rules of
``exchange.access``); these reads take a match or a queryset the caller resolved there.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, DateTimeField, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import Organisation
from accounts.tenancy import Actor, through_access
from exchange.models import Match, Message
from exchange.models.matching import MatchRead

# Earlier than any message: "never read" compares as read before everything.
EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


@through_access("the thread and read state of matches resolved through exchange.access")
def message_list(*, actor: Actor, match: Match) -> QuerySet[Message]:
    """The thread of a match the actor can see (the caller resolved it through match_list)."""
    return match.messages.select_related("organisation", "author")


def last_read_at(*, match: Match, organisation: Organisation) -> datetime.datetime | None:
    """When the organisation last opened the match (None if it never did)."""
    return MatchRead.objects.filter(match=match, organisation=organisation).values_list("read_at", flat=True).first()


@through_access("the thread and read state of matches resolved through exchange.access")
def with_read_state(matches: QuerySet[Match], *, organisation: Organisation) -> QuerySet[Match]:
    """Annotate ``last_read`` (when the organisation last opened the match, or None) and
    ``unread`` (the other government's messages since then): two correlated subqueries."""
    last_read = MatchRead.objects.filter(match=OuterRef("pk"), organisation=organisation).values("read_at")[:1]
    unread = (
        Message.objects.filter(match=OuterRef("pk"))
        .exclude(organisation=organisation)
        .filter(created_at__gt=Coalesce(OuterRef("last_read"), Value(EPOCH, output_field=DateTimeField())))
        .order_by()
        .values("match")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return matches.annotate(last_read=Subquery(last_read, output_field=DateTimeField())).annotate(
        unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0)
    )
