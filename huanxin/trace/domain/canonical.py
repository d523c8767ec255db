"""Canonical bytes and hashes of trace events, and the Merkle tree of a day's events.

An event is hashed over its canonical JSON (keys sorted, no insignificant whitespace, UTF-8, integers and
strings only) so anyone holding the exported document can recompute the same hash. An item's events form a
chain: each link hashes the previous link together with the event. Each day's event hashes are the leaves of
a Merkle tree whose root the platform signs.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

GENESIS = "0" * 64


def canonical_text(event: Mapping[str, Any]) -> str:
    """The one text an event is hashed over (as UTF-8); stored with the event as its record."""
    return json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    return canonical_text(event).encode()


def text_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_id(digest: str) -> str:
    """EPCIS 2.0 event hash ID: ni:///sha-256;<hash>?ver=CBV2.0 (the hash is over the event without it)."""
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def document_text(canonical: str, digest: str) -> str:
    """The exported event: its eventID, then the canonical text's members, so the text is the record itself.

    Byte for byte ``json.dumps({"eventID": …, **json.loads(canonical)}, ensure_ascii=False,
    separators=(",", ":"))``: a receiver drops eventID, canonicalises and gets the hash back.
    """
    head = '{"eventID":' + json.dumps(event_id(digest))
    return head + "}" if canonical == "{}" else head + "," + canonical[1:]


def record_agrees(
    *,
    digest: str,
    canonical: str,
    document: Any,
    columns: Mapping[str, Any],
    event_time: datetime.datetime | None,
    organisation_uscc: str,
) -> bool:
    """Whether a stored event is intact: its hash is over its canonical text, and the copies kept for
    querying (the JSON document with its eventID, the key columns, the event time to the millisecond and
    the recording organisation) all say what the canonical text says."""
    if text_hash(canonical) != digest:
        return False
    try:
        body = json.loads(canonical)
    except ValueError:
        return False
    if not isinstance(body, dict) or "eventID" in body or document != {"eventID": event_id(digest), **body}:
        return False
    if any(body.get(name) != value for name, value in columns.items()):
        return False
    try:
        written = datetime.datetime.fromisoformat(body.get("eventTime", ""))
    except (TypeError, ValueError):
        return False
    if event_time is None or written.utcoffset() is None:
        return False
    if event_time.replace(microsecond=event_time.microsecond // 1000 * 1000) != written:
        return False
    read_point = body.get("readPoint")
    return isinstance(read_point, dict) and str(read_point.get("id", "")).endswith(f"/org/{organisation_uscc}")


def link_hash(previous: str, event_digest: str) -> str:
    """An item's chain link: commits to everything before it and to this event."""
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(event_digest)).hexdigest()


def links_to(link: str, previous: str, event_digest: str) -> bool:
    """Whether a stored link is the chain link of these two; a stored value that is not hex never is."""
    try:
        return link == link_hash(previous, event_digest)
    except ValueError:
        return False


def _pair(left: bytes, right: bytes) -> bytes:
    # Domain separation between leaves and inner nodes (RFC 6962 style) stops a leaf posing as a node.
    return hashlib.sha256(b"\x01" + left + right).digest()


def _leaf(digest_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(digest_hex)).digest()


def merkle_root(leaves: Sequence[str]) -> str:
    """Root of the Merkle tree over event hashes in order; an odd node is carried up unchanged."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = [_leaf(leaf) for leaf in leaves]
    while len(level) > 1:
        level = [_pair(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
    return level[0].hex()


def merkle_proof(leaves: Sequence[str], index: int) -> list[tuple[str, str]]:
    """The sibling hashes from leaf ``index`` up to the root, each with the side it sits on."""
    level = [_leaf(leaf) for leaf in leaves]
    proof: list[tuple[str, str]] = []
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(("left" if sibling < index else "right", level[sibling].hex()))
        level = [_pair(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        index //= 2
    return proof


def verify_proof(leaf: str, proof: Sequence[tuple[str, str]], root: str) -> bool:
    """Check an inclusion proof offline: hash the leaf up the path and compare with the signed root."""
    node = _leaf(leaf)
    for side, sibling in proof:
        node = _pair(bytes.fromhex(sibling), node) if side == "left" else _pair(node, bytes.fromhex(sibling))
    return node.hex() == root
