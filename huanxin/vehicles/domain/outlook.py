"""The mandatory-scrapping outlook of a registered vehicle: must it be scrapped now, or within the next year?

It runs the ``scrap-check`` evaluator (``domain.scrapping``, 机动车强制报废标准规定) twice over what the registry
knows: on the day asked, and one year later. The registry knows the type, the registration date and the mileage
of the last inspection; the other grounds of Article 4 (failing the safety or emission standard after repair,
three missed inspection cycles) need facts the traffic police's data does not carry, so they are taken as met.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Final

from huanxin.vehicles.domain.records import covered_by_bj_truck_2024
from huanxin.vehicles.domain.scrapping import VEHICLE_TYPES, check_scrapping

HORIZON_YEARS: Final = 1


def years_later(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` later; 29 February becomes 1 March in a common year (the service life's
    anniversary rule of ``domain.scrapping``)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return datetime.date(day.year + years, 3, 1)


def years_earlier(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` earlier; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return datetime.date(day.year - years, 2, 28)


def service_life_ends_on(vehicle_type: str, registered_on: datetime.date) -> datetime.date | None:
    """The day the vehicle reaches its service life (it must be scrapped from then on); None for types
    without one."""
    years = VEHICLE_TYPES[vehicle_type].service_life_years
    return None if years is None else years_later(registered_on, years)


def latest_registration_due(vehicle_type: str, horizon: datetime.date) -> datetime.date | None:
    """The latest registration date whose service life ends on or before ``horizon`` (for an indexed pre-filter
    of the registry); None for types without a service life."""
    years = VEHICLE_TYPES[vehicle_type].service_life_years
    return None if years is None else years_earlier(horizon, years)


@dataclass(frozen=True)
class Outlook:
    """Where one vehicle stands: must it be scrapped now, by when, and is it covered by bj-truck-2024."""

    must_scrap: bool
    due_within_horizon: bool
    service_life_ends_on: datetime.date | None
    guide_mileage_reached: bool
    bj_truck_2024: bool
    reasons: tuple[dict[str, Any], ...]

    @property
    def listed(self) -> bool:
        """On the mandatory-scrapping list: due now or within the year, or covered by bj-truck-2024."""
        return self.must_scrap or self.due_within_horizon or self.bj_truck_2024


def outlook(
    *,
    vehicle_type: str,
    use: str,
    emission_standard: str,
    registered_on: datetime.date,
    mileage_km: int | None,
    as_of: datetime.date,
) -> Outlook:
    """The scrap-check on ``as_of`` and one year later, with the bj-truck-2024 flag."""
    as_of = max(as_of, registered_on)
    payload = {
        "vehicle_type": vehicle_type,
        "registered_on": registered_on,
        "as_of": as_of,
        "mileage_km": mileage_km or 0,
        "missed_inspection_cycles": 0,
        "passes_safety": True,
        "passes_emission": True,
    }
    now = check_scrapping(payload)
    later = check_scrapping({**payload, "as_of": years_later(as_of, HORIZON_YEARS)})
    return Outlook(
        must_scrap=bool(now["must_scrap"]),
        due_within_horizon=bool(later["must_scrap"]) and not now["must_scrap"],
        service_life_ends_on=service_life_ends_on(vehicle_type, registered_on),
        guide_mileage_reached=bool(now["guide_mileage_reached"]),
        bj_truck_2024=covered_by_bj_truck_2024(vehicle_type=vehicle_type, use=use, emission_standard=emission_standard),
        reasons=tuple(now["reasons"]),
    )
