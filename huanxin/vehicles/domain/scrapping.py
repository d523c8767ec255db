"""Mandatory vehicle scrapping: when a motor vehicle must be scrapped, and when it is only advised to be.

Source: 机动车强制报废标准规定（商务部、国家发展改革委、公安部、环境保护部令2012年第12号，
“商务部等4部门令2012年第12号”），in force from 2013-05-01.

- Article 4 lists the grounds that force scrapping; this module checks the four that input can show:
  the service life (使用年限) is reached; the vehicle still fails the safety standard, or the emission
  standard, after repair; the vehicle has had no inspection mark for 3 consecutive inspection cycles after
  its last one expired.
- Article 5 sets the service life per vehicle type; some types (non-operating small/micro passenger cars
  and large sedans, wheeled special machinery) have none.
- Article 7 sets a guide mileage (引导报废里程). Reaching it means the owner is *guided* to scrap the vehicle;
  it never forces scrapping on its own.
- The service life runs from the registration date (注册登记日期). A vehicle is N full years old from the
  N-th anniversary of that date on, the anniversary day itself included; a vehicle registered on 29 February
  reaches its anniversary on 1 March in a common year.

Pure Python: no Django import, so it can be used by the service layer, the API and the CLI alike.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

# A vehicle's age counts whole years the way a person's does (the anniversary completes a year).
from huanxin.core.domain.identifiers import age_on as full_years_between
from huanxin.core.domain.labels import field_named

# Article 4(4): three consecutive inspection cycles without an inspection mark force scrapping.
MISSED_INSPECTION_CYCLES_LIMIT: Final = 3

# The guide mileage table of Article 7 is in 万公里 (10 000 km).
KM_PER_GUIDE_UNIT: Final = 10_000

_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

REQUIRED_FIELDS: Final = (
    "vehicle_type",
    "registered_on",
    "as_of",
    "mileage_km",
    "missed_inspection_cycles",
    "passes_safety",
    "passes_emission",
)


@dataclass(frozen=True, slots=True)
class ScrapLimits:
    """Service life (years, None = no limit) and guide mileage (万 km, None = none) of one vehicle type."""

    name: str
    service_life_years: int | None
    guide_mileage_10k_km: int | None

    @property
    def guide_mileage_km(self) -> int | None:
        """The guide mileage in kilometres."""
        if self.guide_mileage_10k_km is None:
            return None
        return self.guide_mileage_10k_km * KM_PER_GUIDE_UNIT


# Articles 5 and 7, one row per vehicle type code of POLICY.md ("Mandatory vehicle scrapping").
VEHICLE_TYPES: Final[Mapping[str, ScrapLimits]] = {
    "taxi_small": ScrapLimits("小、微型出租客运汽车", 8, 60),
    "taxi_medium": ScrapLimits("中型出租客运汽车", 10, 50),
    "taxi_large": ScrapLimits("大型出租客运汽车", 12, 60),
    "rental_passenger": ScrapLimits("租赁载客汽车", 15, 60),
    "training_small": ScrapLimits("小型教练载客汽车", 10, 50),
    "training_medium": ScrapLimits("中型教练载客汽车", 12, 50),
    "training_large": ScrapLimits("大型教练载客汽车", 15, 60),
    "public_bus": ScrapLimits("公交客运汽车", 13, 40),
    "operating_small": ScrapLimits("其他小、微型营运载客汽车", 10, 60),
    "operating_medium": ScrapLimits("其他中型营运载客汽车", 15, 50),
    "operating_large": ScrapLimits("其他大型营运载客汽车", 15, 80),
    "school_bus": ScrapLimits("专用校车", 15, 40),
    "private_small": ScrapLimits("小、微型非营运载客汽车和大型非营运轿车", None, 60),
    "private_medium": ScrapLimits("中型非营运载客汽车", 20, 50),
    "private_large": ScrapLimits("大型非营运载客汽车（大型轿车除外）", 20, 60),
    "truck_micro": ScrapLimits("微型载货汽车", 12, 50),
    "truck_light_medium": ScrapLimits("轻型、中型载货汽车", 15, 60),
    "truck_heavy": ScrapLimits("重型载货汽车（含半挂牵引车和全挂牵引车）", 15, 70),
    "truck_hazardous": ScrapLimits("危险品运输载货汽车", 10, 40),
    "three_wheeled": ScrapLimits("三轮汽车", 9, None),
    "low_speed_single": ScrapLimits("装用单缸发动机的低速货车", 9, None),
    "low_speed_multi": ScrapLimits("装用多缸发动机的低速货车", 12, 30),
    "special_cargo": ScrapLimits("有载货功能的专项作业车", 15, 50),
    "special_no_cargo": ScrapLimits("无载货功能的专项作业车", 30, 50),
    "semi_trailer_container": ScrapLimits("集装箱半挂车", 20, None),
    "semi_trailer_hazardous": ScrapLimits("危险品运输半挂车", 10, None),
    "semi_trailer_other": ScrapLimits("其他半挂车", 15, None),
    "full_trailer": ScrapLimits("全挂车", 10, None),
    "motorcycle_three": ScrapLimits("正三轮摩托车", 12, 10),
    "motorcycle_other": ScrapLimits("其他摩托车", 13, 12),
    "wheeled_machinery": ScrapLimits("轮式专用机械车", None, 50),
}


class ScrapInputError(ValueError):
    """Malformed scrap-check input: a stable ``code``, the offending ``field`` and a Chinese ``message``."""

    def __init__(self, code: str, field: str, message: str) -> None:
        """Keep the three parts separately so every door (service, API, CLI) can render the same error."""
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message

    def to_dict(self) -> dict[str, dict[str, str]]:
        """Return the error body of the quote contract: ``{"error": {"code", "field", "message"}}``."""
        return {"error": {"code": self.code, "field": self.field, "message": self.message}}


def check_scrapping(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Decide whether a vehicle must be scrapped (机动车强制报废标准规定 arts. 4, 5 and 7) and explain why."""
    if not isinstance(payload, Mapping):
        raise ScrapInputError("invalid_type", "", "输入必须是 JSON 对象")
    for field in REQUIRED_FIELDS:
        if field not in payload:
            raise ScrapInputError("missing_field", field, f"缺少必填字段：{field_named(field)}")

    limits = _vehicle_type(payload["vehicle_type"])
    registered_on = _date(payload["registered_on"], "registered_on")
    as_of = _date(payload["as_of"], "as_of")
    if as_of < registered_on:
        raise ScrapInputError("date_order", "as_of", "评估日期不能早于注册登记日期")
    mileage_km = _non_negative_int(payload["mileage_km"], "mileage_km")
    missed_cycles = _non_negative_int(payload["missed_inspection_cycles"], "missed_inspection_cycles")
    passes_safety = _bool(payload["passes_safety"], "passes_safety")
    passes_emission = _bool(payload["passes_emission"], "passes_emission")

    age_years = full_years_between(registered_on, as_of)
    reasons = [
        _service_life_reason(limits, age_years),
        _guide_mileage_reason(limits, mileage_km),
        _safety_reason(passes_safety=passes_safety),
        _emission_reason(passes_emission=passes_emission),
        _inspection_reason(missed_cycles),
    ]
    guide_reason = reasons[1]
    # Guide mileage only advises scrapping (art. 7): it is reported but never forces must_scrap.
    forcing = [reason for reason in reasons if reason is not guide_reason]
    return {
        "must_scrap": any(not reason["passed"] for reason in forcing),
        "service_life_years": limits.service_life_years,
        "guide_mileage_km": limits.guide_mileage_km,
        "guide_mileage_reached": not guide_reason["passed"],
        "reasons": reasons,
    }


