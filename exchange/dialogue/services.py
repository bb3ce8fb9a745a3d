"""Writes for the exchange: expressions of interest, the dialogue, and its outcome.

Only the two governments of a match act on it (the views resolve the match
through ``match_visible_to``, so anyone else has met a 404 already); among their
members, admins and officials act, viewers read. Raises PermissionDenied (403),
StateConflict (409) and ValidationError (400).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from accounts.tenancy import Actor, through_access
from exchange import access
from exchange.models import Match, MatchState, Message
from exchange.models.matching import MatchRead

# Outbox hooks (notifications) run inside the transaction: (match, event, acting organisation id).
MATCH_OUTBOX: list[Callable[[Match, str, str], None]] = []


def _after_commit(match: Match, event: str, actor: Actor) -> None:
    for outbox in MATCH_OUTBOX:
        outbox(match, event, str(actor.org.pk))


def _locked(match: Match) -> Match:
    return Match.objects.select_for_update().get(pk=match.pk)


def _clean(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"message": _("Write a message.")})
    if len(body) > 10_000:
        raise ValidationError({"message": _("Keep a message under 10,000 characters.")})
    return body


@through_access("a service acts on a match its caller resolved through exchange.access")
@transaction.atomic
def match_express_interest(*, actor: Actor, match: Match, message: str) -> Match:
    """Either government says it wants to pursue a suggested match; the message opens the thread."""
    access.can_take_part(actor, match).check()
    body = _clean(message)
    match = _locked(match)
    access.can_express_interest(actor, match).check()
    match.state = MatchState.INTEREST_EXPRESSED
    match.interest_by = actor.organisation
    match.save(update_fields=["state", "interest_by", "updated_at"])
    Message.objects.create(match=match, organisation=actor.org, author=actor.user, body=body)
    audit_record(actor=actor, action="match.interest_expressed", obj=match)
    _after_commit(match, "interest.expressed", actor)
    return match


@through_access("a service acts on a match its caller resolved through exchange.access")
@transaction.atomic
def match_post_message(*, actor: Actor, match: Match, message: str) -> Message:
    """Add to the thread. The other party's first reply moves the match into dialogue."""
    access.can_take_part(actor, match).check()
    body = _clean(message)
    match = _locked(match)
    access.can_message(actor, match).check()
    if match.state == MatchState.INTEREST_EXPRESSED and actor.org.pk != match.interest_by_id:
        match.state = MatchState.IN_DIALOGUE
        match.save(update_fields=["state", "updated_at"])
    posted = Message.objects.create(match=match, organisation=actor.org, author=actor.user, body=body)
    audit_record(actor=actor, action="match.message_posted", obj=match)
    _after_commit(match, "message.posted", actor)
    return posted


@through_access("a service acts on a match its caller resolved through exchange.access")
@transaction.atomic
def match_decide(*, actor: Actor, match: Match, accept: bool, reason: str = "") -> Match:
    """Accept or decline: only the party that did not express interest decides."""
    access.can_take_part(actor, match).check()
    match = _locked(match)
    access.can_decide(actor, match).check()
    match.state = MatchState.AGREED if accept else MatchState.DECLINED
    match.decided_by = actor.organisation
    match.decision_reason = (reason or "").strip()[:5000]
    match.save(update_fields=["state", "decided_by", "decision_reason", "updated_at"])
    audit_record(
        actor=actor,
        action="match.accepted" if accept else "match.declined",
        obj=match,
        changes={"reason": match.decision_reason} if match.decision_reason else {},
    )
    _after_commit(match, "match.accepted" if accept else "match.declined", actor)
    return match


def match_mark_read(*, actor: Actor, match: Match) -> None:
    """Record that the actor's organisation has read the match and its thread, now.

    Called when one of its members opens the match (the view found it through
    ``match_visible_to``, so the organisation is one of its two governments). Viewers
    read too. One upsert; no audit row (reading changes nothing for anyone else).
    """
    if not access.is_party(actor, match):
        return
    MatchRead.objects.bulk_create(
        [MatchRead(match=match, organisation=actor.organisation, read_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["match", "organisation"],
        update_fields=["read_at"],
    )
