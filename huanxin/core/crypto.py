"""Encryption at rest and keyed lookup hashes for personal identifiers.

Resident ID numbers, phone numbers and bank accounts are sealed with AES-256-GCM (key from
``PII_KEYS``; the key id is stored with the ciphertext so keys can be rotated) and indexed by an
HMAC-SHA256 of the normalised value, so that "is this ID already registered?" is an indexed equality
lookup and the database never sees the plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from huanxin.core.domain import masking

NONCE_BYTES = 12


def _decode_key(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))
    if len(raw) != 32:
        raise ValueError("PII keys must be 32 bytes (AES-256), base64-encoded")
    return raw


@lru_cache(maxsize=8)
def _keys(spec: str) -> tuple[str, dict[str, AESGCM]]:
    keys: dict[str, AESGCM] = {}
    primary = ""
    for item in spec.split(","):
        kid, _, encoded = item.strip().partition(":")
        if not kid or not encoded:
            raise ValueError("HUANXIN_PII_KEYS must look like 'k1:<base64>,k0:<base64>'")
        keys[kid] = AESGCM(_decode_key(encoded))
        primary = primary or kid
    return primary, keys


@lru_cache(maxsize=4)
def _hmac_key(spec: str) -> bytes:
    return _decode_key(spec)


def encrypt(plaintext: str, *, purpose: str) -> str:
    """Seal ``plaintext``; ``purpose`` is bound as associated data so a phone cipher can't pass as an ID."""
    primary, keys = _keys(settings.PII_KEYS)
    nonce = os.urandom(NONCE_BYTES)
    sealed = keys[primary].encrypt(nonce, plaintext.encode(), purpose.encode())
    return f"{primary}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, purpose: str) -> str:
    """Open a value sealed by :func:`encrypt` with any configured key."""
    _, keys = _keys(settings.PII_KEYS)
    kid, _, encoded = token.partition(":")
    raw = base64.urlsafe_b64decode(encoded.encode())
    return keys[kid].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()).decode()


def blind_index(value: str, *, purpose: str) -> str:
    """The keyed hash used to find or deduplicate a value without decrypting anything."""
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(_hmac_key(settings.PII_HMAC_KEY), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Sealed:
    """What a model stores for one identifier: ciphertext, lookup hash and masked display."""

    cipher: str
    digest: str
    masked: str


_MASKERS = {
    "resident_id": masking.mask_resident_id,
    "phone": masking.mask_mobile,
    "bank_account": masking.mask_bank_account,
}


def seal(value: str, *, purpose: str) -> Sealed:
    """Encrypt, hash and mask a normalised identifier of the given kind (``resident_id``, ``phone``…)."""
    return Sealed(
        cipher=encrypt(value, purpose=purpose),
        digest=blind_index(value, purpose=purpose),
        masked=_MASKERS[purpose](value),
    )


def encrypt_bytes(data: bytes, *, purpose: str) -> bytes:
    """Seal a file's bytes with the primary key (AES-256-GCM, ``purpose`` bound): key id, a colon, nonce and
    ciphertext. For evidence files stored at rest."""
    primary, keys = _keys(settings.PII_KEYS)
    nonce = os.urandom(NONCE_BYTES)
    return primary.encode() + b":" + nonce + keys[primary].encrypt(nonce, data, purpose.encode())


def decrypt_bytes(token: bytes, *, purpose: str) -> bytes:
    """Open bytes sealed by :func:`encrypt_bytes` with any configured key."""
    _, keys = _keys(settings.PII_KEYS)
    kid, _, raw = bytes(token).partition(b":")
    return keys[kid.decode()].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
