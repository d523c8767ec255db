"""``Idempotency-Key`` for every mutating API call.

The first request with a key stores a *pending* record, runs, and stores its response; a retry with
the same key and the same body gets that response back (``Idempotent-Replayed: true``) and never
acts twice. The same key with a different body is refused with 422; a retry that arrives while the
first is still running gets 409, and one that arrives after the first attempt's worker died takes the
key over at once (the record names its owner, ``core.liveness``). Keys are scoped to the caller
(session user or API token) so one client can never replay another's response. 5xx responses are not
stored: the client may retry.

A route registered with ``defer_to_view`` (an app's hottest endpoint) lets its view write the record with
its own statements instead of the middleware's two: ``deferred()`` hands the view the request's
``Deferred``, whose ``reserve_cte`` the view's first statement carries (the pending record, the same
``INSERT … ON CONFLICT DO NOTHING``) and whose ``answer_cte`` its write carries (the response, in the
same statement as what the response acknowledges, so neither commits without the other). A view that
cannot fold them calls ``reserve()`` before it writes anything; whatever the view did not store, the
middleware stores as for any other route.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from huanxin.core import liveness, rows
from huanxin.core.errors import PROBLEM_CONTENT_TYPE, ConflictError, DomainError, ValidationFailed
from huanxin.core.models import IdempotencyRecord

API_PREFIX = "/api/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
MAX_KEY_LENGTH = 255
# A pending record whose owner cannot be judged (``core.liveness``) and that is older than this belongs to a
# request that died mid-flight; a retry may take it over.
STALE_PENDING = datetime.timedelta(minutes=5)


# (method, path) of the routes whose view writes its own record (``defer_to_view``).
_DEFERRED_ROUTES: set[tuple[str, str]] = set()
_deferred: ContextVar[Deferred | None] = ContextVar("idempotency_deferred", default=None)


def defer_to_view(method: str, path: str) -> None:
    """The view of ``method path`` writes the request's idempotency record with its own statements
    (``deferred()``); called by the app that owns the view, once at import."""
    _DEFERRED_ROUTES.add((method.upper(), path))


def deferred() -> Deferred | None:
    """The record the current request's view is to write itself, or None (no key, another route, a
    page, or a call outside a request)."""
    return _deferred.get()


class Answered(Exception):
    """The key was already used: the request is answered with ``response`` (a replay, 409 or 422) and
    the view must stop before it acts."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass
class Deferred:
    """The idempotency record of a request whose view writes it (see the module docstring)."""

    scope: str
    key: str
    fingerprint: str
    request: HttpRequest
    middleware: IdempotencyMiddleware
    record_id: int | None = None
    answer: HttpResponse | None = None
    stored: HttpResponse | None = None

    def reserve_cte(self) -> tuple[str, list[Any]]:
        """``reserved AS (INSERT … ON CONFLICT DO NOTHING RETURNING id)``, for the view's first statement
        (PostgreSQL); pass what ``(SELECT id FROM reserved)`` returned to ``reserved``."""
        sql, fields = _reserve_plan()
        record = IdempotencyRecord(
            scope=self.scope,
            key=self.key,
            request_hash=self.fingerprint,
            method=self.request.method or "",
            path=self.request.path[:500],
            owner=liveness.owner(),
        )
        connection = connections[DEFAULT_DB_ALIAS]
        return sql, [f.get_db_prep_save(f.pre_save(record, True), connection) for f in fields]

    def reserved(self, record_id: int | None) -> None:
        """The outcome of ``reserve_cte``: the new record's id, or None when the key was taken, which
        answers the request as any other route's retry is answered (``Answered``)."""
        if record_id is not None:
            self.record_id = record_id
            return
        self.reserve()

    def reserve(self) -> None:
        """Reserve the key with the middleware's own statements, before the view writes anything; raises
        ``Answered`` when the key was already used."""
        if self.record_id is not None:
            return
        outcome = self.middleware._claim(self.scope, self.key, self.fingerprint, self.request)
        if isinstance(outcome, HttpResponse):
            self.answer = outcome
            raise Answered(outcome)
        self.record_id = outcome.pk

    def answer_cte(self, response: HttpResponse, source: str) -> tuple[str, list[Any]]:
        """``answered AS (UPDATE … the response …)``, for the view's write: stores ``response`` in the
        reserved record when ``source`` (a CTE of that statement) has a row. Call ``answered(response)``
        once the statement wrote that row."""
        assert self.record_id is not None, "reserve before writing"
        connection = connections[DEFAULT_DB_ALIAS]
        fields = _answer_fields()
        values = _stored_values(response)
        assignments = ", ".join(f'"{f.column}" = %s' for f in fields)
        # Column names from the model, ``source`` a CTE name of the caller's statement; values are bound.
        sql = (
            f"answered AS (UPDATE core_idempotencyrecord SET {assignments} "  # noqa: S608
            f"WHERE id = %s AND EXISTS (SELECT 1 FROM {source}))"
        )
        return sql, [*(f.get_db_prep_save(values[f.name], connection) for f in fields), self.record_id]

    def refusal(self, error: DomainError) -> HttpResponse:
        """The problem response the API sends for ``error`` (as the middleware renders refusals), for a
        view that stores its refusal with the statement recording it (``answer_cte``)."""
        return _problem(error, self.request)

    def answered(self, response: HttpResponse) -> None:
        """``response`` is stored with the view's write: the middleware sends it as it is."""
        self.stored = response


