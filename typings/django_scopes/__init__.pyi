# Stubs for django-scopes 2.x, which ships no types: only what this project uses.
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models

from .exceptions import ScopeError as ScopeError

version: str

# The real function builds a Manager subclass at run time; to the type checker it is a
# plain Manager, which is what the scoped manager behaves as inside a scope.
def ScopedManager(
    _manager_class: type[models.Manager[Any]] = ..., **scopes: str
) -> models.Manager[Any]: ...
def get_scope() -> dict[str, Any]: ...
@contextmanager
def scope(**scope: Any) -> Iterator[None]: ...
@contextmanager
def scopes_disabled() -> Iterator[None]: ...
