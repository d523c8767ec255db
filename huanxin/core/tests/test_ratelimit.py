"""Fixed-window counters: slots up to the limit, nothing counted once refused, windows that end."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from huanxin.core import ratelimit
from huanxin.core.models import RateLimitCounter

pytestmark = pytest.mark.django_db


def test_slots_are_taken_up_to_the_limit_and_a_refusal_counts_nothing():
    assert [ratelimit.hit("b", limit=3, window_seconds=60) for _ in range(5)] == [True, True, True, False, False]
    assert RateLimitCounter.objects.get(key="b").count == 3
    assert 0 < ratelimit.retry_after("b", limit=3) <= 60


def test_a_released_slot_can_be_taken_again():
    for _ in range(3):
        ratelimit.hit("b", limit=3, window_seconds=60)
    ratelimit.release("b")
    assert ratelimit.retry_after("b", limit=3) == 0
    assert ratelimit.hit("b", limit=3, window_seconds=60)
    assert not ratelimit.hit("b", limit=3, window_seconds=60)


def test_an_ended_window_starts_again_and_is_purged():
    for _ in range(3):
        ratelimit.hit("b", limit=3, window_seconds=60)
    RateLimitCounter.objects.filter(key="b").update(window_ends_at=timezone.now() - datetime.timedelta(seconds=1))
    assert ratelimit.retry_after("b", limit=3) == 0
    assert ratelimit.purge_expired() == 1
    assert ratelimit.hit("b", limit=3, window_seconds=60)
    RateLimitCounter.objects.filter(key="b").update(window_ends_at=timezone.now() - datetime.timedelta(seconds=1))
    assert ratelimit.hit("b", limit=3, window_seconds=60)
    assert RateLimitCounter.objects.get(key="b").count == 1


def test_reset_forgets_the_bucket():
    ratelimit.hit("b", limit=1, window_seconds=60)
    ratelimit.reset("b")
    assert ratelimit.hit("b", limit=1, window_seconds=60)
