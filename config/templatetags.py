"""Template helpers for every page: ``{% load corridor %}``.

Django's own ``{% querystring %}`` keeps the other query parameters in links.
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def choice_label(value: Any, choices: Any) -> Any:
    """The display label of ``value`` in a TextChoices class or a list of pairs."""
    pairs = getattr(choices, "choices", choices) or []
    return dict(pairs).get(value, value)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` in a template, or None."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag(takes_context=True)
def listing_text(context: Any, listing: Any) -> Any:
    """``{% listing_text listing as text %}``: the listing's text in the reader's language, or the
    authoritative text (``opportunities.translations.DisplayText``: ``text.title``, ``text.attrs``…)."""
    from opportunities.translations import for_request

    return for_request(context.get("request"), listing)
