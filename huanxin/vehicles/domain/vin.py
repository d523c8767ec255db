"""Vehicle identification numbers (车辆识别代号, VIN) as GB 16735-2019 / ISO 3779 define them.

A VIN has 17 characters, digits and capital letters without I, O and Q (they read as 1 and 0), and position 9
is a check digit computed from the other 16. ISO 3779 leaves the check digit optional, but GB 16735 requires
it on every vehicle made or sold in China, so a Chinese VIN whose position 9 is wrong was mistyped or forged.

The computation lives in ``huanxin.core.domain.identifiers`` (python-stdnum has no VIN module); this module
gives each of the three checks its own stable code, so that a refusal says which one failed.
"""

from __future__ import annotations

from typing import Final

from huanxin.core.domain.identifiers import IdentifierError, vin_check_digit
from huanxin.core.domain.identifiers import validate_vin as _validate_vin

VIN_LENGTH: Final = 17

# Stable codes, one per check (the API's ``code``, the import report's ``code``).
VIN_REQUIRED: Final = "vin_required"
VIN_LENGTH_WRONG: Final = "vin_length"
VIN_CHARACTERS_WRONG: Final = "vin_characters"
VIN_CHECK_DIGIT_WRONG: Final = "vin_check_digit"

_CODES: Final = {
    "required": VIN_REQUIRED,
    "invalid_length": VIN_LENGTH_WRONG,
    "invalid_format": VIN_CHARACTERS_WRONG,
    "invalid_checksum": VIN_CHECK_DIGIT_WRONG,
}

__all__ = ["VIN_LENGTH", "VinError", "validate_vin", "vin_check_digit"]


class VinError(ValueError):
    """A VIN failed one of the checks: ``code`` says which (length, characters, check digit), ``message`` in Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def validate_vin(value: str) -> str:
    """The VIN in canonical form (capitals, no spaces or dashes), or :class:`VinError` naming the failed check:
    ``vin_length`` (not 17 characters), ``vin_characters`` (I, O, Q or anything but digits and capitals),
    ``vin_check_digit`` (position 9 does not match the other 16)."""
    try:
        return _validate_vin(value)
    except IdentifierError as exc:
        raise VinError(_CODES.get(exc.code, VIN_CHARACTERS_WRONG), exc.message) from None
