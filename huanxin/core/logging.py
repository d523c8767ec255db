"""Logging helpers: every line carries the request id; identifiers are masked before they reach a log."""

from __future__ import annotations

import logging
import re

from huanxin.core.context import current_request_id

# Belt and braces: code never logs identifiers, but a stray one in an exception message must not land
# in a log file either. 18-character resident IDs and 11-digit mobile numbers are masked.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def scrub(text: str) -> str:
    """Mask anything that looks like a resident ID or a mobile number."""
    text = _RESIDENT_ID.sub(r"\1********\2", text)
    return _MOBILE.sub(r"\1****\2", text)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record and masks identifiers in the rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class ClientErrorFilter(logging.Filter):
    """Keeps an ordinary refusal (a 4xx response: forbidden, not found, conflict, too many requests) to its
    one warning line: Django attaches the exception to it, which would print a traceback for a request that
    was simply refused. A 5xx keeps its traceback: that one is a fault to investigate."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
