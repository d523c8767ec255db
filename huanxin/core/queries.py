"""The read side of the kernel: filtering the audit trail."""

from __future__ import annotations

import datetime

from django.db.models import Q
from ninja import Schema
from pydantic import Field

from huanxin.core.models import AuditQuerySet


class AuditFilter(Schema):
    action: str | None = Field(None, max_length=100, description="动作前缀，如 accounts.")
    object_type: str | None = Field(None, max_length=100)
    object_id: str | None = Field(None, max_length=64)
    actor: str | None = Field(None, max_length=150, description="操作人用户名")
    district: str | None = Field(None, max_length=12)
    since: datetime.date | None = None
    until: datetime.date | None = None


def filter_audit(queryset: AuditQuerySet, filters: AuditFilter) -> AuditQuerySet:
    """Apply the auditor's filters; dates are whole Beijing days, both ends inclusive."""
    from django.utils import timezone

    if filters.action:
        queryset = queryset.filter(action__startswith=filters.action)
    if filters.object_type:
        queryset = queryset.filter(object_type=filters.object_type)
    if filters.object_id:
        queryset = queryset.filter(object_id=filters.object_id)
    if filters.actor:
        queryset = queryset.filter(Q(actor__username=filters.actor) | Q(actor_label=filters.actor))
    if filters.district:
        queryset = queryset.filter(district_code=filters.district)
    tz = timezone.get_default_timezone()
    if filters.since:
        queryset = queryset.filter(occurred_at__gte=datetime.datetime.combine(filters.since, datetime.time(), tz))
    if filters.until:
        end = datetime.datetime.combine(filters.until + datetime.timedelta(days=1), datetime.time(), tz)
        queryset = queryset.filter(occurred_at__lt=end)
    return queryset
