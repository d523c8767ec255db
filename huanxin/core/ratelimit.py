"""Fixed-window attempt counters in the database, for sign-in attempts and one-time codes.

A counter is one row per bucket. Taking a slot is a guarded ``UPDATE … WHERE count < limit``, so however
many requests race, at most ``limit`` of them get a slot in a window: the database serialises the updates
of one row. (The cache's ``incr`` is a read-then-write in the file cache of the embedded default, which let
concurrent guesses past the limit.) Callers take the slot *before* doing the work being limited.
"""

from __future__ import annotations

import datetime
import ipaddress
import math

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from huanxin.core.models import RateLimitCounter


def hit(bucket: str, *, limit: int, window_seconds: int) -> bool:
    """Take one slot in ``bucket``; ``False`` (and nothing counted) when the window's ``limit`` is used up.

    The window starts with the first attempt and lasts ``window_seconds``; the next attempt after it starts
    a new one.
    """
    now = timezone.now()
    live = RateLimitCounter.objects.filter(key=bucket, window_ends_at__gt=now)
    if live.filter(count__lt=limit).update(count=F("count") + 1):
        return True
    if live.exists():
        return False
    if limit < 1:
        return False
    ends_at = now + datetime.timedelta(seconds=window_seconds)
    # Restarting a finished window is guarded too: of two racing restarts only one matches the old window.
    if RateLimitCounter.objects.filter(key=bucket, window_ends_at__lte=now).update(count=1, window_ends_at=ends_at):
        return True
    try:
        with transaction.atomic():
            RateLimitCounter.objects.create(key=bucket, count=1, window_ends_at=ends_at)
    except IntegrityError:
        # Another request created the row first: take a slot in its window like any other attempt.
        return bool(live.filter(count__lt=limit).update(count=F("count") + 1))
    return True


def release(bucket: str) -> None:
    """Give back one slot taken by :func:`hit` (the attempt turned out not to count, e.g. it succeeded)."""
    RateLimitCounter.objects.filter(key=bucket, count__gt=0, window_ends_at__gt=timezone.now()).update(
        count=F("count") - 1
    )


def retry_after(bucket: str, *, limit: int) -> int:
    """Seconds until ``bucket`` takes attempts again; 0 when it takes them now."""
    now = timezone.now()
    ends_at = (
        RateLimitCounter.objects.filter(key=bucket, window_ends_at__gt=now, count__gte=limit)
        .values_list("window_ends_at", flat=True)
        .first()
    )
    return 0 if ends_at is None else max(1, math.ceil((ends_at - now).total_seconds()))


def reset(bucket: str) -> None:
    RateLimitCounter.objects.filter(key=bucket).delete()


def purge_expired() -> int:
    """Delete counters whose window has ended (a finished window counts nothing); returns how many."""
    deleted, _ = RateLimitCounter.objects.filter(window_ends_at__lte=timezone.now()).delete()
    return deleted


def client_ip(request: HttpRequest) -> str:
    """The address per-source limits are keyed by.

    ``REMOTE_ADDR`` unless ``HUANXIN_CLIENT_IP_HEADER`` names the header a trusted reverse proxy sets; a
    client can write any header, so it is never read when the setting is empty. Of a list
    (``X-Forwarded-For``) the right-most entry counts: the trusted proxy appends the address it saw, and
    everything before it came from the client. An IPv6 client is keyed by its /64 network, which one
    subscriber usually holds whole.
    """
    address = request.META.get("REMOTE_ADDR") or ""
    header = settings.HUANXIN_CLIENT_IP_HEADER
    if header:
        key = header.upper().replace("-", "_")
        value = request.META.get(key if key.startswith("HTTP_") else f"HTTP_{key}", "")
        forwarded = value.split(",")[-1].strip() if value else ""
        if _parse(forwarded) is not None:
            address = forwarded
    parsed = _parse(address)
    if parsed is None:
        return "unknown"
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
