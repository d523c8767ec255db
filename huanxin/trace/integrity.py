"""Signed daily checkpoints and verification of every chain and checkpoint.

What it writes: ``Checkpoint`` rows (one per finished Beijing day with events, signed once, never changed) and
their audit rows (``trace.checkpoint.publish``). Verification (``verify_all``, ``verify_item``,
``inclusion_proof``) only reads: it re-hashes the stored events and walks the chains.

Anyone can check a checkpoint offline with the platform's public key: the signed message is
``huanxin-trace-checkpoint|<day>|<event count>|<Merkle root>`` (UTF-8), signed with Ed25519.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, connection, models, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from huanxin.accounts.models import Organisation
from huanxin.core import audit
from huanxin.trace.domain.canonical import (
    GENESIS,
    links_to,
    merkle_proof,
    merkle_root,
    record_agrees,
    verify_proof,
)
from huanxin.trace.models import ChainLink, Checkpoint, TraceEvent, TraceItem
from huanxin.trace.queries import checkpoint_of, day_hashes, item_history


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


def publish_checkpoint(day: datetime.date, *, now: datetime.datetime | None = None) -> Checkpoint | None:
    """Sign the Merkle root of a finished day's events (once); None for a day with no events."""
    now = now or timezone.now()
    if day >= timezone.localdate(now):
        raise ValueError("only a finished day can be checkpointed")
    existing = checkpoint_of(day)
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


DayLeaves = dict[datetime.date, tuple[Checkpoint | None, list[str]]]


def inclusion_proof(event: TraceEvent, days: DayLeaves | None = None) -> InclusionProof | None:
    """The proof that an event is in its day's signed checkpoint (None until that day is checkpointed).

    ``days`` keeps each day's checkpoint and event hashes between calls: an item's events mostly share a
    day, and reading a day's hashes is the expensive part.
    """
    day = timezone.localdate(event.recorded_at)
    days = {} if days is None else days
    if day not in days:
        checkpoint = checkpoint_of(day)
        days[day] = (checkpoint, day_hashes(day) if checkpoint is not None else [])
    checkpoint, leaves = days[day]
    if checkpoint is None or event.hash not in leaves:
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


def event_intact(event: TraceEvent) -> bool:
    """Whether one stored event still agrees with itself: hash, canonical text, document and columns."""
    return record_agrees(
        digest=event.hash,
        canonical=event.canonical,
        document=event.document,
        columns=_columns(event.kind, event.event_type, event.biz_step),
        event_time=event.event_time,
        organisation_uscc=event.organisation.uscc,
    )


def _columns(kind: str, event_type: str, biz_step: str) -> dict[str, str]:
    """The key columns and the members of the canonical text they copy."""
    return {"hx:kind": kind, "type": event_type, "bizStep": biz_step}


@dataclass
class _Scan:
    """What a pass over every event, chain link and item found, before it is worded as findings."""

    events: int = 0
    items: int = 0
    altered: list[tuple[str, str]] = field(default_factory=list)  # event hash, a code whose chain holds it
    unchained: list[str] = field(default_factory=list)  # hashes of events no chain holds
    gaps: list[tuple[str, int, int]] = field(default_factory=list)  # code, sequence expected, sequence found
    breaks: list[tuple[str, int, str]] = field(default_factory=list)  # code, sequence, event hash
    tails: list[tuple[str, int, int]] = field(default_factory=list)  # code, last sequence on the chain, count
    unlinked: list[str] = field(default_factory=list)  # codes of items with a history but no chain at all


