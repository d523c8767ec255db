"""The one Chinese font every PDF the platform writes embeds: Noto Sans SC, an OFL font shipped inside the
``justmytype-intl-cjk`` package. reportlab's built-in CID fonts (STSong-Light) are not embedded, so a viewer without
the Adobe Asian font pack shows blanks or boxes; an embedded subset renders the same everywhere."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

CJK_FONT = "HuanxinNotoSansSC"


def font_path() -> str:
    """The TrueType file of Noto Sans SC inside the installed font package."""
    return str(files("justmytype_intl_cjk") / "fonts" / "ofl" / "notosanssc" / "NotoSansSC[wght].ttf")


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The font's reportlab name, registered on first use (reading the file once per process)."""
    pdfmetrics.registerFont(TTFont(CJK_FONT, font_path()))
    return CJK_FONT
