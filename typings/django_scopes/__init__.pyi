# Local stubs for django-scopes, which ships no types (mypy_path = "typings").
from typing import Any, TypeVar

from django.db import models

from .state import get_scope as get_scope
from .state import scope as scope
from .state import scopes_disabled as scopes_disabled

_M = TypeVar("_M", bound=models.Model)

class ScopeError(Exception): ...

class ScopedManagerType(models.Manager[_M]):
    """What ``ScopedManager(...)`` builds: a manager with an escape hatch (stub-only name)."""

    def with_scopes_disabled(self) -> models.QuerySet[_M]: ...

def ScopedManager(_manager_class: type[models.Manager[Any]] = ..., **scopes: str) -> Any: ...