def _reason(code: str, *, passed: bool, message: str) -> dict[str, Any]:
    return {"code": code, "passed": passed, "message": message}


def _service_life_reason(limits: ScrapLimits, age_years: int) -> dict[str, Any]:
    """Art. 4(1): reaching the type's service life forces scrapping; some types have no service life."""
    if limits.service_life_years is None:
        return _reason("service_life", passed=True, message=f"{limits.name}无使用年限限制（已使用{age_years}年）")
    if age_years >= limits.service_life_years:
        return _reason(
            "service_life",
            passed=False,
            message=f"已使用{age_years}年，达到{limits.name}使用年限{limits.service_life_years}年，应当强制报废",
        )
    return _reason(
        "service_life",
        passed=True,
        message=f"已使用{age_years}年，未达到{limits.name}使用年限{limits.service_life_years}年",
    )


def _guide_mileage_reason(limits: ScrapLimits, mileage_km: int) -> dict[str, Any]:
    """Art. 7: reaching the guide mileage advises (引导) scrapping; ``passed`` is False once it is reached."""
    guide_km = limits.guide_mileage_km
    if guide_km is None:
        return _reason("guide_mileage", passed=True, message=f"{limits.name}无引导报废里程")
    if mileage_km >= guide_km:
        return _reason(
            "guide_mileage",
            passed=False,
            message=f"行驶里程{mileage_km}公里，已达到引导报废里程{guide_km}公里，建议报废（不强制）",
        )
    return _reason(
        "guide_mileage",
        passed=True,
        message=f"行驶里程{mileage_km}公里，未达到引导报废里程{guide_km}公里",
    )