def _forget_pending(pending: Deferred) -> None:
    """A failed request's reservation is removed so the client may retry, but only while it is pending: a
    view whose write committed with its answer and then failed (the connection lost before the reply)
    leaves a record that the retry replays."""
    if pending.record_id is not None:
        IdempotencyRecord.objects.filter(pk=pending.record_id, state=IdempotencyRecord.State.PENDING).delete()


def _stored_values(response: HttpResponse) -> dict[str, Any]:
    return {
        "state": IdempotencyRecord.State.DONE.value,
        "status_code": response.status_code,
        "content_type": response.get("Content-Type", ""),
        "response_body": response.content,
        "completed_at": timezone.now(),
    }


@functools.cache
def _answer_fields() -> tuple[Any, ...]:
    """The fields the response is stored in (typed Any: get_field may also name a relation)."""
    return tuple(
        IdempotencyRecord._meta.get_field(name)
        for name in ("state", "status_code", "content_type", "response_body", "completed_at")
    )


@functools.cache
def _reserve_plan() -> tuple[str, tuple[Any, ...]]:
    fields: tuple[Any, ...] = tuple(f for f in IdempotencyRecord._meta.local_concrete_fields if not f.primary_key)
    columns = ", ".join(f'"{f.column}"' for f in fields)
    values = ", ".join(["%s"] * len(fields))
    sql = (
        f"reserved AS (INSERT INTO core_idempotencyrecord ({columns}) VALUES ({values}) "  # noqa: S608
        "ON CONFLICT DO NOTHING RETURNING id)"
    )
    return sql, fields


def caller_scope(request: HttpRequest) -> str:
    """Who is calling: the signed-in user, the bearer token (by hash), or anonymous."""
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(authorization[7:].strip().encode()).hexdigest()[:40]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "anonymous"


