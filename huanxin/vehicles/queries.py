"""The read side of the vehicle registry: who may read and import, the VIN search, the mandatory-scrapping list."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse

from huanxin.accounts.models import District, Licence, Organisation, OrganisationKind
from huanxin.accounts.roles import VEHICLE_REGISTRY_KEEPERS, VEHICLE_REGISTRY_READERS, VEHICLE_SCRAPPING_STAFF
from huanxin.core.errors import NotFoundError, ValidationFailed
from huanxin.core.permissions import districts_for, has_role, organisations_for
from huanxin.vehicles.domain import certificates
from huanxin.vehicles.domain import outlook as outlooks
from huanxin.vehicles.domain.lifecycle import KIND_ORDER
from huanxin.vehicles.domain.scrapping import VEHICLE_TYPES
from huanxin.vehicles.domain.vin import VinError, validate_vin
from huanxin.vehicles.models import (
    ScrapAssembly,
    ScrapCertificate,
    TractionBattery,
    Vehicle,
    VehicleEvent,
    VehicleImport,
)

# The range of days the list can be asked for: registrations go back to 1950, and the longest service life (30
# years) plus the one-year horizon must stay within the calendar.
EARLIEST_AS_OF = datetime.date(1950, 1, 1)
LATEST_AS_OF = datetime.date(2200, 12, 31)
IMPORT_REFUSED = "只有全市范围的系统管理员和审核人员可以导入机动车登记数据"


def can_read_registry(user: Any) -> bool:
    """The VIN search and the mandatory-scrapping list are for registry readers (government oversight staff)."""
    return has_role(user, *VEHICLE_REGISTRY_READERS)


def can_import(user: Any) -> bool:
    """The traffic police's file covers the whole city: only keepers with a city-wide grant import it."""
    return has_role(user, *VEHICLE_REGISTRY_KEEPERS) and districts_for(user, *VEHICLE_REGISTRY_KEEPERS) is None


def district_lookup() -> dict[str, str]:
    """Each district's code, name and short name → its code (how an import file may name a district)."""
    lookup: dict[str, str] = {}
    for code, name, short_name in District.objects.values_list("code", "name", "short_name"):
        for key in (code, name, short_name):
            if key:
                lookup["".join(key.split())] = code
    return lookup


def get_vehicle_by_vin_for_user(user: Any, vin: str) -> Vehicle:
    """A vehicle the user may read, found by its VIN; a malformed VIN is refused saying which check failed, an
    unknown or out-of-scope one is 404 (existence is not disclosed)."""
    try:
        canonical = validate_vin(vin)
    except VinError as exc:
        raise ValidationFailed.for_field("vin", exc.code, exc.message) from None
    vehicle = (
        Vehicle.objects.visible_to(user).filter(vin=canonical).select_related("district").first()
        if can_read_registry(user)
        else None
    )
    if vehicle is None:
        raise NotFoundError("未找到该车辆，或您无权查看", code="vehicle_not_found")
    return vehicle


def history(vehicle: Vehicle) -> list[VehicleEvent]:
    """Every event of the vehicle, in the order they happened."""
    events = VehicleEvent.objects.filter(vehicle=vehicle).select_related("district", "organisation")
    return sorted(events, key=lambda event: (event.occurred_on, KIND_ORDER.get(event.kind, 9), event.pk))


def get_import_for_user(user: Any, pk: int) -> VehicleImport:
    """An import report for keepers and city-wide registry readers (the file covers the whole city), or 404."""
    allowed = can_import(user) or (can_read_registry(user) and districts_for(user, *VEHICLE_REGISTRY_READERS) is None)
    found = VehicleImport.objects.filter(pk=pk).select_related("uploaded_by").first() if allowed else None
    if found is None:
        raise NotFoundError("导入记录不存在或无权查看", code="vehicle_import_not_found")
    return found


