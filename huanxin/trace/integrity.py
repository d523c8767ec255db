"""Signed daily checkpoints and verification of every chain and checkpoint.

Anyone can check a checkpoint offline with the platform's public key: the signed message is
``huanxin-trace-checkpoint|<day>|<event count>|<Merkle root>`` (UTF-8), signed with Ed25519.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from huanxin.core import audit
from huanxin.trace.domain.canonical import GENESIS, event_hash, link_hash, merkle_proof, merkle_root, verify_proof
from huanxin.trace.models import ChainLink, Checkpoint, TraceEvent, TraceItem


@lru_cache(maxsize=2)
def _private_key(encoded: str) -> Ed25519PrivateKey:
    if not encoded:
        raise RuntimeError("HUANXIN_TRACE_SIGNING_KEY is not set")
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded))


def signing_key() -> Ed25519PrivateKey:
    return _private_key(settings.HUANXIN_TRACE_SIGNING_KEY)


def public_key_bytes() -> bytes:
    return signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_pem() -> str:
    return signing_key().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def key_id() -> str:
    return hashlib.sha256(public_key_bytes()).hexdigest()[:16]


def checkpoint_message(day: datetime.date, count: int, root: str) -> bytes:
    return f"huanxin-trace-checkpoint|{day.isoformat()}|{count}|{root}".encode()


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time(), timezone.get_default_timezone())
    return start, start + datetime.timedelta(days=1)


def day_hashes(day: datetime.date) -> list[str]:
    """The event hashes recorded on a Beijing day, in the order they were recorded: the Merkle leaves."""
    start, end = _day_bounds(day)
    return list(
        TraceEvent.objects.filter(recorded_at__gte=start, recorded_at__lt=end)
        .order_by("recorded_at", "pk")
        .values_list("hash", flat=True)
    )


def publish_checkpoint(day: datetime.date, *, now: datetime.datetime | None = None) -> Checkpoint | None:
    """Sign the Merkle root of a finished day's events (once); None for a day with no events."""
    now = now or timezone.now()
    if day >= timezone.localdate(now):
        raise ValueError("only a finished day can be checkpointed")
    existing = Checkpoint.objects.filter(day=day).first()
    if existing is not None:
        return existing
    leaves = day_hashes(day)
    if not leaves:
        return None
    root = merkle_root(leaves)
    signature = signing_key().sign(checkpoint_message(day, len(leaves), root))
    try:
        with transaction.atomic():
            checkpoint = Checkpoint.objects.create(
                day=day, event_count=len(leaves), root=root, signature=signature.hex(), key_id=key_id()
            )
            audit.record(
                actor="trace-checkpoint",
                action="trace.checkpoint.publish",
                target=checkpoint,
                after={"day": day, "events": len(leaves), "root": root},
            )
    except IntegrityError:
        return Checkpoint.objects.get(day=day)
    return checkpoint


def publish_due_checkpoints(*, now: datetime.datetime | None = None) -> int:
    """The daily job: checkpoint every finished day with events that has none yet."""
    now = now or timezone.now()
    first = TraceEvent.objects.order_by("recorded_at").values_list("recorded_at", flat=True).first()
    if first is None:
        return 0
    day = timezone.localdate(first)
    done = set(Checkpoint.objects.values_list("day", flat=True))
    published = 0
    while day < timezone.localdate(now):
        if day not in done and publish_checkpoint(day, now=now) is not None:
            published += 1
        day += datetime.timedelta(days=1)
    return published


