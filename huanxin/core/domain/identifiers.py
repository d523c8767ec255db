"""Identifiers the programme relies on, validated to their national standards.

Each validator returns the normalised value or raises :class:`IdentifierError` with a stable code
and a Chinese message that names the field and what is wrong. Checksums come from python-stdnum
(GB 11643 resident ID, GB 32100 unified social credit code); the VIN check digit follows
GB 16735 / ISO 3779 (python-stdnum has no VIN module, so it is computed here).
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumValidationError


class IdentifierError(ValueError):
    """An identifier failed validation; ``code`` is stable, ``message`` is shown to people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _classify(exc: StdnumValidationError) -> str:
    if isinstance(exc, stdnum_exceptions.InvalidChecksum):
        return "invalid_checksum"
    if isinstance(exc, stdnum_exceptions.InvalidLength):
        return "invalid_length"
    if isinstance(exc, stdnum_exceptions.InvalidFormat):
        return "invalid_format"
    if isinstance(exc, stdnum_exceptions.InvalidComponent):
        return "invalid_component"
    return "invalid"


_RESIDENT_ID_MESSAGES = {
    "invalid_checksum": "居民身份证号码校验位不正确，请核对最后一位",
    "invalid_length": "居民身份证号码应为18位",
    "invalid_format": "居民身份证号码格式不正确：前17位应为数字，最后一位为数字或X",
    "invalid_component": "居民身份证号码中的出生日期或地区码无效",
    "invalid": "居民身份证号码无效",
}


_RESIDENT_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


def validate_resident_id(value: str) -> str:
    """A valid 18-digit resident ID (GB 11643-1999) in canonical form (upper-case X)."""
    compact = ric.compact(value or "")
    if not compact:
        raise IdentifierError("required", "请填写居民身份证号码")
    compact = compact.upper()
    if len(compact) != 18:
        raise IdentifierError("invalid_length", _RESIDENT_ID_MESSAGES["invalid_length"])
    if not _RESIDENT_ID_SHAPE.match(compact):
        raise IdentifierError("invalid_format", _RESIDENT_ID_MESSAGES["invalid_format"])
    try:
        return str(ric.validate(compact))
    except StdnumValidationError as exc:
        code = _classify(exc)
        raise IdentifierError(code, _RESIDENT_ID_MESSAGES[code]) from None


def resident_id_birth_date(value: str) -> datetime.date:
    """The date of birth encoded in a valid resident ID."""
    return ric.get_birth_date(value)


_USCC_MESSAGES = {
    "invalid_checksum": "统一社会信用代码校验位不正确",
    "invalid_length": "统一社会信用代码应为18位",
    "invalid_format": "统一社会信用代码格式不正确：只能包含数字和除I、O、Z、S、V以外的大写字母",
    "invalid_component": "统一社会信用代码中的登记管理部门或机构类别代码无效",
    "invalid": "统一社会信用代码无效",
}


def validate_uscc(value: str) -> str:
    """A valid unified social credit code (GB 32100-2015) in canonical form."""
    compact = uscc.compact(value or "")
    if not compact:
        raise IdentifierError("required", "请填写统一社会信用代码")
    try:
        return str(uscc.validate(compact))
    except StdnumValidationError as exc:
        code = _classify(exc)
        raise IdentifierError(code, _USCC_MESSAGES[code]) from None


# GB 16735-2019 / ISO 3779: letters I, O and Q never appear; position 9 is a check digit (0-9 or X)
# computed from transliterated values and fixed position weights.
_VIN_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """The check digit (position 9) a 17-character VIN must carry."""
    total = sum(_VIN_TRANSLITERATION[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(value: str) -> str:
    """A valid vehicle identification number: 17 characters, no I/O/Q, correct check digit."""
    compact = re.sub(r"[\s-]", "", value or "").upper()
    if not compact:
        raise IdentifierError("required", "请填写车辆识别代号（VIN）")
    if len(compact) != 17:
        raise IdentifierError("invalid_length", "车辆识别代号（VIN）应为17位")
    if any(ch in "IOQ" for ch in compact):
        raise IdentifierError("invalid_format", "车辆识别代号（VIN）不得包含字母I、O、Q")
    if not all(ch in _VIN_TRANSLITERATION for ch in compact):
        raise IdentifierError("invalid_format", "车辆识别代号（VIN）只能包含数字和大写字母")
    if compact[8] != vin_check_digit(compact):
        raise IdentifierError("invalid_checksum", "车辆识别代号（VIN）第9位校验位不正确")
    return compact


# Mainland mobile numbers: 11 digits starting 13–19 (MIIT numbering plan), optional +86/0086 prefix.
_MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


def validate_mobile(value: str) -> str:
    """A mainland China mobile number as 11 digits: the one normal form every lookup and counter uses.

    Full-width characters are folded (NFKC), spaces and dashes dropped, and the country code removed in
    each way people write it (``+86``, ``0086``, a bare ``86`` before the 11 digits). Everything keyed by
    a number (accounts, sign-in limits, code limits) must go through here first, or one number written
    two ways would count as two.
    """
    compact = re.sub(r"[\s\-\u2010-\u2015]", "", unicodedata.normalize("NFKC", value or ""))
    if not compact:
        raise IdentifierError("required", "请填写手机号码")
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            compact = compact[len(prefix) :]
            break
    else:
        # A bare country code: 13 digits can only be 86 + a mobile number (mobile numbers start with 1).
        if len(compact) == 13 and compact.startswith("86"):
            compact = compact[2:]
    if not compact.isdigit():
        raise IdentifierError("invalid_format", "手机号码只能包含数字")
    if len(compact) != 11:
        raise IdentifierError("invalid_length", "手机号码应为11位")
    if not _MOBILE_PATTERN.match(compact):
        raise IdentifierError("invalid_format", "手机号码应以13至19开头")
    return compact
