"""Serial numbers and IMEIs of subsidised items: one subsidy per item across the programme."""

from __future__ import annotations

import re

from stdnum import imei

_SERIAL = re.compile(r"^[A-Z0-9][A-Z0-9/._-]{3,49}$")


class SerialError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def normalise_serial(value: str, *, category: str) -> str:
    """The canonical form of an item's serial; phones must carry a valid 15-digit IMEI (Luhn check)."""
    compact = re.sub(r"\s", "", value or "").upper()
    if not compact:
        raise SerialError("required", "请填写产品序列号（手机填写IMEI）")
    if category == "phone":
        digits = imei.compact(compact)
        if not digits.isdigit() or len(digits) != 15:
            raise SerialError("invalid_imei", "手机应填写15位IMEI号码")
        if not imei.is_valid(digits):
            raise SerialError("invalid_imei", "IMEI号码校验位不正确")
        return str(digits)
    if not _SERIAL.match(compact):
        raise SerialError("invalid_serial", "序列号应为4至50位字母、数字或 - _ . /")
    return compact