def _scan_in_python() -> _Scan:
    """Every event re-read and compared in Python, then every chain walked: works on any database."""
    scan = _Scan()
    usccs = dict(Organisation.objects.values_list("pk", "uscc"))
    altered: dict[int, str] = {}
    unchained: dict[int, str] = {}  # every event until a chain link is seen for it
    events = TraceEvent.objects.order_by("pk").values_list(
        "pk", "hash", "canonical", "document", "kind", "event_type", "biz_step", "event_time", "organisation_id"
    )
    for pk, digest, canonical, document, kind, event_type, biz_step, event_time, organisation_id in events.iterator(
        chunk_size=2000
    ):
        scan.events += 1
        unchained[pk] = digest
        if not record_agrees(
            digest=digest,
            canonical=canonical,
            document=document,
            columns=_columns(kind, event_type, biz_step),
            event_time=event_time,
            organisation_uscc=usccs.get(organisation_id, ""),
        ):
            altered[pk] = digest
    items = {
        pk: (code, head, count)
        for pk, code, head, count in TraceItem.objects.values_list("pk", "code", "head_hash", "event_count")
    }
    scan.items = len(items)
    codes_of_altered: dict[int, str] = {}
    walked: set[int] = set()
    current: int | None = None
    expected_previous, expected_sequence, last_link = GENESIS, 1, GENESIS

    def close(item_id: int) -> None:
        code, head, count = items[item_id]
        if expected_sequence - 1 != count or last_link != (head or GENESIS):
            scan.tails.append((code, expected_sequence - 1, count))

    links = ChainLink.objects.order_by("item_id", "sequence").values_list(
        "item_id", "sequence", "previous", "link", "event_id", "event__hash"
    )
    for item_id, sequence, previous, link, event_pk, digest in links.iterator(chunk_size=5000):
        if item_id != current:
            walked.add(item_id)
            if current is not None:
                close(current)
            current, expected_previous, expected_sequence = item_id, GENESIS, 1
        code = items[item_id][0]
        unchained.pop(event_pk, None)
        if event_pk in altered:
            codes_of_altered.setdefault(event_pk, code)
        if sequence != expected_sequence:
            scan.gaps.append((code, expected_sequence, sequence))
        if previous != expected_previous or not links_to(link, previous, digest):
            scan.breaks.append((code, sequence, digest))
        expected_previous, expected_sequence, last_link = link, sequence + 1, link
    if current is not None:
        close(current)
    scan.unlinked = [
        code for pk, (code, head, count) in items.items() if pk not in walked and (count or head not in ("", GENESIS))
    ]
    scan.altered = [(digest, codes_of_altered.get(pk, "")) for pk, digest in altered.items()]
    scan.unchained = list(unchained.values())
    return scan


