"""The ledger's two rules every reader of outcome figures shares (docs/outcomes.md).

* **Corrections.** An entry is never changed: a correction is a new entry whose
  ``corrects`` names the one it replaces. The figures count only the *effective*
  entries, those no other entry corrects (the last of each chain); the history
  lists them all.
* **Small cells.** A count of fewer than ``SMALL_CELL`` people is shown as
  ``"<5"`` in open data and wherever figures reach anyone other than the two
  governments of the scheme and the agencies, so that a small corridor never
  identifies a worker.
"""

from __future__ import annotations

from django.db.models import QuerySet

from exchange.models import OutcomeEntry

SMALL_CELL = 5
SMALL_CELL_LABEL = "<5"


def effective_entries(entries: QuerySet[OutcomeEntry]) -> QuerySet[OutcomeEntry]:
    """The entries no other entry corrects: what every total counts."""
    return entries.filter(corrections__isnull=True)


def small_cell(count: int | None) -> int | str | None:
    """A count as it may reach a reader outside the scheme's two governments and the agencies."""
    if count is None:
        return None
    return SMALL_CELL_LABEL if 0 < count < SMALL_CELL else count
