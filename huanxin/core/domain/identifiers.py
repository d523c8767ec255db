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
from zoneinfo import ZoneInfo

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


def validate_resident_id(value: str, *, today: datetime.date | None = None) -> str:
    """A valid 18-digit resident ID (GB 11643-1999) in canonical form (upper-case X), whose birth date lies
    between 1900-01-01 and ``today`` (the caller's local date; today in Beijing when not given)."""
    compact = ric.compact(value or "")
    if not compact:
        raise IdentifierError("required", "请填写居民身份证号码")
    compact = compact.upper()
    if len(compact) != 18:
        raise IdentifierError("invalid_length", _RESIDENT_ID_MESSAGES["invalid_length"])
    if not _RESIDENT_ID_SHAPE.match(compact):
        raise IdentifierError("invalid_format", _RESIDENT_ID_MESSAGES["invalid_format"])
    try:
        valid = str(ric.validate(compact))
    except StdnumValidationError as exc:
        code = _classify(exc)
        raise IdentifierError(code, _RESIDENT_ID_MESSAGES[code]) from None
    # The checksum and calendar checks accept any date, 2030 or 1850 alike: a birth date in the future
    # or before 1900 cannot belong to a living resident, so the ID was mistyped or made up.
    birth = ric.get_birth_date(valid)
    if not EARLIEST_BIRTH_DATE <= birth <= (today or datetime.datetime.now(tz=_BEIJING).date()):
        raise IdentifierError("invalid_birth_date", _BIRTH_DATE_MESSAGE)
    return valid


EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
_BEIJING = ZoneInfo("Asia/Shanghai")
_BIRTH_DATE_MESSAGE = "居民身份证号码中的出生日期应在1900年1月1日至今天之间，请核对第7至14位"


def resident_id_birth_date(value: str) -> datetime.date:
    """The date of birth encoded in a valid resident ID."""
    return ric.get_birth_date(value)


def age_on(birth: datetime.date, day: datetime.date) -> int:
    """Full years of age on ``day`` (周岁): the birthday itself counts; a 29 February birthday is reached
    on 1 March in common years."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# Names on a resident ID card are written in Chinese characters; ethnic minority names join their parts
# with a middle dot (间隔号), which people type in several look-alike forms.
NAME_MIN_LENGTH = 2
NAME_MAX_LENGTH = 20
NAME_SEPARATOR = "·"
_NAME_SEPARATOR_VARIANTS = str.maketrans(dict.fromkeys("•‧・･．.", NAME_SEPARATOR))
_NAME_CHARACTERS = re.compile(
    r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+"
    r"(?:·[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)*$"
)


def validate_resident_name(value: str) -> str:
    """A plausible name as printed on a resident ID card: 2 to 20 Chinese characters, parts of an ethnic
    minority name joined by single middle dots; look-alike dots are normalised to "·"."""
    name = "".join((value or "").split()).translate(_NAME_SEPARATOR_VARIANTS)
    if not name:
        raise IdentifierError("required", "请填写姓名")
    if not NAME_MIN_LENGTH <= len(name) <= NAME_MAX_LENGTH:
        raise IdentifierError(
            "invalid_name_length", f"姓名应为{NAME_MIN_LENGTH}至{NAME_MAX_LENGTH}个字（含少数民族姓名中的间隔号“·”）"
        )
    if not _NAME_CHARACTERS.match(name):
        raise IdentifierError(
            "invalid_name_characters", "姓名只能包含汉字，少数民族姓名各部分之间用一个间隔号“·”分隔，与身份证一致"
        )
    return name


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
