"""Fixed-window counters in the shared cache, for sign-in attempts and one-time codes."""

from __future__ import annotations

from django.core.cache import cache


def hit(bucket: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt in ``bucket``; ``True`` while the count is within ``limit``."""
    key = f"ratelimit:{bucket}"
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    return count <= limit


def is_blocked(bucket: str, *, limit: int) -> bool:
    """Whether ``bucket`` already passed its limit (without counting a new attempt)."""
    count = cache.get(f"ratelimit:{bucket}", 0)
    return bool(count >= limit)


def reset(bucket: str) -> None:
    cache.delete(f"ratelimit:{bucket}")
