"""Writing the audit log. Services call :func:`record` inside the transaction of the change itself."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, models

from huanxin.core import rows
from huanxin.core.context import current_request_id
from huanxin.core.models import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The listed fields of ``instance`` as JSON-ready values (pass masked fields only, never ciphers)."""
    result = {}
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, models.Model):
            value = value.pk
        result[name] = _jsonable(value)
    return result


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    organisation_id: int | None = None,
    district_code: str = "",
) -> AuditEntry:
    """Append one audit row for a change made in the current transaction.

    Refuses to run outside a transaction: an audit row committed apart from its change could survive a
    rollback of the change (or be lost while the change stays), and the log would lie.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the change it records")
    # Written through rows.insert: every state change of the platform passes here, claims included.
    return rows.insert(
        entry(
            actor=actor,
            action=action,
            target=target,
            before=before,
            after=after,
            organisation_id=organisation_id,
            district_code=district_code,
        )
    )


def entry(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    organisation_id: int | None = None,
    district_code: str = "",
) -> AuditEntry:
    """The audit row ``record`` writes, not yet written: for a statement that writes it together with the
    change (the caller keeps it in the change's transaction, and sets ``object_id`` when the target has no
    primary key yet)."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry(
        actor=actor if is_user else None,
        actor_label=str(actor or "system")[:150],
        action=action,
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        object_label=str(target)[:200],
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        organisation_id=organisation_id,
        district_code=district_code,
        request_id=current_request_id()[:64],
    )
