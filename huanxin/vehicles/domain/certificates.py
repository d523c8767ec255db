"""Scrapping a vehicle: the 报废机动车回收证明's number, the five major assemblies and where they may go, and the
traction battery's GB/T 34014 code.

《报废机动车回收管理办法》(国务院令第715号, 2019) and its 实施细则 (商务部令2020年第2号): a licensed
scrapping enterprise takes the vehicle in, issues the 报废机动车回收证明 to its owner, and records where the
five major assemblies (发动机、方向机、变速器、前后桥、车架) go: one fit for remanufacturing may be sold to a
remanufacturing enterprise; one that is not goes as scrap metal to a steel works as smelting feedstock
(办法第十二条). 《新能源汽车动力蓄电池回收利用管理暂行办法》: a new-energy vehicle's traction battery goes to a
cascade-use or recycling enterprise, identified by its GB/T 34014 code.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from huanxin.core.domain.masking import mask_middle

# ---------------------------------------------------------------- the certificate number

# The number: "BF" (报废), the enterprise's 9-character organisation code — positions 9 to 17 of its unified social
# credit code (GB 32100-2015) —, the year of issue and a six-digit sequence of the enterprise within that year:
# BF MA01HX0E0 2026 000001 → "BFMA01HX0E02026000001" (21 characters). Unique across the platform because the
# organisation code is unique and the sequence is counted per enterprise and year.
NUMBER_PREFIX: Final = "BF"
NUMBER_LENGTH: Final = 21
MAX_SEQUENCE: Final = 999_999


def enterprise_code(uscc: str) -> str:
    """The organisation code inside a unified social credit code (GB 32100: positions 9–17)."""
    return uscc[8:17]


def certificate_number(*, uscc: str, year: int, sequence: int) -> str:
    """The certificate number of the enterprise's ``sequence``-th certificate of ``year`` (format above)."""
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError("sequence out of range")
    return f"{NUMBER_PREFIX}{enterprise_code(uscc)}{year:04d}{sequence:06d}"


def normalise_number(text: str) -> str:
    """A certificate number as typed or scanned: full-width and spaces removed, upper case."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).upper()


def masked_vin(vin: str) -> str:
    """A VIN on the public check page: the manufacturer (WMI) and the last four characters; enough to compare
    with the car in front of you, not enough to look the car up elsewhere."""
    return mask_middle(vin, 3, 4)


# ---------------------------------------------------------------- revocation

# Why an issuing enterprise revokes (作废) a certificate it issued.
REVOCATION_REASONS: Final[Mapping[str, str]] = {
    "wrong_vehicle": "车辆识别代号录入错误，所开证明不是交车车辆的",
    "not_handed_over": "车辆未实际交付回收",
    "duplicate": "重复开具",
    "fraud": "核查发现虚假交车或证明被冒用",
    "other": "其他原因",
}


# ---------------------------------------------------------------- the five major assemblies

ASSEMBLIES: Final[Mapping[str, str]] = {
    "engine": "发动机",
    "steering": "方向机",
    "gearbox": "变速器",
    "axles": "前后桥",
    "frame": "车架",
}

# Where an assembly may go (办法第十二条).
DESTINATIONS: Final[Mapping[str, str]] = {
    "remanufacturing": "出售给再制造企业",
    "smelting": "作为废金属交钢铁企业冶炼",
}


@dataclass(frozen=True)
class AssemblyInput:
    """Where one major assembly went: its kind, the destination and the name of the party that received it."""

    assembly: str
    destination: str
    receiver_name: str


@dataclass(frozen=True)
class AssemblyProblem:
    """Why a set of assemblies is refused: a stable code, a message for people, the field it is about."""

    code: str
    message: str
    field: str


MAX_RECEIVER_NAME: Final = 120


def assemblies_problem(items: Sequence[AssemblyInput]) -> AssemblyProblem | None:
    """Each of the five assemblies exactly once, each with a known destination and the receiving party's name."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.assembly not in ASSEMBLIES:
            return AssemblyProblem("unknown_assembly", f"第 {index + 1} 项不是五大总成之一", "assemblies")
        name = ASSEMBLIES[item.assembly]
        if item.assembly in seen:
            return AssemblyProblem("duplicate_assembly", f"{name}重复填写，每个总成只记录一次", "assemblies")
        seen.add(item.assembly)
        if item.destination not in DESTINATIONS:
            return AssemblyProblem(
                "unknown_destination", f"{name}的去向无效：应为再制造企业或钢铁企业冶炼", "assemblies"
            )
        receiver = item.receiver_name.strip()
        if not receiver or len(receiver) > MAX_RECEIVER_NAME:
            return AssemblyProblem(
                "receiver_required", f"请填写{name}的接收单位名称（不超过 {MAX_RECEIVER_NAME} 字）", "assemblies"
            )
    missing = [ASSEMBLIES[code] for code in ASSEMBLIES if code not in seen]
    if missing:
        return AssemblyProblem("missing_assembly", f"五大总成须全部记录，缺少：{'、'.join(missing)}", "assemblies")
    return None


# ---------------------------------------------------------------- the traction battery's GB/T 34014 code

# GB/T 34014-2017《汽车动力蓄电池编码规则》: 24 characters, digits and upper-case Latin letters, in two parts —
# design information: manufacturer code (3), product type (1: P pack, M module, C cell), battery type (1),
# specification code (2), traceability code (7); production information: date (3), serial number (7).
# Checked here: the length, the character set and the product type; the code of a scrapped vehicle's battery
# is read off its label, and these are the checks that catch a mistyped or truncated one.
BATTERY_CODE_LENGTH: Final = 24
BATTERY_CODE_CHARACTERS: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
PRODUCT_TYPES: Final[Mapping[str, str]] = {"P": "电池包", "M": "模块", "C": "单体"}


class BatteryCodeError(ValueError):
    """A text that is not a GB/T 34014 code; ``code`` is stable, ``message`` says what is wrong."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def validate_battery_code(text: str) -> str:
    """The code in its stored form (spaces removed, full-width folded, upper case), or BatteryCodeError saying
    which check failed: the length, a character outside digits and letters, or the product type (4th)."""
    code = "".join(unicodedata.normalize("NFKC", text or "").split()).upper()
    if not code:
        raise BatteryCodeError("required", "请填写动力蓄电池编码")
    if len(code) != BATTERY_CODE_LENGTH:
        raise BatteryCodeError(
            "battery_code_length", f"动力蓄电池编码应为 {BATTERY_CODE_LENGTH} 位（GB/T 34014），输入了 {len(code)} 位"
        )
    bad = [f"第 {i + 1} 位“{ch}”" for i, ch in enumerate(code) if ch not in BATTERY_CODE_CHARACTERS]
    if bad:
        raise BatteryCodeError(
            "battery_code_characters", f"动力蓄电池编码只能由数字和大写英文字母组成：{'、'.join(bad[:3])}不符合"
        )
    if code[3] not in PRODUCT_TYPES:
        raise BatteryCodeError(
            "battery_code_product_type",
            f"动力蓄电池编码第 4 位为产品类型代码，应为 P（电池包）、M（模块）或 C（单体），实为“{code[3]}”",
        )
    return code
