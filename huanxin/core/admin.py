from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from huanxin.core.models import AuditEntry, IdempotencyRecord


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    """Read-only: the audit log is append-only everywhere, the admin included."""

    list_display = ("occurred_at", "actor_label", "action", "object_type", "object_id", "district_code")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor_label", "request_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin[IdempotencyRecord]):
    list_display = ("created_at", "scope", "method", "path", "state", "status_code")
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]
    exclude = ("response_body",)
