"""Celery adapters for accounts: take ids, call a service."""

from celery import shared_task


@shared_task(name="accounts.send_email", queue="email")
def send_email(email_id: str) -> str:
    """One e-mail of the outbox (accounts.mail); failures are retried by the sweeper, from the database."""
    from accounts.mail import email_send

    return email_send(email_id)
