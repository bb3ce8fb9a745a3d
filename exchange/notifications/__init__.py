"""Notifications: who receives what (``events``, the outbox and fan-out), the delivery
engine (``delivery``), its channels (``webhooks``, ``emails``), and the subscriptions,
inbox and delivery log an organisation manages (``services``, ``selectors``)."""
