"""Real-name verification (实名认证). Production plugs in the city's identity service.

A verifier answers whether a name and a resident ID belong together. The city's service is usually
reached over OpenID Connect or a government API; set HUANXIN_IDENTITY_VERIFIER to a class with the
same ``verify`` method. The embedded default accepts any ID whose GB 11643 checksum is valid, which
is enough for a pilot but proves nothing about the person: say so to operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class VerificationResult:
    verified: bool
    method: str
    message: str = ""


class IdentityVerifier(Protocol):
    def verify(self, *, name: str, resident_id: str) -> VerificationResult: ...


class ChecksumIdentityVerifier:
    """Accepts any well-formed ID (the checksum was checked before this is called)."""

    def verify(self, *, name: str, resident_id: str) -> VerificationResult:
        return VerificationResult(verified=True, method="checksum")


@lru_cache(maxsize=4)
def _verifier(path: str) -> IdentityVerifier:
    verifier: IdentityVerifier = import_string(path)()
    return verifier


def get_identity_verifier() -> IdentityVerifier:
    return _verifier(settings.HUANXIN_IDENTITY_VERIFIER)
