"""Server-rendered pages for the exchange: matches, dialogue, partnerships, alerts, inbox."""
