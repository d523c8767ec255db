"""Canonical bytes and hashes of trace events, and the Merkle tree of a day's events.

An event is hashed over its canonical JSON (keys sorted, no insignificant whitespace, UTF-8, integers and
strings only) so anyone holding the exported document can recompute the same hash. An item's events form a
chain: each link hashes the previous link together with the event. Each day's event hashes are the leaves of
a Merkle tree whose root the platform signs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

GENESIS = "0" * 64


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    """The one byte string an event is hashed over."""
    return json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def event_hash(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def link_hash(previous: str, event_digest: str) -> str:
    """An item's chain link: commits to everything before it and to this event."""
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(event_digest)).hexdigest()


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
