"""The claim writes its own Idempotency-Key record (``idempotency.defer_to_view``): reserved before it writes
anything (on PostgreSQL inside its read statement), answered in the statement that issues the qualification.
The key's contract is the one every route keeps: a retry replays the stored response and never acts twice,
another body with the same key is 422, a retry while the first runs is 409, 5xx is not stored."""

from __future__ import annotations

import datetime
import json
import threading
from typing import Any
from unittest import mock

import pytest
from django.db import connection, connections
from django.db.models import QuerySet
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from huanxin.conftest import Personas, api_client_for
from huanxin.core.idempotency import STALE_PENDING, caller_scope, request_fingerprint
from huanxin.core.models import AuditEntry, IdempotencyRecord
from huanxin.policy import ledger
from huanxin.subsidies.api import CLAIM_PATH
from huanxin.subsidies.models import ClaimRefusal, Qualification
from huanxin.subsidies.tests.conftest import FRIDGE_CAP, build_scene
from huanxin.subsidies.tests.test_concurrency import assert_pools_balanced

pytestmark = pytest.mark.django_db(transaction=True)
BODY = {"programme": "cn-appliance-2026", "category": "fridge"}


def post(client: Client, key: str, body: dict[str, Any] = BODY) -> Any:
    return client.post(CLAIM_PATH, data=json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the statements folded into the claim's are PostgreSQL's; SQLite reserves as every route")


def test_the_deferred_route_is_the_claim() -> None:
    assert resolve(CLAIM_PATH).url_name is not None
    assert CLAIM_PATH.startswith("/api/")


def test_a_retried_claim_replays_the_identical_body_and_claims_once(personas: Personas) -> None:
    scene = build_scene(personas)
    client = api_client_for(scene.resident())

    first = post(client, "claim-a")
    again = post(client, "claim-a")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    qualification = Qualification.objects.get()
    assert first.json()["id"] == qualification.pk
    assert first.json()["code"] == qualification.code
    assert AuditEntry.objects.filter(action="subsidies.qualification.claim").count() == 1
    record = IdempotencyRecord.objects.get(key="claim-a")
    assert (record.state, record.status_code, bytes(record.response_body or b"")) == ("done", 201, first.content)
    assert assert_pools_balanced(scene.programme)["held"] == FRIDGE_CAP


def test_the_same_key_with_another_body_is_422_and_claims_nothing_more(personas: Personas) -> None:
    scene = build_scene(personas)
    client = api_client_for(scene.resident())
    post(client, "claim-b")

    other = post(client, "claim-b", {**BODY, "category": "tv"})

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Qualification.objects.count() == 1
    assert ClaimRefusal.objects.count() == 0


def test_a_retry_while_the_first_runs_is_409_and_claims_nothing(personas: Personas) -> None:
    scene = build_scene(personas)
    user = scene.resident()
    client = api_client_for(user)
    request = RequestFactory().post(CLAIM_PATH, data=json.dumps(BODY), content_type="application/json")
    request.user = user
    IdempotencyRecord.objects.create(
        scope=caller_scope(request), key="claim-c", request_hash=request_fingerprint(request), method="POST"
    )

    response = post(client, "claim-c")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    assert Qualification.objects.count() == 0
    assert ClaimRefusal.objects.count() == 0


def test_a_refusal_before_the_claim_reads_is_stored_and_replayed(personas: Personas) -> None:
    scene = build_scene(personas)
    client = api_client_for(scene.resident())

    first = post(client, "claim-d", {**BODY, "district": "110101"})
    again = post(client, "claim-d", {**BODY, "district": "110101"})

    assert first.status_code == again.status_code == 422
    assert first.json()["code"] == "district_mismatch"
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get(key="claim-d").state == "done"


def test_a_refused_claim_is_stored_and_replayed_without_a_second_refusal_row(personas: Personas) -> None:
    scene = build_scene(personas, budget_fen=0)
    client = api_client_for(scene.resident())

    first = post(client, "claim-e")
    again = post(client, "claim-e")

    assert first.status_code == again.status_code
    assert first.status_code in {409, 422}
    assert again.content == first.content
    assert ClaimRefusal.objects.count() == 1


def test_a_claim_that_fails_before_its_write_leaves_no_record_and_may_be_retried(personas: Personas) -> None:
    scene = build_scene(personas)
    client = Client(raise_request_exception=False)
    client.force_login(scene.resident())

    lost = RuntimeError("connection lost")
    with mock.patch.object(ledger, "hold_with", side_effect=lost), mock.patch.object(ledger, "hold", side_effect=lost):
        failed = post(client, "claim-f")
    assert IdempotencyRecord.objects.count() == 0  # a 5xx is not stored: the client may retry
    retried = post(client, "claim-f")

    assert failed.status_code == 500
    assert retried.status_code == 201
    assert Qualification.objects.count() == 1


def test_an_http_claim_on_postgresql_is_three_statements_and_one_commit_with_its_response(
    personas: Personas,
) -> None:
    postgres_only()
    scene = build_scene(personas, slices=1)
    post(api_client_for(scene.resident()), "warm-up")  # rule set, slice ids, rounds cached as in a server
    client = api_client_for(scene.resident())
    client.get("/api/v1/subsidies/refusals")  # the session is in the cache, as for a signed-in resident

    with CaptureQueriesContext(connection) as queries:
        response = post(client, "claim-g")

    statements = [q["sql"] for q in queries.captured_queries]
    assert response.status_code == 201
    assert [s.split(" ", 1)[0] for s in statements] == ["SELECT", "WITH", "WITH"], statements
    assert "accounts_user" in statements[0]
    assert "INSERT INTO core_idempotencyrecord" in statements[1]
    assert "UPDATE core_idempotencyrecord" in statements[2]
    assert "INSERT INTO core_auditentry" in statements[2] or "core_auditentry" in statements[2]
    record = IdempotencyRecord.objects.get(key="claim-g")
    assert bytes(record.response_body or b"") == response.content
    assert json.loads(response.content)["id"] == Qualification.objects.get(code=response.json()["code"]).pk


def test_only_the_reservation_commits_without_waiting_for_its_flush(personas: Personas) -> None:
    """The read's reservation commits asynchronously (the claim's own synchronous commit flushes it); the
    write that answers the key commits synchronously, and the setting ends with the reservation's
    transaction."""
    postgres_only()
    scene = build_scene(personas, slices=1)
    client = api_client_for(scene.resident())
    seen: list[str] = []

    def after_each(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if sql.startswith("WITH"):
            with connections["default"].cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                seen.append(cursor.fetchone()[0])
        return result

    with connection.execute_wrapper(after_each), CaptureQueriesContext(connection) as queries:
        response = post(client, "claim-async")

    statements = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("WITH")]
    assert response.status_code == 201
    assert "set_config('synchronous_commit', 'off', true)" in statements[0]
    assert all("synchronous_commit" not in sql for sql in statements[1:])
    assert seen == ["on", "on"]  # each autocommit statement's setting ended with its transaction


def test_an_acknowledged_claim_keeps_its_record_even_when_the_request_fails_after_the_write(
    personas: Personas,
) -> None:
    postgres_only()
    scene = build_scene(personas)
    client = Client(raise_request_exception=False)
    client.force_login(scene.resident())
    real = ledger.hold_with

    def write_then_fail(*args: Any) -> Any:
        real(*args)  # the claim and its response commit in this statement …
        raise RuntimeError("… and the worker fails before it answers")

    with mock.patch.object(ledger, "hold_with", side_effect=write_then_fail):
        first = post(client, "claim-h")
    retried = post(client, "claim-h")

    assert first.status_code == 500
    assert retried.status_code == 201
    assert retried["Idempotent-Replayed"] == "true"
    assert Qualification.objects.count() == 1
    assert retried.json()["id"] == Qualification.objects.get().pk


def test_a_worker_killed_between_the_claim_statements_loses_nothing_acknowledged(personas: Personas) -> None:
    postgres_only()
    scene = build_scene(personas)
    user = scene.resident()
    client = api_client_for(user)
    killed = threading.Event()

    def die(*args: Any) -> Any:
        # A killed process runs no cleanup: the reservation committed by the read stays behind, pending.
        killed.set()
        raise _Killed

    # ... nor the middleware's removal of the record on the way out (the one delete on this path).
    with (
        mock.patch.object(ledger, "hold_with", side_effect=die),
        mock.patch.object(QuerySet, "delete", return_value=(0, {})),
        pytest.raises(_Killed),
    ):
        post(client, "claim-j")
    assert killed.is_set()
    record = IdempotencyRecord.objects.get(key="claim-j")
    assert record.state == "pending"
    assert Qualification.objects.count() == 0

    assert post(client, "claim-j").status_code == 409  # the first may still be running
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=record.created_at - STALE_PENDING - datetime.timedelta(seconds=1)
    )
    taken_over = post(client, "claim-j")
    replay = post(client, "claim-j")

    assert taken_over.status_code == replay.status_code == 201
    assert replay.content == taken_over.content
    assert Qualification.objects.count() == 1
    assert assert_pools_balanced(scene.programme)["held"] == FRIDGE_CAP


