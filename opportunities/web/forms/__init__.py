"""Forms of the members' listing pages, one module per concern.

* ``search``: ``ListingSearchFilter``, the API's ``ListingFilter`` with pickers and
  labels for people, so a search finds the same listings on the page, in the CSV and
  through ``GET /api/v1/listings/``.
* ``listing``: ``ListingForm``, the listing's own fields, in the sections of the page.
* ``rows``: the formsets of the listing's lists (occupation lines with their
  languages, allocations per origin country, stay rules per country).
* ``editor``: ``ListingEditor``, the form and its formsets together: it turns what
  was typed into the write body and validates it with
  ``opportunities.inputs.ListingWriteSerializer``, putting each error on its field.
* ``workflow``: ``ReasonForm``, the reason given with a workflow step.
* ``fields``: widgets, field builders and reference choices the others share.

Import from the module itself (``from opportunities.web.forms.editor import
ListingEditor``); this package re-exports nothing.
"""
