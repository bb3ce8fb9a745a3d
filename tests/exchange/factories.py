"""Factories for subscriptions, channels, events, deliveries and inbox items.

Rows the delivery engine would write (events, deliveries, inbox items) are made
directly here, so tests of the reading side need no worker.
"""

from __future__ import annotations

import base64
import secrets

import factory
from factory.django import DjangoModelFactory

from exchange.models import Channel, ChannelType, Delivery, DeliveryStatus, Event, Notification, Subscription


class SubscriptionFactory(DjangoModelFactory):
    class Meta:
        model = Subscription

    name = factory.Sequence(lambda n: f"Saved search {n}")


class ChannelFactory(DjangoModelFactory):
    class Meta:
        model = Channel

    subscription = factory.SubFactory(SubscriptionFactory)
    organisation = factory.SelfAttribute("subscription.organisation")
    type = ChannelType.INBOX


class WebhookChannelFactory(ChannelFactory):
    type = ChannelType.WEBHOOK
    url = factory.Sequence(lambda n: f"https://hooks.partner.example/corridor/{n}")
    secret = factory.LazyFunction(lambda: "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())


class FeedChannelFactory(ChannelFactory):
    type = ChannelType.FEED
    feed_token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))


class EventFactory(DjangoModelFactory):
    class Meta:
        model = Event

    type = "listing.published"
    data = factory.Sequence(lambda n: {"title": f"Scheme {n}", "url": f"https://corridor.example/listings/{n}/"})


class DeliveryFactory(DjangoModelFactory):
    class Meta:
        model = Delivery

    event = factory.SubFactory(EventFactory)
    channel = factory.SubFactory(ChannelFactory)
    subscription = factory.SelfAttribute("channel.subscription")
    organisation = factory.SelfAttribute("channel.organisation")
    status = DeliveryStatus.SENT


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    delivery = factory.SubFactory(DeliveryFactory)
    organisation = factory.SelfAttribute("delivery.organisation")
    event = factory.SelfAttribute("delivery.event")
