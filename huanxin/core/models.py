"""Kernel tables: the append-only audit log and stored idempotent responses."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or remove an audit row."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("审计日志只能追加，不能修改")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("审计日志只能追加，不能删除")

    def visible_to(self, user: Any) -> AuditQuerySet:
        """Auditors and administrators read everything; a district reviewer reads their district."""
        from huanxin.core.permissions import audit_scope

        return audit_scope(self, user)


class AuditEntry(models.Model):
    """One state change: who did what to which object, the values before and after, and when.

    Written by the service that made the change, inside its transaction, never by a signal. Values are
    masked before they get here: the audit log holds no plaintext identifier.
    """

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    district_code = models.CharField(max_length=12, blank=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="core_audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("审计日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("审计日志只能追加，不能删除")


class IdempotencyRecord(models.Model):
    """The first response to a mutating API call, replayed to any retry with the same key."""

    class State(models.TextChoices):
        PENDING = "pending", "处理中"
        DONE = "done", "已完成"

    scope = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Who runs the request while it is pending (``core.liveness``): a retry may take over a key whose
    # owner is gone without waiting for the record to grow old.
    owner = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = "幂等请求"
        verbose_name_plural = "幂等请求"
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="core_idempotency_scope_key_uniq")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class JobRun(models.Model):
    """One run of a periodic job: when, how it ended, what it did. At most one runs at a time per job."""

    class Status(models.TextChoices):
        RUNNING = "running", "运行中"
        DONE = "done", "完成"
        FAILED = "failed", "失败"

    name = models.CharField(max_length=60)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        verbose_name = "定时任务运行"
        verbose_name_plural = "定时任务运行"
        indexes = [models.Index(fields=["name", "-started_at"], name="core_jobrun_recent_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(status="running"), name="core_jobrun_one_running"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class RateLimitCounter(models.Model):
    """Attempts counted in one fixed window for one bucket (an account's sign-ins, a number's codes, an address)."""

    key = models.CharField(max_length=160, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    window_ends_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "频率限制计数"
        verbose_name_plural = "频率限制计数"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
