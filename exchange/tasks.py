"""Celery adapters for the exchange: take ids, call a service."""

from celery import shared_task

from exchange.matching import listing_match


@shared_task(name="exchange.match_listing", queue="matching", autoretry_for=(ConnectionError,), retry_backoff=True)
def match_listing(listing_id: str) -> int:
    return listing_match(listing_id)
