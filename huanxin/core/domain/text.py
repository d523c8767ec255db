"""Free text that people type and that later lands in a spreadsheet.

A name that starts like a formula (OWASP's list for CSV injection: ``=``, ``+``, ``-``, ``@``, tab, carriage
return) is refused where it is entered — an account name, a store or organisation name, a contact, a product
name. Refusing at entry is what lets the bank's payment file carry every name exactly as stored
(``settlement.services._bank_csv_bytes``); the files people open neutralise formulas as well
(``core.spreadsheets.csv_text``), for rows older than this rule.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

FORMULA_CODE = "formula_like"


def starts_like_formula(text: str) -> bool:
    """A spreadsheet would read this text as a formula: it starts with one of OWASP's formula characters."""
    return text.startswith(FORMULA_START)


def formula_message(label: str) -> str:
    """The Chinese field error for a name that starts like a formula."""
    return f"{label}不能以 = + - @ 或制表符、回车开头"
