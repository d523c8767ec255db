"""Readers for quote inputs: each returns a typed value or raises InputError naming the field's dotted path.

Readers take the mapping, the key and the key's prefix ("old_vehicle.") so that a path string is only
built when an error is raised; quoting is a hot path (bench/quote.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final

from huanxin.core.domain.labels import field_named
from huanxin.core.domain.money import MAX_FEN
from huanxin.policy.domain.decision import InputError

MISSING: Final[Any] = object()

# Parsed ISO dates, keyed by their text: quotes repeat the same few hundred dates over and over.
_DATE_CACHE: dict[str, date] = {}
_DATE_CACHE_LIMIT: Final = 8_192


def field_name(prefix: str, key: str) -> str:
    """Join a prefix such as 'units[2].' and a key into the dotted path reported to the caller."""
    return f"{prefix}{key}"


def wrong_type(value: object, path: str, expected: str) -> InputError:
    """Build the error for a value of the wrong type: 'required' when absent or null, else 'invalid_type'."""
    if value is MISSING or value is None:
        return InputError("required", path, f"缺少必填字段：{field_named(path)}")
    return InputError("invalid_type", path, f"{field_named(path)}应为{expected}")


def as_mapping(value: object, path: str) -> Mapping[str, Any]:
    """Return value as a JSON object or raise InputError; path '' is the whole input, else a list item."""
    if type(value) is dict or isinstance(value, Mapping):
        return value
    if path == "":
        raise InputError("invalid_type", "", "输入应为 JSON 对象")
    raise InputError("invalid_type", path, f"{field_named(path)}应为对象")


def list_item_error(path: str, expected: str) -> InputError:
    """Build the error for a list item of the wrong type (a null item is mistyped, not missing)."""
    return InputError("invalid_type", path, f"{field_named(path)}应为{expected}")


def read_object(data: Mapping[str, Any], key: str, prefix: str = "") -> Mapping[str, Any]:
    """Read a required nested object."""
    value = data.get(key, MISSING)
    if type(value) is dict or (value is not MISSING and isinstance(value, Mapping)):
        return value
    raise wrong_type(value, field_name(prefix, key), "对象")


def read_optional_object(data: Mapping[str, Any], key: str, prefix: str = "") -> Mapping[str, Any] | None:
    """Read a nested object that may be absent or null."""
    value = data.get(key)
    if value is None:
        return None
    if type(value) is dict or isinstance(value, Mapping):
        return value
    raise wrong_type(value, field_name(prefix, key), "对象或 null")


def read_int(data: Mapping[str, Any], key: str, prefix: str = "", *, minimum: int = 0) -> int:
    """Read a required integer (booleans are not integers) no smaller than minimum."""
    value = data.get(key, MISSING)
    if type(value) is not int:
        raise wrong_type(value, field_name(prefix, key), "整数")
    if value < minimum:
        raise below_minimum(value, field_name(prefix, key), minimum)
    return value


def below_minimum(value: int, path: str, minimum: int) -> InputError:
    """Build the error for an integer under its minimum: 'negative' below zero, else 'invalid_value'."""
    if value < 0:
        return InputError("negative", path, f"{field_named(path)}不能为负数")
    return InputError("invalid_value", path, f"{field_named(path)}不能小于 {minimum}")


def read_money(data: Mapping[str, Any], key: str, prefix: str = "", *, minimum: int = 0) -> int:
    """Read a required amount in integer fen (never a float or a string)."""
    value = data.get(key, MISSING)
    if type(value) is not int:
        raise wrong_type(value, field_name(prefix, key), "以分为单位的整数")
    if value < minimum:
        raise below_minimum(value, field_name(prefix, key), minimum)
    if value > MAX_FEN:
        # Beyond 64 bits no column can store it; no real price comes near.
        path = field_name(prefix, key)
        raise InputError("too_large", path, f"{field_named(path)}超出允许范围")
    return value


def read_optional_money(data: Mapping[str, Any], key: str, prefix: str = "", *, minimum: int = 0) -> int | None:
    """Read an amount in integer fen that may be absent or null."""
    if data.get(key) is None:
        return None
    return read_money(data, key, prefix, minimum=minimum)


def read_grade(data: Mapping[str, Any], key: str, prefix: str = "") -> int | None:
    """Read an energy or water label grade: 1 (best) to 5, or null when the product has no such label."""
    value = data.get(key)
    if value is None:
        return None
    path = field_name(prefix, key)
    if type(value) is not int:
        raise InputError("invalid_type", path, f"{field_named(path)}应为 1–5 的整数或 null")
    if not 1 <= value <= 5:
        raise InputError("invalid_value", path, f"{field_named(path)}应为 1–5 的整数或 null")
    return value


def read_bool(data: Mapping[str, Any], key: str, prefix: str = "") -> bool:
    """Read a required true/false flag (0 and 1 are not flags)."""
    value = data.get(key, MISSING)
    if value is True or value is False:
        return value
    raise wrong_type(value, field_name(prefix, key), "true 或 false")


def read_optional_bool(data: Mapping[str, Any], key: str, prefix: str = "") -> bool | None:
    """Read a true/false flag that may be absent or null."""
    value = data.get(key)
    if value is None or value is True or value is False:
        return value
    raise wrong_type(value, field_name(prefix, key), "true 或 false")


def parse_date(value: object, path: str) -> date:
    """Parse a strict ISO 'YYYY-MM-DD' date, rejecting impossible days such as 2025-02-30."""
    if type(value) is str:
        cached = _DATE_CACHE.get(value)
        if cached is not None:
            return cached
        parsed = _parse_iso_date(value)
        if parsed is not None:
            if len(_DATE_CACHE) >= _DATE_CACHE_LIMIT:
                _DATE_CACHE.clear()
            _DATE_CACHE[value] = parsed
            return parsed
        raise InputError("invalid_date", path, f"{field_named(path)}不是有效日期，应为 YYYY-MM-DD")
    raise wrong_type(value, path, "YYYY-MM-DD 格式的日期字符串")


def _parse_iso_date(text: str) -> date | None:
    """Return the date for exactly 'YYYY-MM-DD' in ASCII digits, else None (fromisoformat takes 20250101)."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    digits = text[:4] + text[5:7] + text[8:]
    if not (digits.isascii() and digits.isdigit()):
        return None
    try:
        return date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return None


