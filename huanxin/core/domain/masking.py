"""Masked display of personal identifiers: enough to recognise one's own, never enough to use."""

from __future__ import annotations


def mask_middle(value: str, keep_start: int, keep_end: int, fill: str = "*") -> str:
    """Keep the first and last characters, replace the middle with ``fill``."""
    if len(value) <= keep_start + keep_end:
        return fill * len(value)
    return value[:keep_start] + fill * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]


def mask_resident_id(value: str) -> str:
    """110105199001010023 → 110105********0023 (region code and last four kept)."""
    return mask_middle(value, 6, 4)


def mask_mobile(value: str) -> str:
    """13812345678 → 138****5678."""
    return mask_middle(value, 3, 4)


def mask_bank_account(value: str) -> str:
    """6222021234567890123 → 6222 **** **** 0123 style: first four and last four kept."""
    return mask_middle(value, 4, 4)


def mask_name(value: str) -> str:
    """张三丰 → 张**; a one-character name stays as it is."""
    return value[:1] + "*" * (len(value) - 1) if len(value) > 1 else value
