"""Short-lived per-process memory for values that hot paths read on every call and that change rarely
(published rule sets, budget slice ids, claim rounds)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_caches: dict[str, dict[Any, tuple[float, Any]]] = {}


def cached(name: str, key: Any, ttl: float, load: Callable[[], T]) -> T:
    """``load()``'s value for ``key``, loaded again at most every ``ttl`` seconds per process."""
    entries = _caches.setdefault(name, {})
    now = time.monotonic()
    entry = entries.get(key)
    if entry is None or now - entry[0] > ttl:
        entry = entries[key] = (now, load())
    value: T = entry[1]
    return value


def forget(name: str, key: Any) -> None:
    """Drop one remembered value, after a change made in this process that must be seen at once."""
    _caches.get(name, {}).pop(key, None)


def clear() -> None:
    """Forget everything (tests, and after changes in the same process)."""
    _caches.clear()