class _Killed(BaseException):
    pass


def test_two_requests_with_the_same_key_at_once_claim_once(personas: Personas) -> None:
    postgres_only()
    scene = build_scene(personas)
    user = scene.resident()
    clients = [api_client_for(user) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = post(clients[index], "claim-k")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(r.status_code for r in results)
    assert statuses in ([201, 201], [201, 409]), statuses
    created = [r for r in results if r.status_code == 201]
    assert len({r.content for r in created}) == 1
    assert Qualification.objects.count() == 1
    assert AuditEntry.objects.filter(action="subsidies.qualification.claim").count() == 1
    assert assert_pools_balanced(scene.programme)["held"] == FRIDGE_CAP


def test_a_refused_http_claim_on_postgresql_stores_its_answer_with_the_refusal_row(personas: Personas) -> None:
    postgres_only()
    scene = build_scene(personas, budget_fen=FRIDGE_CAP, slices=1)
    post(api_client_for(scene.resident()), "warm-up")  # takes the whole budget
    client = api_client_for(scene.resident())
    client.get("/api/v1/subsidies/refusals")

    statements: list[str] = []

    def record(execute: Any, sql: str, *args: Any) -> Any:
        statements.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(record):
        refused = post(client, "claim-l")
    again = post(client, "claim-l")

    assert refused.status_code == 422
    assert refused.json()["code"] == "budget_exhausted"
    assert [s.split(" ", 1)[0] for s in statements] == ["SELECT", "WITH", "WITH"], statements
    assert "INSERT INTO" in statements[2]
    assert "subsidies_claimrefusal" in statements[2]
    assert "UPDATE core_idempotencyrecord" in statements[2]
    assert again.content == refused.content
    assert again["Idempotent-Replayed"] == "true"
    assert ClaimRefusal.objects.filter(code="budget_exhausted").count() == 1
