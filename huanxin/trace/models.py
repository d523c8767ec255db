"""一机一码: old items, their events and hash chains, and the signed daily checkpoints.

Events are stored as their canonical JSON text (the source of truth, the exact text the hash is over) with
their hash. The JSON document beside it is derived from that text by the database and cannot be written; the
other columns are copies for querying, and verification checks that they still agree with the text.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Cast, Concat, Substr
from django.utils import timezone

from huanxin.accounts.models import Organisation


class TraceItem(models.Model):
    """One old appliance with its own code (GIAI under the programme's prefix), its holder and state."""

    code = models.CharField("追溯码", max_length=80)
    category = models.CharField("品类", max_length=30)
    state = models.CharField(max_length=12, blank=True)
    # Looked up through trace_item_holder_idx (holder, state), which starts with it.
    holder = models.ForeignKey(
        Organisation, null=True, on_delete=models.PROTECT, related_name="held_items", db_index=False
    )
    destination = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    take_back = models.OneToOneField(
        "subsidies.TakeBack", null=True, blank=True, on_delete=models.PROTECT, related_name="trace_item"
    )
    serial = models.CharField("原机序列号", max_length=60, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)
    event_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "追溯旧机"
        verbose_name_plural = "追溯旧机"
        # Codes are only ever matched whole: a constraint, without the LIKE index unique=True would add.
        constraints = [models.UniqueConstraint(fields=["code"], name="trace_item_code_uniq")]
        indexes = [models.Index(fields=["holder", "state"], name="trace_item_holder_idx")]

    def __str__(self) -> str:
        return self.code


class EventQuerySet(models.QuerySet["TraceEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise RuntimeError("追溯事件只能追加，不能修改")

    def delete(self) -> NoReturn:
        raise RuntimeError("追溯事件只能追加，不能删除")


class TraceEvent(models.Model):
    """One EPCIS event, identified by the hash of its canonical JSON. Append-only."""

    hash = models.CharField(max_length=64)
    canonical = models.TextField()
    # The EPCIS event as exported: {"eventID": …} followed by the canonical text's members (see
    # canonical.document_text). Derived by the database, so a copy that disagrees with the record cannot be
    # written; verification checks that the derivation is still in place.
    document = models.GeneratedField(
        expression=Cast(
            Concat(Value('{"eventID":"ni:///sha-256;'), "hash", Value('?ver=CBV2.0",'), Substr("canonical", 2)),
            models.JSONField(),
        ),
        output_field=models.JSONField(),
        db_persist=True,
    )
    kind = models.CharField(max_length=12)
    event_type = models.CharField(max_length=24)
    biz_step = models.CharField(max_length=120)
    event_time = models.DateTimeField(db_index=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="trace_events")
    # Nothing looks events up by who recorded them (the audit log names the actor of each batch), and an index
    # here is one more write per event.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)
    implausible = models.BooleanField(default=False)
    flag_reasons = models.JSONField(default=list, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = "追溯事件"
        verbose_name_plural = "追溯事件"
        # A constraint, not unique=True: that would add a varchar_pattern_ops twin no query uses.
        constraints = [models.UniqueConstraint(fields=["hash"], name="trace_event_hash_uniq")]

    def __str__(self) -> str:
        return f"{self.kind} {self.hash[:12]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("追溯事件只能追加，不能修改")
        super().save(*args, **kwargs)


class ChainLink(models.Model):
    """The n-th event of an item's chain: ``link = sha256(previous link ‖ event hash)``."""

    # Looked up through trace_link_sequence_uniq (item, sequence), which starts with it.
    item = models.ForeignKey(TraceItem, on_delete=models.PROTECT, related_name="links", db_index=False)
    sequence = models.PositiveIntegerField()
    event = models.ForeignKey(TraceEvent, on_delete=models.PROTECT, related_name="links")
    previous = models.CharField(max_length=64)
    link = models.CharField(max_length=64)

    class Meta:
        verbose_name = "链节点"
        verbose_name_plural = "链节点"
        constraints = [
            models.UniqueConstraint(fields=["item", "sequence"], name="trace_link_sequence_uniq"),
            models.UniqueConstraint(fields=["item", "event"], name="trace_link_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}#{self.sequence}"


class Checkpoint(models.Model):
    """The signed Merkle root of all events recorded on one Beijing day."""

    day = models.DateField(unique=True)
    event_count = models.PositiveIntegerField()
    root = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)
    key_id = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "每日签名检查点"
        verbose_name_plural = "每日签名检查点"
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day} {self.root[:12]}"


class TraceFlag(models.Model):
    """Something supervision should look at, e.g. an implausible dismantling output."""

    event = models.ForeignKey(TraceEvent, on_delete=models.PROTECT, related_name="flags")
    item = models.ForeignKey(TraceItem, on_delete=models.PROTECT, related_name="flags")
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)

    class Meta:
        verbose_name = "追溯预警"
        verbose_name_plural = "追溯预警"
        constraints = [models.UniqueConstraint(fields=["event", "item", "reason"], name="trace_flag_uniq")]
        indexes = [
            models.Index(fields=["resolved", "created_at"], name="trace_flag_open_idx", condition=Q(resolved=False))
        ]

    def __str__(self) -> str:
        return self.reason
