"""Subsidy category codes and their Chinese names, as listed in POLICY.md's category table."""

from __future__ import annotations

import unicodedata

# The order is POLICY.md's table read row by row; names are the programme notices' wording.
CATEGORIES: dict[str, str] = {
    "fridge": "冰箱",
    "phone": "手机",
    "washer": "洗衣机",
    "tablet": "平板（含学习机）",
    "tv": "电视",
    "smartwatch": "智能手表/手环",
    "ac": "空调",
    "smart_glasses": "智能眼镜",
    "computer": "电脑",
    "smart_toilet": "智能马桶",
    "water_heater": "热水器",
    "smart_lock": "智能门锁",
    "gas_stove": "家用灶具",
    "robot_vacuum": "扫地机器人（含洗地机、扫拖一体机）",
    "range_hood": "吸油烟机",
    "food_waste_disposer": "厨余垃圾处理器",
    "water_purifier": "净水器",
    "ebike": "电动自行车",
    "dishwasher": "洗碗机",
    "car": "乘用车",
    "rice_cooker": "电饭煲",
    "microwave": "微波炉",
}

CATEGORY_CHOICES: list[tuple[str, str]] = list(CATEGORIES.items())


def _key(text: str) -> str:
    """Compare names the way people type them: full-width and half-width alike, no spaces, any case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _aliases() -> dict[str, str]:
    """Every way a spreadsheet may name a category: code, full name, the name without its note, each of a/b."""
    aliases: dict[str, str] = {}
    for code, name in CATEGORIES.items():
        short = name.split("（", 1)[0]
        for alias in (code, name, short, *short.split("/")):
            aliases[_key(alias)] = code
    return aliases


_ALIASES = _aliases()


def resolve_category(text: str) -> str | None:
    """The category code for a code or Chinese name typed in a file (case and spaces ignored); None if unknown."""
    return _ALIASES.get(_key(text))


def category_name(code: str) -> str:
    """The Chinese name of a category code (the code itself if unknown, so old rows still display)."""
    return CATEGORIES.get(code, code)


def category_short_name(code: str) -> str:
    """The name without its note in brackets, for narrow screens: 扫地机器人（含洗地机、扫拖一体机） → 扫地机器人."""
    return category_name(code).split("（", 1)[0]
