"""Typed readers for the environment.

Every setting that comes from the environment goes through one of these helpers,
so a bad value stops the process at start-up with a message that names the
variable and the rule, instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int_list(name: str, default: list[int], *, minimum: int = 0) -> list[int]:
    """Comma-separated integers, e.g. a retry schedule in seconds."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return list(default)
    try:
        values = [int(item) for item in raw.split(",") if item.strip()]
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be comma-separated whole numbers; got {raw!r}.") from None
    if not values or any(v < minimum for v in values):
        raise ImproperlyConfigured(f"{name} must list at least one number, each at least {minimum}; got {raw!r}.")
    return values


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as ``1000/hour``."""
    value = env_str(name, default)
    if not _RATE.match(value):
        raise ImproperlyConfigured(
            f"{name} must be a rate like 1000/hour (number/second|minute|hour|day); got {value!r}."
        )
    return value


def database_from_url(name: str, url: str) -> dict[str, object]:
    """Parse a ``postgres://`` or ``postgresql://`` URL into a Django DATABASES entry.

    Supports a Unix socket given either as a percent-encoded host or as
    ``?host=/path`` (the form the embedded server reports).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(
            f"{name} must start with postgres:// or postgresql:// (the only engine); got {parts.scheme!r}."
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgresql://user@host:5432/corridor.")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port.") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": query,
    }


def redis_url(name: str) -> str:
    value = env_str(name)
    if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(f"{name} must start with redis://, rediss:// or unix://; got {value!r}.")
    return value
