"""The vehicle registry: one record per VIN, the events of its life, and the imports that brought them.

A :class:`Vehicle` is one motor vehicle, identified by its VIN; its fixed facts (type, fuel, displacement,
emission stage, registration date) come from its registration, and its current state (status, owner and since
when, district, last inspection) is derived from its events by ``domain.lifecycle`` and only ever rewritten
from them. A :class:`VehicleEvent` is one event of its life: appended, never changed or deleted. A
:class:`VehicleImport` keeps the outcome of every upload of the traffic police's data.

Later parts of the car programme point here: a scrapping enterprise's intake and its 报废机动车回收证明, and
the residents' car applications, each reference a ``Vehicle`` (``on_delete=PROTECT``), and the intake appends the
``scrapping`` event (``source="scrapping_enterprise"``, ``organisation`` and ``reference`` = certificate number).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from huanxin.accounts.models import District, Organisation, Person
from huanxin.accounts.roles import VEHICLE_REGISTRY_READERS
from huanxin.core.domain.masking import mask_name
from huanxin.core.permissions import district_scope
from huanxin.vehicles.domain import certificates, records
from huanxin.vehicles.domain.scrapping import VEHICLE_TYPES


def _choices(table: Any) -> list[tuple[str, str]]:
    return list(table.items())


VEHICLE_TYPE_CHOICES = [(code, limits.name) for code, limits in VEHICLE_TYPES.items()]


class OwnerFields(models.Model):
    """Who owns the vehicle (at an event, or now): a person or an organisation, the identity number sealed."""

    owner_kind = models.CharField("所有人类型", max_length=12, choices=_choices(records.OWNER_KINDS), blank=True)
    owner_name = models.CharField("所有人", max_length=120, blank=True)
    # Resident ID (purpose "resident_id", the same blind index as accounts.Person) or unified social credit code
    # (purpose "uscc"): AES-GCM ciphertext, keyed hash for lookups, masked display.
    owner_id_cipher = models.TextField(blank=True)
    owner_id_digest = models.CharField(max_length=64, blank=True, db_index=True)
    owner_id_masked = models.CharField("所有人证件号码", max_length=18, blank=True)

    class Meta:
        abstract = True

    @property
    def owner_display_name(self) -> str:
        """A person's name masked (张**); an organisation's in full."""
        return mask_name(self.owner_name) if self.owner_kind == "person" else self.owner_name


class VehicleQuerySet(models.QuerySet["Vehicle"]):
    def visible_to(self, user: Any) -> VehicleQuerySet:
        """Registry readers see the vehicles registered in their districts (city-wide grants: all); others none."""
        return district_scope(self, user, staff_roles=VEHICLE_REGISTRY_READERS, district_field="district_id")


class Vehicle(OwnerFields):
    """One motor vehicle, by VIN: its registered facts, and its current state as derived from its events."""

    vin = models.CharField("车辆识别代号", max_length=17, unique=True)
    vehicle_type = models.CharField("车辆类型", max_length=30, choices=VEHICLE_TYPE_CHOICES)
    use = models.CharField("使用性质", max_length=16, choices=_choices(records.USES))
    fuel = models.CharField("燃料种类", max_length=16, choices=_choices(records.FUELS))
    displacement_ml = models.PositiveIntegerField("排量（毫升）", default=0)
    emission_standard = models.CharField(
        "排放标准", max_length=8, choices=_choices(records.EMISSION_STANDARDS), blank=True
    )
    registered_on = models.DateField("注册登记日期")
    # Derived from the events (domain.lifecycle.derive_state); rewritten only by the service that appends one.
    status = models.CharField("状态", max_length=16, choices=_choices(records.STATUSES))
    owner_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="所有人（自然人）"
    )
    owner_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="所有人（单位）"
    )
    owner_since = models.DateField("登记为所有人的日期")
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name="登记区")
    last_inspection_on = models.DateField("最近检验日期", null=True, blank=True)
    inspection_passed = models.BooleanField("最近检验合格", null=True, blank=True)
    mileage_km = models.PositiveIntegerField("行驶里程（公里）", null=True, blank=True)
    scrapped_on = models.DateField("报废回收日期", null=True, blank=True)
    deregistered_on = models.DateField("注销登记日期", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    objects = VehicleQuerySet.as_manager()

    class Meta:
        verbose_name = "机动车"
        verbose_name_plural = "机动车"
        ordering = ["vin"]
        constraints = [
            models.CheckConstraint(condition=Q(use__in=list(records.USES)), name="vehicles_vehicle_use_known"),
            models.CheckConstraint(condition=Q(fuel__in=list(records.FUELS)), name="vehicles_vehicle_fuel_known"),
            models.CheckConstraint(
                condition=Q(vehicle_type__in=list(VEHICLE_TYPES)), name="vehicles_vehicle_type_known"
            ),
            models.CheckConstraint(
                condition=Q(emission_standard__in=["", *records.EMISSION_STANDARDS]),
                name="vehicles_vehicle_emission_known",
            ),
            models.CheckConstraint(
                condition=Q(status__in=list(records.STATUSES)), name="vehicles_vehicle_status_known"
            ),
            models.CheckConstraint(
                condition=Q(owner_kind__in=list(records.OWNER_KINDS)), name="vehicles_vehicle_owner_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(owner_person__isnull=True) | Q(owner_organisation__isnull=True),
                name="vehicles_vehicle_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(displacement_ml__lte=30_000), name="vehicles_vehicle_displacement_range"
            ),
            models.CheckConstraint(
                condition=Q(owner_since__gte=F("registered_on")), name="vehicles_vehicle_owner_after_registration"
            ),
        ]
        indexes = [
            # The mandatory-scrapping list walks the registry by district and type.
            models.Index(fields=["district", "vehicle_type", "registered_on"], name="vehicles_vehicle_scrap_idx"),
        ]

    def __str__(self) -> str:
        return self.vin

    @property
    def vehicle_type_name(self) -> str:
        return records.vehicle_type_name(self.vehicle_type)

    @property
    def is_nev(self) -> bool:
        return records.is_nev(self.fuel)


class VehicleImport(models.Model):
    """One upload of the traffic police's data: who, when, which file, what became of its rows, and why each
    refused row was refused. A file with refused rows imports nothing unless ``good_rows_only`` was asked."""

    class Outcome(models.TextChoices):
        IMPORTED = "imported", "已导入"
        REFUSED = "refused", "有错误，未导入"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="导入人"
    )
    uploaded_at = models.DateTimeField("导入时间", default=timezone.now, db_index=True)
    file_name = models.CharField("文件名", max_length=200)
    file_format = models.CharField("格式", max_length=10)
    file_size = models.PositiveIntegerField("文件大小（字节）")
    file_digest = models.CharField("文件 SHA-256", max_length=64)
    good_rows_only = models.BooleanField("仅导入无误的行", default=False)
    outcome = models.CharField("结果", max_length=10, choices=Outcome.choices)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    recorded_count = models.PositiveIntegerField("新记录", default=0)
    unchanged_count = models.PositiveIntegerField("已有记录（未变）", default=0)
    refused_count = models.PositiveIntegerField("拒绝", default=0)
    withheld_count = models.PositiveIntegerField("无误但未导入", default=0)
    refused_rows = models.JSONField("拒绝原因", default=list, blank=True)

    class Meta:
        verbose_name = "登记数据导入"
        verbose_name_plural = "登记数据导入"
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    total_rows=F("recorded_count") + F("unchanged_count") + F("refused_count") + F("withheld_count")
                ),
                name="vehicles_import_counts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["imported", "refused"]), name="vehicles_import_outcome_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.uploaded_at:%Y-%m-%d %H:%M}）"


class VehicleEventImmutableError(RuntimeError):
    """Raised on any attempt to change or delete a recorded vehicle event: a life is appended to, never edited."""


_IMMUTABLE = "车辆生命周期记录只能追加，不能修改或删除"


class VehicleEventQuerySet(models.QuerySet["VehicleEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise VehicleEventImmutableError(_IMMUTABLE)

    def delete(self) -> NoReturn:
        raise VehicleEventImmutableError(_IMMUTABLE)

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise VehicleEventImmutableError(_IMMUTABLE)


class VehicleEvent(OwnerFields):
    """One event of a vehicle's life (registration, transfer, inspection, scrapping, deregistration); appended,
    never changed or deleted. At most one registration, one scrapping and one deregistration per vehicle, and
    one event of a kind per vehicle and day: re-importing the same data finds it already recorded."""

    class Source(models.TextChoices):
        TRAFFIC_POLICE = "traffic_police", "公安交管登记数据"
        SCRAPPING_ENTERPRISE = "scrapping_enterprise", "报废机动车回收拆解企业"
        DEMO = "demo", "演示数据"

    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="events", verbose_name="车辆")
    kind = models.CharField("业务类型", max_length=16, choices=_choices(records.EVENT_KINDS))
    occurred_on = models.DateField("业务日期")
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="登记区"
    )
    use = models.CharField("使用性质", max_length=16, choices=_choices(records.USES), blank=True)
    details = models.JSONField("业务详情", default=dict, blank=True)
    source = models.CharField("来源", max_length=24, choices=Source.choices)
    import_record = models.ForeignKey(
        VehicleImport, null=True, blank=True, on_delete=models.PROTECT, related_name="events", verbose_name="导入批次"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="办理机构"
    )
    reference = models.CharField("业务编号", max_length=60, blank=True)
    # A keyed hash (crypto.blind_index) of every value of the event: the same event sent again is recognised as
    # already recorded, a different one for the same vehicle, kind and day as a conflict. Keyed, because the
    # values include the owner's identity number.
    content_digest = models.CharField(max_length=64)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="录入人"
    )
    recorded_at = models.DateTimeField("录入时间", default=timezone.now)

    objects = VehicleEventQuerySet.as_manager()

    class Meta:
        verbose_name = "车辆生命周期记录"
        verbose_name_plural = "车辆生命周期记录"
        ordering = ["vehicle", "occurred_on", "pk"]
        constraints = [
            # Identity of what the traffic police send (re-imported, it is found recorded). A scrapping enterprise's
            # intake and revocation are not imported, and a revoked intake may be followed by a true one that day.
            models.UniqueConstraint(
                fields=["vehicle", "kind", "occurred_on"],
                condition=~Q(kind__in=["scrapping", "scrap_revoked"]),
                name="vehicles_event_identity_uniq",
            ),
            models.UniqueConstraint(
                fields=["vehicle"], condition=Q(kind="registration"), name="vehicles_event_one_registration"
            ),
            models.UniqueConstraint(
                fields=["vehicle"], condition=Q(kind="deregistration"), name="vehicles_event_one_deregistration"
            ),
            models.CheckConstraint(condition=Q(kind__in=list(records.EVENT_KINDS)), name="vehicles_event_kind_known"),
            models.CheckConstraint(
                condition=Q(kind__in=["registration", "transfer"], owner_kind__in=list(records.OWNER_KINDS))
                | (~Q(kind__in=["registration", "transfer"]) & Q(owner_kind="")),
                name="vehicles_event_owner_on_ownership_events",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vehicle_id} {self.kind} {self.occurred_on}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise VehicleEventImmutableError(_IMMUTABLE)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise VehicleEventImmutableError(_IMMUTABLE)

    @property
    def kind_name(self) -> str:
        return records.EVENT_KINDS.get(self.kind, self.kind)

    @property
    def reason_name(self) -> str:
        """A deregistration's reason in Chinese (报废, 灭失, ...)."""
        from huanxin.vehicles.domain.traffic import DEREGISTRATION_REASONS

        reason = str(self.details.get("reason") or "")
        return DEREGISTRATION_REASONS.get(reason, reason)


