"""The vocabulary of a vehicle record: use, fuel, emission standard, event kinds, owner kinds.

Codes are what the database and the API store; the Chinese names are what the traffic police's files and the
pages use. ``parse_*`` accept either and return the code, or ``None`` for text that names nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Final

from huanxin.vehicles.domain.scrapping import VEHICLE_TYPES

# 使用性质 (GA 802): operating vehicles carry passengers or goods for pay; the service life depends on it.
USES: Final[Mapping[str, str]] = {"operating": "营运", "non_operating": "非营运"}

# 燃料种类. New-energy vehicles (新能源汽车) are battery-electric, plug-in hybrid (range extenders included)
# and fuel-cell vehicles (工业和信息化部《新能源汽车生产企业及产品准入管理规定》第三条); a hybrid that cannot
# be plugged in is a fuel car.
FUELS: Final[Mapping[str, str]] = {
    "gasoline": "汽油",
    "diesel": "柴油",
    "hybrid": "油电混合动力（非插电）",
    "natural_gas": "天然气",
    "bev": "纯电动",
    "phev": "插电式混合动力",
    "erev": "增程式",
    "fcev": "燃料电池",
    "other": "其他",
}
NEV_FUELS: Final = frozenset({"bev", "phev", "erev", "fcev"})

# 国一 … 国六: the national light/heavy vehicle emission stages (GB 18352, GB 17691).
EMISSION_STANDARDS: Final[Mapping[str, str]] = {
    "guo1": "国一",
    "guo2": "国二",
    "guo3": "国三",
    "guo4": "国四",
    "guo5": "国五",
    "guo6": "国六",
}

# What happens to a vehicle in its life, in the order a life runs through them.
EVENT_KINDS: Final[Mapping[str, str]] = {
    "registration": "注册登记",
    "transfer": "转移登记",
    "inspection": "安全技术检验",
    "scrapping": "报废回收",
    "scrap_revoked": "报废回收证明作废",
    "deregistration": "注销登记",
}

OWNER_KINDS: Final[Mapping[str, str]] = {"person": "个人", "organisation": "单位"}

# 车辆状态, derived from the events.
STATUSES: Final[Mapping[str, str]] = {
    "registered": "在用",
    "scrapped": "已报废回收",
    "deregistered": "已注销",
}

_EXTRA_NAMES: Final[Mapping[str, Mapping[str, str]]] = {
    "use": {"营业": "operating", "营运车辆": "operating", "非营业": "non_operating", "非营运车辆": "non_operating"},
    "fuel": {
        "电": "bev",
        "纯电": "bev",
        "插电混动": "phev",
        "插电式混合动力（含增程式）": "phev",
        "增程": "erev",
        "氢燃料电池": "fcev",
        "油电混合": "hybrid",
        "混合动力": "hybrid",
        "普通混合动力": "hybrid",
        "cng": "natural_gas",
        "lng": "natural_gas",
        "燃气": "natural_gas",
    },
    "emission_standard": {
        "国1": "guo1",
        "国2": "guo2",
        "国3": "guo3",
        "国4": "guo4",
        "国5": "guo5",
        "国6": "guo6",
        "国ⅰ": "guo1",
        "国ⅱ": "guo2",
        "国ⅲ": "guo3",
        "国ⅳ": "guo4",
        "国ⅴ": "guo5",
        "国ⅵ": "guo6",
        "国6a": "guo6",
        "国6b": "guo6",
        "国六a": "guo6",
        "国六b": "guo6",
    },
    "event_kind": {"注册": "registration", "转移": "transfer", "过户": "transfer", "检验": "inspection",
                   "年检": "inspection", "报废": "scrapping", "注销": "deregistration"},
    "owner_kind": {"自然人": "person", "个人": "person", "单位": "organisation", "企业": "organisation",
                   "机构": "organisation"},
}  # fmt: skip


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _parser(name: str, table: Mapping[str, str]) -> dict[str, str]:
    names = {_key(code): code for code in table}
    names.update({_key(label): code for code, label in table.items()})
    names.update({_key(extra): code for extra, code in _EXTRA_NAMES.get(name, {}).items()})
    return names


_VEHICLE_TYPE_NAMES: Final = {code: limits.name for code, limits in VEHICLE_TYPES.items()}
_LOOKUPS: Final = {
    "use": _parser("use", USES),
    "fuel": _parser("fuel", FUELS),
    "emission_standard": _parser("emission_standard", EMISSION_STANDARDS),
    "event_kind": _parser("event_kind", EVENT_KINDS),
    "owner_kind": _parser("owner_kind", OWNER_KINDS),
    "vehicle_type": _parser("vehicle_type", _VEHICLE_TYPE_NAMES),
}


def parse(name: str, text: str) -> str | None:
    """The code for a value typed as its code or its Chinese name (``use``, ``fuel``, ``emission_standard``,
    ``event_kind``, ``owner_kind``, ``vehicle_type``); None when it names nothing."""
    return _LOOKUPS[name].get(_key(text))


def vehicle_type_name(code: str) -> str:
    """The Chinese name of a vehicle type code of the mandatory-scrapping standard."""
    limits = VEHICLE_TYPES.get(code)
    return limits.name if limits else code


def is_nev(fuel: str) -> bool:
    """Whether the fuel makes the vehicle a new-energy vehicle."""
    return fuel in NEV_FUELS


def policy_fuel(fuel: str) -> str:
    """The fuel as the car subsidy rules read it (POLICY.md, ``old_vehicle.fuel``): gasoline, diesel, nev, other.
    A non-plug-in hybrid burns gasoline and is a gasoline car for the rules."""
    if fuel in NEV_FUELS:
        return "nev"
    if fuel in {"gasoline", "hybrid"}:
        return "gasoline"
    if fuel == "diesel":
        return "diesel"
    return "other"


# bj-truck-2024 (POLICY.md): the Beijing renewal of 国四 operating heavy trucks. A vehicle is covered when it is
# an operating heavy truck (tractors included, as the scrapping standard's "truck_heavy") of emission stage 国四.
BJ_TRUCK_PROGRAMME: Final = "bj-truck-2024"


def covered_by_bj_truck_2024(*, vehicle_type: str, use: str, emission_standard: str) -> bool:
    """Whether ``bj-truck-2024`` covers the vehicle: an operating heavy truck of emission stage 国四."""
    return vehicle_type == "truck_heavy" and use == "operating" and emission_standard == "guo4"
