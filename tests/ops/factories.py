"""Rows of the task outbox, as a committed change writes them."""

from __future__ import annotations

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from exchange.models import OutboxTask


class OutboxTaskFactory(DjangoModelFactory):
    class Meta:
        model = OutboxTask

    task = "corridor.ping"
    next_attempt_at = factory.LazyFunction(timezone.now)
