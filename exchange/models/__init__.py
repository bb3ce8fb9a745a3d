from exchange.models.matching import Match, MatchState, Message
from exchange.models.partnerships import (
    DocumentType,
    MemberState,
    Partnership,
    PartnershipDocument,
    PartnershipKind,
    PartnershipMember,
    PartnershipStatus,
)

__all__ = [
    "DocumentType",
    "Match",
    "MatchState",
    "MemberState",
    "Message",
    "Partnership",
    "PartnershipDocument",
    "PartnershipKind",
    "PartnershipMember",
    "PartnershipStatus",
]
