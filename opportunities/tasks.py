"""Celery adapters for listings: thin, id-based, calling a service."""

from celery import shared_task

from opportunities.services import listings_expire


@shared_task(name="opportunities.expire_listings", queue="maintenance")
def expire_listings() -> int:
    return listings_expire()
