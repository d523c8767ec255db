"""Qualification codes: short, unambiguous when read aloud or typed at a till, with a check character."""

from __future__ import annotations

import secrets

# Crockford's base32 without I, L, O, U: nothing a clerk can confuse with 1 or 0.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 11


def _check_character(body: str) -> str:
    """A weighted mod-37 style check over the alphabet (mod 32 here): catches one wrong or swapped character."""
    total = sum((index + 1) * ALPHABET.index(char) for index, char in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_code() -> str:
    """A fresh random code: 11 random characters (55 bits) and a check character.

    One draw of 55 bits from the system's CSPRNG, five bits per character: the same uniform code as a
    ``secrets.choice`` per character, for one call instead of eleven on every claim.
    """
    bits = secrets.randbits(5 * BODY_LENGTH)
    body = "".join(ALPHABET[(bits >> (5 * index)) & 31] for index in range(BODY_LENGTH))
    return body + _check_character(body)


_LOOKALIKES = str.maketrans("OIL", "011")


def normalise(text: str) -> str:
    """Upper-case, drop spaces and dashes, read O as 0 and I/L as 1 the way people type them."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -")
    return cleaned.translate(_LOOKALIKES)


def is_valid(code: str) -> bool:
    """Whether a normalised code has the right length, alphabet and check character."""
    if len(code) != BODY_LENGTH + 1 or any(ch not in ALPHABET for ch in code):
        return False
    return _check_character(code[:-1]) == code[-1]


def display(code: str) -> str:
    """Grouped for reading: 7K3M-9QX2-P0BH."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