def _document_derived() -> bool:
    """Whether PostgreSQL still derives every event's document from its canonical text and hash.

    Rows cannot write a generated column, so while it is in place the document copies need no comparison; it
    is checked against a scratch table given the model's own expression (the same server prints both the same
    way). Whoever turns the column into a plain one to write it has every copy compared instead.
    """
    table = TraceEvent._meta.db_table
    document = TraceEvent._meta.get_field("document")
    if not isinstance(document, models.GeneratedField):
        return False
    expression, params = document.generated_sql(connection)
    # The literal SQL the migration wrote (PostgreSQL's operations bind parameters client-side).
    expression = connection.ops.compose_sql(expression, params)  # type: ignore[attr-defined]
    described = (
        "SELECT a.attgenerated, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s::regclass AND a.attname = 'document' AND NOT a.attisdropped"
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(described, [table])
            stored = cursor.fetchone()
            cursor.execute(f'CREATE TEMPORARY TABLE trace_event_probe (LIKE "{table}") ON COMMIT DROP')
            cursor.execute(
                "ALTER TABLE trace_event_probe DROP COLUMN document, "
                f"ADD COLUMN document jsonb GENERATED ALWAYS AS ({expression}) STORED"
            )
            cursor.execute(described, ["trace_event_probe"])
            expected = cursor.fetchone()
            cursor.execute("DROP TABLE trace_event_probe")
    except DatabaseError:
        return False  # no scratch table here (a read-only standby, say): every copy is compared
    return stored is not None and stored[0] == "s" and stored == expected


def _events_sql(*, compare_documents: bool) -> str:
    """Every event, once for each chain link that holds it, that is not intact: its hash not over its canonical
    text, a copy disagreeing with the text (the event time to the millisecond, the precision eventTime is
    written in), no chain holding it, or a link that is not sha256(previous link ‖ event hash)."""
    documents = "AND e.document - 'eventID' = e.canonical::jsonb " if compare_documents else ""
    intact = (
        "e.hash = encode(sha256(convert_to(e.canonical, 'UTF8')), 'hex') "
        f"{documents}"
        "AND e.document ->> 'eventID' = 'ni:///sha-256;' || e.hash || '?ver=CBV2.0' "
        "AND e.kind = e.document ->> 'hx:kind' AND e.event_type = e.document ->> 'type' "
        "AND e.biz_step = e.document ->> 'bizStep' "
        "AND date_trunc('milliseconds', e.event_time) = (e.document ->> 'eventTime')::timestamptz "
        "AND right(e.document #>> '{readPoint,id}', length(o.uscc) + 5) = '/org/' || o.uscc"
    )
    linked = "l.link = encode(sha256(decode(l.previous, 'hex') || decode(e.hash, 'hex')), 'hex')"
    return (
        f"SELECT e.id, e.hash, l.item_id, i.code, l.sequence, l.id IS NULL, ({intact}) IS TRUE, "  # noqa: S608
        f"({linked}) IS TRUE "
        f"FROM {TraceEvent._meta.db_table} e LEFT JOIN {Organisation._meta.db_table} o ON o.id = e.organisation_id "
        f"LEFT JOIN {ChainLink._meta.db_table} l ON l.event_id = e.id "
        f"LEFT JOIN {TraceItem._meta.db_table} i ON i.id = l.item_id "
        f"WHERE ({intact} AND {linked}) IS NOT TRUE"
    )


def _chains_sql() -> str:
    """Every chain link out of order (a sequence gap, a previous link that is not the link before it, an item's
    last link that is not its recorded head and count) and every item with a history but no chain."""
    links, items = ChainLink._meta.db_table, TraceItem._meta.db_table
    follows = "s.previous = s.expected_previous"
    tail = "s.last AND NOT (s.sequence = i.event_count AND s.link = coalesce(nullif(i.head_hash, ''), %(genesis)s))"
    return (
        f"SELECT i.id, i.code, s.sequence, s.event_id, s.expected_sequence, ({follows}) IS TRUE, "  # noqa: S608
        f"({tail}) IS NOT FALSE, i.event_count FROM {items} i LEFT JOIN ("
        "SELECT l.item_id, l.sequence, l.event_id, l.previous, l.link, "
        "lag(l.sequence, 1, 0) OVER w + 1 AS expected_sequence, "
        "lag(l.link, 1, %(genesis)s) OVER w AS expected_previous, "
        "lead(l.sequence) OVER w IS NULL AS last "
        f"FROM {links} l WINDOW w AS (PARTITION BY l.item_id ORDER BY l.sequence)) s ON s.item_id = i.id "
        "WHERE CASE WHEN s.item_id IS NULL "
        "THEN i.event_count <> 0 OR coalesce(nullif(i.head_hash, ''), %(genesis)s) <> %(genesis)s "
        f"ELSE s.sequence <> s.expected_sequence OR ({follows}) IS NOT TRUE OR ({tail}) IS NOT FALSE END"
    )


def _tune(cursor: CursorWrapper) -> None:
    # Measured on the benchmark: compiling these scans (JIT) costs more than it saves, both cores scan faster
    # than the planner's default costs for a parallel plan assume, and the chain walk sorts in memory.
    cursor.execute(
        "SET LOCAL jit = off; SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; "
        "SET LOCAL work_mem = '64MB'"
    )


def _chain_rows() -> list[tuple[Any, ...]]:
    with transaction.atomic(), connection.cursor() as cursor:
        _tune(cursor)
        cursor.execute(_chains_sql(), {"genesis": GENESIS})
        return cursor.fetchall()


def _chain_rows_on_own_connection() -> list[tuple[Any, ...]]:
    try:
        return _chain_rows()
    finally:
        connection.close()  # this thread's connection


def _scan_in_postgresql() -> _Scan:
    """The same checks as ``_scan_in_python``, made by PostgreSQL over the stored text: only what is wrong
    comes back. A stored value it cannot read as JSON, a time or hex raises DataError.

    Outside a transaction the chain walk (one process: a window over every link) runs on a second connection
    while the event pass (parallel) runs on this one: on two cores that saves about a fifth of the time.
    Each pass reads one consistent snapshot, so events recorded in between cannot make either see a break.
    """
    altered: dict[int, tuple[str, str]] = {}
    breaks: dict[tuple[int, int], tuple[str, int]] = {}  # (item, sequence) -> code, event
    with ThreadPoolExecutor(max_workers=1) as alongside:
        chains = alongside.submit(_chain_rows_on_own_connection) if not connection.in_atomic_block else None
        scan = _Scan(events=TraceEvent.objects.count(), items=TraceItem.objects.count())
        compare_documents = not _document_derived()
        with transaction.atomic(), connection.cursor() as cursor:
            _tune(cursor)
            cursor.execute(_events_sql(compare_documents=compare_documents))
            event_rows = cursor.fetchall()
        chain_rows = chains.result() if chains is not None else _chain_rows()
    for pk, digest, item_id, code, sequence, unchained, intact, linked in sorted(
        event_rows, key=lambda row: (row[0], row[2] or 0)
    ):
        if not intact:
            altered.setdefault(pk, (digest, code or ""))
        if unchained:
            scan.unchained.append(digest)
        elif not linked:
            breaks[item_id, sequence] = (code, pk)
    for item_id, code, sequence, event_pk, expected_sequence, follows, bad_tail, count in sorted(
        chain_rows, key=lambda row: (row[0], row[2] or 0)
    ):
        if sequence is None:
            scan.unlinked.append(code)
            continue
        if sequence != expected_sequence:
            scan.gaps.append((code, expected_sequence, sequence))
        if not follows:
            breaks[item_id, sequence] = (code, event_pk)
        if bad_tail:
            scan.tails.append((code, sequence, count))
    scan.altered = list(altered.values())
    hashes = dict(TraceEvent.objects.filter(pk__in={pk for _, pk in breaks.values()}).values_list("pk", "hash"))
    scan.breaks = [(code, sequence, hashes[pk]) for (_, sequence), (code, pk) in sorted(breaks.items())]
    return scan


def _findings(scan: _Scan) -> list[Finding]:
    findings = [
        Finding("altered", digest, f"事件内容与其哈希不符（追溯码 {code}）" if code else "事件内容与其哈希不符")
        for digest, code in scan.altered
    ]
    # An event no chain holds was slipped in (or its links were removed, which the chains report too).
    findings += [Finding("inserted", digest, "事件不在任何旧机的事件链上") for digest in scan.unchained]
    findings += [
        Finding("removed", code, f"第 {expected} 个事件缺失（下一个为第 {found} 个）")
        for code, expected, found in scan.gaps
    ]
    findings += [
        Finding("inserted", code, f"第 {sequence} 个事件处链条断开（事件 {digest[:16]}…）")
        for code, sequence, digest in scan.breaks
    ]
    findings += [
        Finding("removed", code, f"链尾或事件数与记录不符（链上 {seen} 个，记录 {count} 个）")
        for code, seen, count in scan.tails
    ]
    findings += [Finding("removed", code, "该旧机的全部事件链节点缺失") for code in scan.unlinked]
    return findings


def verify_all() -> VerifyReport:
    """Check every event, every item's chain and every checkpoint; name whatever was altered, inserted or
    removed."""
    scan = None
    if connection.vendor == "postgresql":
        try:
            scan = _scan_in_postgresql()
        except DataError:
            # Only a tampered row holds text that is not JSON, a time or hex: the scan in Python reads each
            # event on its own and names it.
            scan = None
    if scan is None:
        scan = _scan_in_python()
    report = VerifyReport(items=scan.items, events=scan.events, findings=_findings(scan))
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
    # The item's history in chain order, each link with its event's inclusion proof (None before the
    # day's checkpoint).
    entries: list[tuple[ChainLink, InclusionProof | None]]


def verify_item(item: TraceItem) -> ItemCheck:
    """One item's chain, checked the way ``huanxin trace verify`` checks all of them, with inclusion proofs."""
    problems: list[str] = []
    previous = GENESIS
    entries: list[tuple[ChainLink, InclusionProof | None]] = []
    days: DayLeaves = {}
    links = item_history(item)
    for expected, link in enumerate(links, start=1):
        event = link.event
        if link.sequence != expected:
            problems.append(f"第 {expected} 个事件缺失")
        if not event_intact(event):
            problems.append(f"第 {link.sequence} 个事件内容被改动")
        if link.previous != previous or not links_to(link.link, previous, event.hash):
            problems.append(f"第 {link.sequence} 个事件处链条断开")
        previous = link.link
        entries.append((link, inclusion_proof(event, days)))
    if len(links) != item.event_count or previous != (item.head_hash or GENESIS):
        problems.append("链尾与记录不符（有事件被删除或插入）")
    for _, proof in entries:
        if proof is not None and not proof.valid():
            problems.append(f"事件 {proof.leaf[:16]}… 与当日签名检查点不符")
    return ItemCheck(ok=not problems, problems=problems, entries=entries)