def read_date(data: Mapping[str, Any], key: str, prefix: str = "") -> date:
    """Read a required ISO date."""
    value = data.get(key, MISSING)
    if type(value) is str:
        cached = _DATE_CACHE.get(value)
        if cached is not None:
            return cached
    return parse_date(value, field_name(prefix, key))


def read_optional_date(data: Mapping[str, Any], key: str, prefix: str = "") -> date | None:
    """Read an ISO date that may be absent or null."""
    value = data.get(key)
    if value is None:
        return None
    return parse_date(value, field_name(prefix, key))


def read_choice(data: Mapping[str, Any], key: str, choices: Mapping[str, str], prefix: str = "") -> str:
    """Read a required value from a fixed set of codes (an enum of the quote contract)."""
    value = data.get(key, MISSING)
    if type(value) is str and value in choices:
        return value
    path = field_name(prefix, key)
    if type(value) is str:
        allowed = "、".join(choices)
        raise InputError("invalid_value", path, f"{field_named(path)}应为以下之一：{allowed}")
    raise wrong_type(value, path, "字符串")


def read_optional_choice(data: Mapping[str, Any], key: str, choices: Mapping[str, str], prefix: str = "") -> str | None:
    """Read a code from a fixed set that may be absent or null."""
    if data.get(key) is None:
        return None
    return read_choice(data, key, choices, prefix)


def read_optional_str(data: Mapping[str, Any], key: str, prefix: str = "") -> str | None:
    """Read free text that may be absent or null."""
    value = data.get(key)
    if value is None or type(value) is str:
        return value
    raise wrong_type(value, field_name(prefix, key), "字符串")


def read_number(data: Mapping[str, Any], key: str, prefix: str = "") -> Decimal:
    """Read a required non-negative measurement (litres, inches, kg, W): an integer or decimal number."""
    value = data.get(key, MISSING)
    path = field_name(prefix, key)
    if type(value) is int:
        number = Decimal(value)
    elif type(value) is float:
        if not math.isfinite(value):
            raise InputError("invalid_value", path, f"{field_named(path)}应为有限的数值")
        # repr() gives the shortest decimal that round-trips, so 2.0 stays 2.0 and 1.999 stays 1.999.
        number = Decimal(repr(value))
    elif type(value) is Decimal:
        if not value.is_finite():
            raise InputError("invalid_value", path, f"{field_named(path)}应为有限的数值")
        number = value
    else:
        raise wrong_type(value, path, "数值")
    if number < 0:
        raise InputError("negative", path, f"{field_named(path)}不能为负数")
    return number


def read_optional_number(data: Mapping[str, Any], key: str, prefix: str = "") -> Decimal | None:
    """Read a non-negative measurement that may be absent or null."""
    if data.get(key) is None:
        return None
    return read_number(data, key, prefix)


def read_list(data: Mapping[str, Any], key: str, prefix: str = "") -> list[Any] | tuple[Any, ...]:
    """Read an optional JSON array; absent or null reads as empty."""
    value = data.get(key)
    if value is None:
        return ()
    if type(value) is list or type(value) is tuple:
        return value
    raise wrong_type(value, field_name(prefix, key), "数组")


def read_history_programmes(data: Mapping[str, Any], key: str = "history") -> list[Mapping[str, Any]]:
    """Read the person's prior subsidies [{"programme": …, …}], checking each entry's programme code."""
    entries = read_list(data, key)
    checked: list[Mapping[str, Any]] = []
    for index, entry in enumerate(entries):
        item = as_mapping(entry, f"{key}[{index}]")
        programme = item.get("programme", MISSING)
        if type(programme) is not str:
            raise wrong_type(programme, f"{key}[{index}].programme", "字符串")
        checked.append(item)
    return checked