# ---------------------------------------------------------------- scrapping


class ScrapCertificate(OwnerFields):
    """A vehicle's intake at a licensed scrapping enterprise and the 报废机动车回收证明 it issued: its number, the
    vehicle, the enterprise and the licence it held that day, and the owner as on the registry's record (sealed).
    A VIN is scrapped once: one valid certificate per vehicle, whoever issues it (one revoked as issued in error
    stays on record and leaves the vehicle free for a true intake)."""

    class Status(models.TextChoices):
        VALID = "valid", "有效"
        REVOKED = "revoked", "已作废"

    number = models.CharField("证明编号", max_length=certificates.NUMBER_LENGTH)
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="+", verbose_name="车辆")
    enterprise = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name="报废机动车回收拆解企业"
    )
    licence_number = models.CharField("资质认定证书编号", max_length=60)
    intake_on = models.DateField("回收日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.VALID)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="开具人"
    )
    issued_at = models.DateTimeField("开具时间", default=timezone.now)
    # When the person handing the vehicle in showed the owner's identity number and it matched the registry's
    # owner (certificates issued before that check existed have none).
    owner_checked_at = models.DateTimeField("所有人身份核验时间", null=True, blank=True)
    revoked_at = models.DateTimeField("作废时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_reason = models.CharField(
        "作废原因", max_length=20, blank=True, choices=list(certificates.REVOCATION_REASONS.items())
    )
    revocation_note = models.CharField("作废说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "报废机动车回收证明"
        verbose_name_plural = "报废机动车回收证明"
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="vehicles_certificate_number_uniq"),
            # A VIN is scrapped once (issue #13), by one enterprise: two intakes at once leave one valid
            # certificate. One revoked as issued in error leaves the vehicle free for a true intake later.
            models.UniqueConstraint(
                fields=["vehicle"], condition=Q(status="valid"), name="vehicles_certificate_one_valid_per_vehicle"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["valid", "revoked"]), name="vehicles_certificate_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status="valid", revoked_at__isnull=True)
                | Q(status="revoked", revoked_at__isnull=False) & ~Q(revocation_reason=""),
                name="vehicles_certificate_revocation_complete",
            ),
        ]
        indexes = [models.Index(fields=["enterprise", "issued_at"], name="vehicles_certificate_org_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_vin(self) -> str:
        return certificates.masked_vin(self.vehicle.vin)


class CertificateSequence(models.Model):
    """How many certificates an enterprise has numbered in a year: the sequence part of the next number, moved by
    one guarded update so that two certificates issued at once never share a number."""

    enterprise = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "证明编号序列"
        verbose_name_plural = "证明编号序列"
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year"], name="vehicles_sequence_enterprise_year_uniq"),
            models.CheckConstraint(
                condition=Q(last__lte=certificates.MAX_SEQUENCE), name="vehicles_sequence_within_six_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.year}: {self.last}"


class ScrapAssembly(models.Model):
    """Where one of a scrapped vehicle's five major assemblies went (remanufacturing or smelting) and who received
    it; each of the five recorded once per certificate."""

    certificate = models.ForeignKey(
        ScrapCertificate, on_delete=models.PROTECT, related_name="assemblies", verbose_name="回收证明"
    )
    assembly = models.CharField("总成", max_length=12, choices=_choices(certificates.ASSEMBLIES))
    destination = models.CharField("去向", max_length=20, choices=_choices(certificates.DESTINATIONS))
    receiver_name = models.CharField("接收单位", max_length=certificates.MAX_RECEIVER_NAME)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="录入人"
    )
    recorded_at = models.DateTimeField("录入时间", default=timezone.now)

    class Meta:
        verbose_name = "五大总成去向"
        verbose_name_plural = "五大总成去向"
        ordering = ["certificate", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "assembly"], name="vehicles_assembly_once_uniq"),
            models.CheckConstraint(
                condition=Q(assembly__in=list(certificates.ASSEMBLIES)), name="vehicles_assembly_known"
            ),
            models.CheckConstraint(
                condition=Q(destination__in=list(certificates.DESTINATIONS)), name="vehicles_assembly_destination_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id} {self.assembly}"


class TractionBattery(models.Model):
    """A scrapped new-energy vehicle's traction battery: its GB/T 34014 code, its trace code, and the battery
    recycler it was handed to through the traceability chain. A battery is handed over once."""

    certificate = models.ForeignKey(
        ScrapCertificate, on_delete=models.PROTECT, related_name="batteries", verbose_name="回收证明"
    )
    code = models.CharField("动力蓄电池编码", max_length=certificates.BATTERY_CODE_LENGTH)
    trace_code = models.CharField("追溯码", max_length=80)
    recycler = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name="接收企业（梯次利用/再生利用）"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="录入人"
    )
    handed_over_at = models.DateTimeField("移交时间", default=timezone.now)

    class Meta:
        verbose_name = "动力蓄电池移交"
        verbose_name_plural = "动力蓄电池移交"
        ordering = ["certificate", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="vehicles_battery_code_uniq"),
            models.UniqueConstraint(fields=["trace_code"], name="vehicles_battery_trace_code_uniq"),
        ]

    def __str__(self) -> str:
        return self.code


# Car subsidy applications live in their own module; imported here so Django registers them in this app.
from huanxin.vehicles.application_models import (  # noqa: E402, F401
    CarApplication,
    CarApplicationStep,
    CarProgrammeSettings,
    CarTopUp,
    CarTopUpRun,
    EvidenceFile,
    NevCatalogueEntry,
)
