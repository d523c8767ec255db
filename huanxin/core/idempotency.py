"""``Idempotency-Key`` for every mutating API call.

The first request with a key stores a *pending* record, runs, and stores its response; a retry with
the same key and the same body gets that response back (``Idempotent-Replayed: true``) and never
acts twice. The same key with a different body is refused with 422; a retry that arrives while the
first is still running gets 409. Keys are scoped to the caller (session user or API token) so one
client can never replay another's response. 5xx responses are not stored: the client may retry.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from huanxin.core import rows
from huanxin.core.errors import PROBLEM_CONTENT_TYPE, ConflictError, DomainError, ValidationFailed
from huanxin.core.models import IdempotencyRecord

API_PREFIX = "/api/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
MAX_KEY_LENGTH = 255
# A pending record older than this belongs to a request that died mid-flight; a retry may take it over.
STALE_PENDING = datetime.timedelta(minutes=5)


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
        record = self._claim(scope, key, fingerprint, request)
        if isinstance(record, HttpResponse):
            return record
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        if response.status_code >= 500 or response.streaming:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        # Through rows.update: every mutating API call pays for this statement.
        rows.update(
            IdempotencyRecord,
            record.pk,
            state=IdempotencyRecord.State.DONE.value,
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            response_body=response.content,
            completed_at=timezone.now(),
        )
        return response

    def _claim(self, scope: str, key: str, fingerprint: str, request: HttpRequest) -> IdempotencyRecord | HttpResponse:
        # ON CONFLICT DO NOTHING: a retry finds the key taken without an error, so no transaction (BEGIN and
        # COMMIT are two more round trips on every mutating call) and no savepoint is needed.
        record = rows.insert_unless_conflict(
            IdempotencyRecord(
                scope=scope, key=key, request_hash=fingerprint, method=request.method or "", path=request.path[:500]
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
        if timezone.now() - existing.created_at > STALE_PENDING:
            taken = IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).update(
                created_at=timezone.now()
            )
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
