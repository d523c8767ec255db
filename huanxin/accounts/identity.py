"""Real-name verification (实名认证). Production plugs in the city's identity service.

A verifier answers whether a name and a resident ID belong together. The city's service is usually
reached over OpenID Connect or a government API; set HUANXIN_IDENTITY_VERIFIER to a class with the
same ``verify`` method.

Before any verifier is asked, ``accounts.services.verify_identity`` refuses what cannot be a real adult
resident: a name that is not 2 to 20 Chinese characters (minority name parts joined by "·"), an ID with a
bad checksum or a birth date before 1900-01-01 or after today, and anyone younger than the city's
HUANXIN_MIN_CLAIM_AGE. The embedded default adds nothing to those checks: it never asks whether the name
and the ID belong together, or to the person typing them. That is enough for a pilot but proves nothing
about the person: say so to operators (docs/OPERATIONS.md does).
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
    """The pilot verifier: accepts every name and ID that passed the platform's own checks (checksum, birth
    date, minimum age, name shape). It cannot tell a real pair from a made-up one."""

    def verify(self, *, name: str, resident_id: str) -> VerificationResult:
        return VerificationResult(verified=True, method="checksum")


@lru_cache(maxsize=4)
def _verifier(path: str) -> IdentityVerifier:
    verifier: IdentityVerifier = import_string(path)()
    return verifier


def get_identity_verifier() -> IdentityVerifier:
    return _verifier(settings.HUANXIN_IDENTITY_VERIFIER)
