"""Concurrent guesses with real threads on PostgreSQL: never more checks than the limit allows."""

from __future__ import annotations

import hmac
import threading
import time
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from huanxin.accounts import services
from huanxin.accounts.models import Person, PhoneChallenge, Role, User
from huanxin.conftest import PASSWORD, make_member
from huanxin.core.models import RateLimitCounter

# serialized_rollback: a plain transactional test flushes the tables and post_migrate refills the content types
# under new ids, which the serialized-rollback tests that run later (catalogue) then collide with.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]
PHONE = "13800138003"
GUESSERS = 25


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")


def race(count: int, work: Any) -> list[Any]:
    """Start ``count`` threads at the same moment; collect each result or exception."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def slow_counting(monkeypatch: Any, owner: Any, name: str) -> list[int]:
    """Count calls of ``owner.name`` and make each one slow, so that every guess is in flight at once."""
    calls: list[int] = []
    lock = threading.Lock()
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls.append(1)
        time.sleep(0.05)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def make_resident() -> User:
    user = make_member(Role.CONSUMER)
    person = Person(user=user, district_id="110105")
    person.set_phone(PHONE)
    person.save()
    return user


def test_concurrent_wrong_passwords_check_at_most_the_limit(monkeypatch, settings):
    user = make_resident()
    checks = slow_counting(monkeypatch, User, "check_password")
    written = ["13800138003", "138 0013 8003", "+8613800138003", "0086 13800138003", "86-13800138003"]

    def guess(index: int) -> int:
        return (
            Client()
            .post("/accounts/login/", {"username": written[index % len(written)], "password": f"wrong-{index}"})
            .status_code
        )

    statuses = race(GUESSERS, guess)
    assert [s for s in statuses if not isinstance(s, int)] == []
    assert len(checks) <= settings.HUANXIN_LOGIN_MAX_FAILURES
    assert statuses.count(429) >= GUESSERS - settings.HUANXIN_LOGIN_MAX_FAILURES
    assert RateLimitCounter.objects.get(key=f"signin:account:user:{user.pk}").count == (
        settings.HUANXIN_LOGIN_MAX_FAILURES
    )
    assert Client().post("/accounts/login/", {"username": PHONE, "password": PASSWORD}).status_code == 429


def test_concurrent_wrong_sms_codes_are_compared_at_most_five_times(monkeypatch, sms_outbox):
    make_resident()
    services.request_phone_code(phone=PHONE, purpose="login")
    right = PhoneChallenge.objects.filter(purpose="login").get()
    assert right.attempts == 0
    compares = slow_counting(monkeypatch, hmac, "compare_digest")

    def guess(index: int) -> Any:
        try:
            return services.sign_in_with_code(phone=PHONE, code=f"{index:06d}x")
        except Exception as exc:
            return exc

    results = race(GUESSERS, guess)
    assert all(getattr(r, "code", None) in {"code_mismatch", "code_expired"} for r in results), results
    assert len(compares) <= services.OTP_MAX_ATTEMPTS
    assert PhoneChallenge.objects.get(pk=right.pk).attempts == services.OTP_MAX_ATTEMPTS