def recent_imports(limit: int = 20) -> QuerySet[VehicleImport]:
    return (
        VehicleImport.objects.select_related("uploaded_by")
        .defer("refused_rows")
        .order_by("-uploaded_at", "-pk")[:limit]
    )


# ---------------------------------------------------------------- the mandatory-scrapping list


@dataclass(frozen=True)
class ScrapListEntry:
    """One vehicle on the mandatory-scrapping list, with the outcome of the scrap-check."""

    vehicle: Vehicle
    outlook: outlooks.Outlook

    @property
    def status(self) -> str:
        if self.outlook.must_scrap:
            return "must_scrap"
        if self.outlook.due_within_horizon:
            return "due_within_year"
        return "bj_truck_2024"

    @property
    def status_name(self) -> str:
        return SCRAP_STATUS_NAMES[self.status]


SCRAP_STATUS_NAMES = {
    "must_scrap": "已达强制报废标准",
    "due_within_year": "一年内达到强制报废标准",
    "bj_truck_2024": "国四营运重型货车（bj-truck-2024 可申请）",
}


def _candidates(queryset: QuerySet[Vehicle], horizon: datetime.date) -> QuerySet[Vehicle]:
    """Vehicles in use that may be due by ``horizon`` (an indexed pre-filter per type) or that bj-truck-2024
    covers; each is then decided by the scrap-check itself."""
    due = Q(pk__in=[])
    for code in VEHICLE_TYPES:
        cutoff = outlooks.latest_registration_due(code, horizon)
        if cutoff is not None:
            due |= Q(vehicle_type=code, registered_on__lte=cutoff)
    trucks = Q(vehicle_type="truck_heavy", use="operating", emission_standard="guo4")
    return queryset.filter(status="registered").filter(due | trucks)


def scrap_list(
    queryset: QuerySet[Vehicle],
    *,
    as_of: datetime.date,
    district: str = "",
    vehicle_type: str = "",
    bj_truck_only: bool = False,
) -> Iterator[ScrapListEntry]:
    """The vehicles of ``queryset`` that must be scrapped on ``as_of`` or within a year of it, and the operating
    trucks bj-truck-2024 covers, by district, type and registration date."""
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        raise ValidationFailed.for_field(
            "as_of", "as_of_out_of_range", f"评估日期应在 {EARLIEST_AS_OF:%Y-%m-%d} 至 {LATEST_AS_OF:%Y-%m-%d} 之间"
        )
    horizon = outlooks.years_later(as_of, outlooks.HORIZON_YEARS)
    candidates = _candidates(queryset, horizon)
    if district:
        candidates = candidates.filter(district_id=district)
    if vehicle_type:
        candidates = candidates.filter(vehicle_type=vehicle_type)
    if bj_truck_only:
        candidates = candidates.filter(vehicle_type="truck_heavy", use="operating", emission_standard="guo4")
    ordered = candidates.select_related("district").order_by("district_id", "vehicle_type", "registered_on", "vin")
    for vehicle in ordered.iterator(chunk_size=2000):
        found = outlooks.outlook(
            vehicle_type=vehicle.vehicle_type,
            use=vehicle.use,
            emission_standard=vehicle.emission_standard,
            registered_on=vehicle.registered_on,
            mileage_km=vehicle.mileage_km,
            as_of=as_of,
        )
        if found.listed:
            yield ScrapListEntry(vehicle, found)


def scrap_list_for_user(user: Any, **filters: Any) -> Iterator[ScrapListEntry]:
    """The mandatory-scrapping list of the vehicles the user may read."""
    return scrap_list(Vehicle.objects.visible_to(user), **filters)


@dataclass(frozen=True)
class ScrapSummaryRow:
    district: str
    district_name: str
    vehicle_type: str
    vehicle_type_name: str
    must_scrap: int
    due_within_year: int
    bj_truck_2024: int


