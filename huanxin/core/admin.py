from django.contrib import admin

from huanxin.core.admin_support import ReadOnlyAdminMixin
from huanxin.core.models import AuditEntry, IdempotencyRecord


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[AuditEntry]):
    """Read-only: the audit log is append-only everywhere, the admin included."""

    list_display = ("occurred_at", "actor_label", "action", "object_type", "object_id", "district_code")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor_label", "request_id")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin[IdempotencyRecord]):
    list_display = ("created_at", "scope", "method", "path", "state", "status_code")
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]
    exclude = ("response_body",)