def _safety_reason(*, passes_safety: bool) -> dict[str, Any]:
    """Art. 4(2): still failing the national safety-technical standard after repair forces scrapping."""
    if passes_safety:
        return _reason("safety", passed=True, message="符合国家机动车安全技术标准")
    return _reason("safety", passed=False, message="经修理和调整仍不符合机动车安全技术国家标准，应当强制报废")


def _emission_reason(*, passes_emission: bool) -> dict[str, Any]:
    """Art. 4(3): still failing the emission standard for vehicles in use after repair forces scrapping."""
    if passes_emission:
        return _reason("emission", passed=True, message="符合在用机动车排放标准")
    return _reason(
        "emission",
        passed=False,
        message="经修理和调整或采用控制技术后仍不符合在用机动车排放标准，应当强制报废",
    )


def _inspection_reason(missed_cycles: int) -> dict[str, Any]:
    """Art. 4(4): no inspection mark for 3 consecutive cycles after expiry forces scrapping."""
    if missed_cycles >= MISSED_INSPECTION_CYCLES_LIMIT:
        return _reason(
            "inspection",
            passed=False,
            message=f"检验有效期届满后连续{missed_cycles}个检验周期未取得检验合格标志，应当强制报废",
        )
    return _reason(
        "inspection",
        passed=True,
        message=(f"连续未取得检验合格标志的检验周期为{missed_cycles}个，未达到{MISSED_INSPECTION_CYCLES_LIMIT}个"),
    )


def _vehicle_type(value: object) -> ScrapLimits:
    if not isinstance(value, str):
        raise ScrapInputError("invalid_type", "vehicle_type", "车辆类型必须是字符串")
    limits = VEHICLE_TYPES.get(value)
    if limits is None:
        raise ScrapInputError("unknown_vehicle_type", "vehicle_type", f"未知的车辆类型：{value}")
    return limits


def _date(value: object, field: str) -> datetime.date:
    # A datetime is a date subclass; it carries a time and a zone we would silently drop, so refuse it.
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if not isinstance(value, str):
        raise ScrapInputError("invalid_type", field, f"{field_named(field)}必须是 YYYY-MM-DD 格式的日期字符串")
    if not _ISO_DATE.fullmatch(value):
        raise ScrapInputError("invalid_date", field, f"{field_named(field)}格式不正确，应为 YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ScrapInputError("invalid_date", field, f"{field_named(field)}不是有效日期：{value}") from None


def _non_negative_int(value: object, field: str) -> int:
    # bool is an int subclass in Python; true/false is never a count or a distance.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScrapInputError("invalid_type", field, f"{field_named(field)}必须是整数")
    if value < 0:
        raise ScrapInputError("negative_value", field, f"{field_named(field)}不能为负数")
    return value


def _bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise ScrapInputError("invalid_type", field, f"{field_named(field)}必须是 true 或 false")
    return value
