"""Trace codes as people meet them, and the one canonical form the platform stores.

The platform stores a code as its GIAI EPC URI (``urn:epc:id:giai:6999999.639079541759``). People meet it as
the label's printed line (``6999999.639079541759``: company prefix, a dot, the asset reference), as the
QR code's GS1 Digital Link (``https://…/8004/6999999639079541759``: the GIAI without the dot), as the GS1
element string (``(8004)6999999639079541759``), or as the address of a verification page they copied. They
type it on phones with Chinese input methods (full-width digits, 。 for a dot) and paste it with spaces and
line breaks. ``parse_code`` turns every one of those into the stored form; anything else is refused with a
reason a person can act on.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

GIAI_URN = "urn:epc:id:giai:"
# Generous for a pasted page address; anything longer is not a code and is not worth normalising.
MAX_INPUT = 300
# TraceItem.code holds at most 80 characters.
MAX_CODE = 80

# A GS1 company prefix has 6 to 12 digits; the asset reference uses the EPC URI's characters (GS1 TDS 2.1 §6).
_REFERENCE = r"[A-Za-z0-9\-_%*]+"
_GIAI_DOTTED = re.compile(rf"(\d{{6,12}})\.({_REFERENCE})")
_GIAI_URN = re.compile(rf"urn:epc:id:giai:(\d{{6,12}})\.({_REFERENCE})", re.IGNORECASE)
# Other EPC schemes (an SGTIN imported from a partner's EPCIS document): kept as sent, scheme lower-cased.
_OTHER_URN = re.compile(r"(urn:epc:id:(?!giai:)[a-z0-9]+:)([A-Za-z0-9.\-_%*]+)", re.IGNORECASE)
_CANONICAL = re.compile(rf"urn:epc:id:(?:giai:\d{{6,12}}\.{_REFERENCE}|(?!giai:)[a-z0-9]+:[A-Za-z0-9.\-_%*]+)")
# What a Chinese keyboard types for "."; NFKC maps the full-width ．but leaves these alone.
_DOTS = str.maketrans({"。": ".", "｡": "."})
# The GS1 element string's application identifier for a GIAI, as printed under GS1 barcodes.
ELEMENT_STRING_AI = "(8004)"


class InvalidCode(ValueError):
    """The text is not any form of a trace code; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_canonical(text: str) -> bool:
    """Whether ``text`` is already a code as stored (the fast path of a batch of thousands)."""
    return len(text) <= MAX_CODE and _CANONICAL.fullmatch(text) is not None


def printed_code(code: str) -> str:
    """What the label prints and people read: ``urn:epc:id:giai:6999999.639079541759`` → ``6999999.639079541759``.

    A code of another EPC scheme has no shorter form and is shown whole.
    """
    return code.removeprefix(GIAI_URN) if code.startswith(GIAI_URN) else code


def giai_element(code: str) -> str:
    """The GIAI as GS1 element strings and Digital Links carry it: company prefix and reference, no dot."""
    prefix, reference = printed_code(code).split(".", 1)
    return f"{prefix}{reference}"


def _example(company_prefix: str) -> str:
    return f"{company_prefix}.639079541759"


def _unknown(company_prefix: str) -> InvalidCode:
    return InvalidCode(
        "invalid_code",
        f"无法识别该追溯码：请输入标签上二维码旁的编码（如 {_example(company_prefix)}），或扫描标签二维码",
    )


def _from_address(text: str) -> str | None:
    """The code inside a pasted address: a Digital Link's /8004/<GIAI> or a verification page's /verify/<code>/.

    None when ``text`` is not a web address at all.
    """
    lowered = text.lower()
    for marker in ("/8004/", "/verify/"):
        at = lowered.find(marker)
        if at >= 0:
            rest = text[at + len(marker) :]
            return unquote(re.split(r"[/?#]", rest, maxsplit=1)[0])
    return "" if "://" in lowered else None


def parse_code(text: str, *, company_prefix: str) -> str:
    """The stored form of any way a person may read, type, paste or scan a trace code.

    ``company_prefix`` is the programme's GS1 company prefix: it tells where a dot-less GIAI (Digital Link,
    element string) splits into prefix and reference. Raises InvalidCode with the reason otherwise.
    """
    if is_canonical(text):
        return text
    if len(text) > MAX_INPUT:
        raise InvalidCode("too_long", f"输入过长：追溯码不超过 {MAX_CODE} 个字符")
    # Full-width digits, letters, colons and slashes become ASCII; then the Chinese full stop becomes a dot.
    normalised = unicodedata.normalize("NFKC", text).translate(_DOTS)
    if any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in normalised):
        raise InvalidCode("invalid_code", "追溯码中含有不可见的控制字符，请重新输入")
    # Spaces a person types to group the digits, line breaks of a paste, zero-width characters of a copy.
    compact = "".join(ch for ch in normalised if not ch.isspace() and unicodedata.category(ch) != "Cf")
    if not compact:
        raise InvalidCode("required", "请输入追溯码")
    inner = _from_address(compact)
    if inner is not None:
        if not inner:
            raise _unknown(company_prefix)
        compact = unicodedata.normalize("NFKC", inner).translate(_DOTS)
    compact = compact.removeprefix(ELEMENT_STRING_AI)
    code = _giai(compact, company_prefix)
    if code is None or len(code) > MAX_CODE:
        raise _unknown(company_prefix)
    return code


def _giai(text: str, company_prefix: str) -> str | None:
    if match := _GIAI_URN.fullmatch(text):
        return f"{GIAI_URN}{match[1]}.{match[2]}"
    if match := _OTHER_URN.fullmatch(text):
        return match[1].lower() + match[2]
    if match := _GIAI_DOTTED.fullmatch(text):
        return f"{GIAI_URN}{match[1]}.{match[2]}"
    # The dot-less GIAI of a Digital Link or element string: only the programme's own prefix can be split off.
    if text.isascii() and text.isdigit() and text.startswith(company_prefix) and len(text) > len(company_prefix):
        return f"{GIAI_URN}{company_prefix}.{text[len(company_prefix) :]}"
    return None