def request_fingerprint(request: HttpRequest) -> str:
    """Hash of what the request asks for; a key reused for anything else is an error.

    A multipart upload is hashed field by field and file by file (streamed in chunks): reading it as
    ``request.body`` would hit the in-memory limit for large files and leave nothing for the view to parse.
    """
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b"\x00" + request.get_full_path().encode() + b"\x00")
    if (request.content_type or "").startswith("multipart/"):
        for name, values in sorted(request.POST.lists()):
            digest.update(f"{name}={values!r}\x00".encode())
        for name, uploads in sorted(request.FILES.lists()):
            for upload in uploads:
                digest.update(f"{name}:{upload.name}:{upload.size}\x00".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _problem(error: DomainError, request: HttpRequest) -> HttpResponse:
    body = error.problem(instance=request.path, request_id=getattr(request, "request_id", ""))
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=error.status, content_type=PROBLEM_CONTENT_TYPE)


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body or b""), status=record.status_code or 200, content_type=record.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method in SAFE_METHODS or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return _problem(
                ValidationFailed.for_field(
                    "Idempotency-Key", "invalid_idempotency_key", "Idempotency-Key 应为1至255个可打印字符"
                ),
                request,
            )
        scope = caller_scope(request)
        fingerprint = request_fingerprint(request)
        if (request.method, request.path) in _DEFERRED_ROUTES:
            return self._deferred_to_view(Deferred(scope, key, fingerprint, request, self))
        record = self._claim(scope, key, fingerprint, request)
        if isinstance(record, HttpResponse):
            return record
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        return self._store(record.pk, response)

    def _store(self, record_id: int, response: HttpResponse) -> HttpResponse:
        if response.status_code >= 500 or response.streaming:
            IdempotencyRecord.objects.filter(pk=record_id).delete()
            return response
        # Through rows.update: every mutating API call pays for this statement.
        rows.update(IdempotencyRecord, record_id, **_stored_values(response))
        return response

    def _deferred_to_view(self, pending: Deferred) -> HttpResponse:
        """A route whose view writes the record (``defer_to_view``): what the view stored is sent as it
        is, what it reserved is completed here as on any route, and a view that answered before reserving
        (a refusal before any write) has its answer stored here, unless a concurrent request took the key."""
        token = _deferred.set(pending)
        try:
            try:
                response = self.get_response(pending.request)
            except Answered as answered:
                return answered.response
            except BaseException:
                if pending.stored is not None:
                    # The view's write committed with its response: that response is the request's answer.
                    return pending.stored
                _forget_pending(pending)
                raise
        finally:
            _deferred.reset(token)
        if pending.answer is not None:
            return pending.answer
        if pending.stored is not None:
            return pending.stored  # the view's answer as stored (the view's response carries the same body)
        if response.status_code >= 500 or response.streaming:
            _forget_pending(pending)
            return response
        if pending.record_id is None:
            try:
                pending.reserve()
            except Answered as answered:
                return answered.response
        assert pending.record_id is not None
        return self._store(pending.record_id, response)

    def _claim(self, scope: str, key: str, fingerprint: str, request: HttpRequest) -> IdempotencyRecord | HttpResponse:
        # ON CONFLICT DO NOTHING: a retry finds the key taken without an error, so no transaction (BEGIN and
        # COMMIT are two more round trips on every mutating call) and no savepoint is needed.
        record = rows.insert_unless_conflict(
            IdempotencyRecord(
                scope=scope,
                key=key,
                request_hash=fingerprint,
                method=request.method or "",
                path=request.path[:500],
                owner=liveness.owner(),
            )
        )
        if record is not None:
            return record
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:  # removed between our insert and read (a 5xx of the first attempt): retry once
            return self._claim(scope, key, fingerprint, request)
        if existing.request_hash != fingerprint:
            return _problem(
                ValidationFailed.for_field(
                    "Idempotency-Key",
                    "idempotency_key_reused",
                    "该 Idempotency-Key 已用于另一个不同的请求，请为新请求使用新的键",
                ),
                request,
            )
        if existing.state == IdempotencyRecord.State.DONE:
            return _replay(existing)
        if liveness.is_gone(existing.owner) or timezone.now() - existing.created_at > STALE_PENDING:
            # The first attempt runs no more: this one takes the key over (of two racing retries, one does).
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, state=existing.state, owner=existing.owner, created_at=existing.created_at
            ).update(created_at=timezone.now(), owner=liveness.owner())
            if taken:
                existing.refresh_from_db()
                return existing
        return _problem(
            ConflictError("相同 Idempotency-Key 的请求正在处理中，请稍后重试", code="idempotency_in_progress"),
            request,
        )


def purge_expired(now: datetime.datetime | None = None) -> int:
    """Delete records older than the retention window; returns how many were removed."""
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=settings.HUANXIN_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