def summarise(entries: list[ScrapListEntry]) -> list[ScrapSummaryRow]:
    """Counts by district and type: must scrap now, due within the year, covered by bj-truck-2024."""
    counts: dict[tuple[str, str], list[int]] = {}
    names: dict[str, str] = {}
    for entry in entries:
        key = (entry.vehicle.district_id, entry.vehicle.vehicle_type)
        names[entry.vehicle.district_id] = entry.vehicle.district.name
        row = counts.setdefault(key, [0, 0, 0])
        row[0] += entry.outlook.must_scrap
        row[1] += entry.outlook.due_within_horizon
        row[2] += entry.outlook.bj_truck_2024
    return [
        ScrapSummaryRow(
            district=district,
            district_name=names[district],
            vehicle_type=code,
            vehicle_type_name=VEHICLE_TYPES[code].name,
            must_scrap=row[0],
            due_within_year=row[1],
            bj_truck_2024=row[2],
        )
        for (district, code), row in sorted(counts.items())
    ]


# ---------------------------------------------------------------- scrapping


SCRAPPING_REFUSED = "只有报废机动车回收拆解企业的人员可以办理报废机动车回收"


def scrapping_enterprises_of(user: Any) -> QuerySet[Organisation]:
    """The vehicle-scrapping enterprises the user works for (as their staff), by id."""
    ids = organisations_for(user, *VEHICLE_SCRAPPING_STAFF)
    return Organisation.objects.filter(pk__in=ids, kind=OrganisationKind.VEHICLE_SCRAPPER).order_by("pk")


def can_scrap(user: Any) -> bool:
    """Whether the user works for a vehicle-scrapping enterprise (the scrapping pages and endpoints)."""
    return scrapping_enterprises_of(user).exists()


def certificates_of(enterprise: Organisation) -> QuerySet[ScrapCertificate]:
    """The certificates an enterprise issued, newest first."""
    found = ScrapCertificate.objects.filter(enterprise=enterprise).select_related("vehicle")
    return found.order_by("-issued_at", "-pk")


def get_certificate_of(enterprise: Organisation, pk: int) -> ScrapCertificate:
    """One of the enterprise's own certificates, or 404 (another enterprise's is not disclosed)."""
    found = (
        ScrapCertificate.objects.filter(pk=pk, enterprise=enterprise).select_related("vehicle", "enterprise").first()
    )
    if found is None:
        raise NotFoundError("回收证明不存在或不属于本企业", code="certificate_not_found")
    return found


def public_certificate(number: str) -> ScrapCertificate | None:
    """A certificate by its number, for the public check page (anyone: no identity is shown there)."""
    canonical = certificates.normalise_number(number)
    if not canonical or len(canonical) > certificates.NUMBER_LENGTH:
        return None
    return ScrapCertificate.objects.filter(number=canonical).select_related("vehicle", "enterprise").first()


def assemblies_of(certificate: ScrapCertificate) -> list[ScrapAssembly]:
    """The five assemblies recorded for a certificate, in the order of the regulation's list."""
    order = {code: index for index, code in enumerate(certificates.ASSEMBLIES)}
    return sorted(ScrapAssembly.objects.filter(certificate=certificate), key=lambda a: order[a.assembly])


def batteries_of(certificate: ScrapCertificate) -> QuerySet[TractionBattery]:
    return TractionBattery.objects.filter(certificate=certificate).select_related("recycler").order_by("pk")


def battery_recyclers(on: datetime.date) -> QuerySet[Organisation]:
    """Organisations holding a cascade-use or recycling licence for traction batteries valid on the day."""
    kinds = [Licence.Kind.BATTERY_CASCADE_USE, Licence.Kind.BATTERY_RECYCLING]
    licensed = Licence.objects.filter(kind__in=kinds, valid_from__lte=on).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=on)
    )
    return Organisation.objects.filter(pk__in=licensed.values("organisation_id")).order_by("name", "pk")


def check_url(number: str) -> str:
    """The public check page of a certificate, as its QR code carries it (the platform's public address)."""
    return f"{settings.HUANXIN_TRACE_RESOLVER}{reverse('vehicles:certificate_check', args=[number])}"