def verify_signature(checkpoint: Checkpoint, public_key: bytes | None = None) -> bool:
    key = Ed25519PublicKey.from_public_bytes(public_key or public_key_bytes())
    try:
        key.verify(
            bytes.fromhex(checkpoint.signature),
            checkpoint_message(checkpoint.day, checkpoint.event_count, checkpoint.root),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class InclusionProof:
    day: datetime.date
    index: int
    leaf: str
    path: list[tuple[str, str]]
    root: str
    signature: str
    key_id: str

    def valid(self) -> bool:
        return verify_proof(self.leaf, self.path, self.root)


def inclusion_proof(event: TraceEvent) -> InclusionProof | None:
    """The proof that an event is in its day's signed checkpoint (None until that day is checkpointed)."""
    day = timezone.localdate(event.recorded_at)
    checkpoint = Checkpoint.objects.filter(day=day).first()
    if checkpoint is None:
        return None
    leaves = day_hashes(day)
    if event.hash not in leaves:
        return None
    index = leaves.index(event.hash)
    return InclusionProof(
        day, index, event.hash, merkle_proof(leaves, index), checkpoint.root, checkpoint.signature, checkpoint.key_id
    )


# ---------------------------------------------------------------- verification


@dataclass
class Finding:
    kind: str  # altered / inserted / removed / checkpoint
    reference: str
    detail: str


@dataclass
class VerifyReport:
    items: int = 0
    events: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def recomputed_hash(event: TraceEvent) -> str:
    """The hash of the stored document without its eventID, as it was when it was recorded."""
    body = {key: value for key, value in event.document.items() if key != "eventID"}
    return event_hash(body)


def _iter_links(batch: int = 5000) -> Iterator[tuple[int, str, int, str, str, int, str, dict, str, str, str]]:
    queryset = ChainLink.objects.order_by("item_id", "sequence").values_list(
        "item_id",
        "item__code",
        "sequence",
        "previous",
        "link",
        "event_id",
        "event__hash",
        "event__document",
        "event__kind",
        "event__biz_step",
        "event__event_type",
    )
    yield from queryset.iterator(chunk_size=batch)


def verify_all() -> VerifyReport:
    """Check every event, every item's chain and every checkpoint; name whatever was altered, inserted or
    removed."""
    report = VerifyReport()
    heads = dict(TraceItem.objects.values_list("pk", "head_hash"))
    counts = dict(TraceItem.objects.values_list("pk", "event_count"))
    codes = dict(TraceItem.objects.values_list("pk", "code"))
    checked_events: dict[int, bool] = {}
    current_item: int | None = None
    expected_previous = GENESIS
    expected_sequence = 1

    def close_item(item_id: int, last_link: str, seen: int) -> None:
        report.items += 1
        if seen != counts.get(item_id) or last_link != (heads.get(item_id) or GENESIS):
            report.findings.append(
                Finding(
                    "removed",
                    codes.get(item_id, str(item_id)),
                    f"链尾或事件数与记录不符（链上 {seen} 个，记录 {counts.get(item_id)} 个）",
                )
            )

    last_link = GENESIS
    seen_items: set[int] = set()
    for (
        item_id,
        code,
        sequence,
        previous,
        link,
        event_id,
        stored_hash,
        document,
        kind,
        biz_step,
        event_type,
    ) in _iter_links():
        if item_id != current_item:
            seen_items.add(item_id)
            if current_item is not None:
                close_item(current_item, last_link, expected_sequence - 1)
            current_item, expected_previous, expected_sequence, last_link = item_id, GENESIS, 1, GENESIS
        if event_id not in checked_events:
            body = {key: value for key, value in document.items() if key != "eventID"}
            good = event_hash(body) == stored_hash and document.get("eventID", "").endswith(
                f";{stored_hash}?ver=CBV2.0"
            )
            good = good and document.get("hx:kind") == kind and document.get("bizStep") == biz_step
            good = good and document.get("type") == event_type
            checked_events[event_id] = good
            report.events += 1
            if not good:
                report.findings.append(Finding("altered", stored_hash, f"事件内容与其哈希不符（追溯码 {code}）"))
        if sequence != expected_sequence:
            report.findings.append(
                Finding("removed", code, f"第 {expected_sequence} 个事件缺失（下一个为第 {sequence} 个）")
            )
        if previous != expected_previous or link != link_hash(previous, stored_hash):
            report.findings.append(
                Finding("inserted", code, f"第 {sequence} 个事件处链条断开（事件 {stored_hash[:16]}…）")
            )
        expected_previous, expected_sequence, last_link = link, sequence + 1, link
    if current_item is not None:
        close_item(current_item, last_link, expected_sequence - 1)
    for item_id in set(codes) - seen_items:
        if counts.get(item_id):
            report.findings.append(Finding("removed", codes[item_id], "该旧机的全部事件链节点缺失"))
    for checkpoint in Checkpoint.objects.order_by("day"):
        report.checkpoints += 1
        leaves = day_hashes(checkpoint.day)
        if not verify_signature(checkpoint):
            report.findings.append(Finding("checkpoint", str(checkpoint.day), "检查点签名无效"))
        if len(leaves) != checkpoint.event_count or merkle_root(leaves) != checkpoint.root:
            report.findings.append(
                Finding(
                    "checkpoint",
                    str(checkpoint.day),
                    f"当日事件（{len(leaves)} 个）与签名检查点（{checkpoint.event_count} 个）不符："
                    "有事件被插入、删除或修改",
                )
            )
    return report


@dataclass(frozen=True)
class ItemCheck:
    ok: bool
    problems: list[str]
    proofs: dict[str, InclusionProof | None]


def verify_item(item: TraceItem) -> ItemCheck:
    """One item's chain, checked the way ``huanxin trace verify`` checks all of them, with inclusion proofs."""
    problems: list[str] = []
    previous = GENESIS
    proofs: dict[str, InclusionProof | None] = {}
    links = list(ChainLink.objects.filter(item=item).select_related("event").order_by("sequence"))
    for expected, link in enumerate(links, start=1):
        event = link.event
        if link.sequence != expected:
            problems.append(f"第 {expected} 个事件缺失")
        if recomputed_hash(event) != event.hash:
            problems.append(f"第 {link.sequence} 个事件内容被改动")
        if link.previous != previous or link.link != link_hash(previous, event.hash):
            problems.append(f"第 {link.sequence} 个事件处链条断开")
        previous = link.link
        proofs[event.hash] = inclusion_proof(event)
    if len(links) != item.event_count or previous != (item.head_hash or GENESIS):
        problems.append("链尾与记录不符（有事件被删除或插入）")
    for proof in proofs.values():
        if proof is not None and not proof.valid():
            problems.append(f"事件 {proof.leaf[:16]}… 与当日签名检查点不符")
    return ItemCheck(ok=not problems, problems=problems, proofs=proofs)
