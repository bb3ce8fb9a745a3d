"""Match pages: list, detail with the explanation, dialogue."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def dashboard_section(request: HttpRequest) -> dict[str, Any] | None:
    """New matches and unread messages for the dashboard (config/dashboard.py)."""
    return None
