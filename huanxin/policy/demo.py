"""Demo state for policy: units linked to the demo bureaus, programmes of 2026 open with budgets."""

from __future__ import annotations

from huanxin.accounts.models import District, Organisation, User
from huanxin.policy import services
from huanxin.policy.models import Programme, ResponsibleUnit

# Demo budgets in yuan (the real amounts are set by the city; these only make the pilot usable).
DEMO_BUDGETS_YUAN = {
    "cn-appliance-2026": 170_000_000,
    "cn-digital-2026": 68_000_000,
    "cn-car-scrap-2026": 340_000_000,
    "cn-car-replace-2026": 255_000_000,
}
HISTORIC = (
    "cn-appliance-2024",
    "cn-appliance-2025",
    "cn-digital-2025",
    "bj-smarthome-2025",
    "bj-ebike-2025",
    "cn-car-scrap-2024",
    "cn-car-scrap-2025",
)


def load_demo(admin: User) -> None:
    """Idempotent: links units, opens 2026 programmes with budgets split evenly, closes past ones."""
    services.load_catalogue(actor=None)
    for unit in ResponsibleUnit.objects.filter(organisation__isnull=True):
        organisation = Organisation.objects.filter(name=unit.full_name, kind="government").first()
        if organisation is not None:
            ResponsibleUnit.objects.filter(pk=unit.pk).update(organisation=organisation)
    districts = list(District.objects.values_list("code", flat=True))
    for code, yuan in DEMO_BUDGETS_YUAN.items():
        programme = Programme.objects.filter(code=code).first()
        if programme is None:
            continue
        if programme.total_budget_fen == 0:
            total = yuan * 100
            share, remainder = divmod(total, len(districts))
            allocations = {d: share + (1 if i < remainder else 0) for i, d in enumerate(districts)}
            services.set_budget(actor=admin, programme=programme, total_fen=total, allocations=allocations)
        if programme.status == Programme.Status.DRAFT:
            services.set_programme_status(actor=admin, programme=programme, status=Programme.Status.OPEN)
    for code in HISTORIC:
        programme = Programme.objects.filter(code=code).first()
        if programme is None:
            continue
        if programme.status == Programme.Status.DRAFT:
            programme = services.set_programme_status(actor=admin, programme=programme, status=Programme.Status.OPEN)
        if programme.status == Programme.Status.OPEN:
            services.set_programme_status(actor=admin, programme=programme, status=Programme.Status.CLOSED)


def load_demo_reports(reporter: User) -> None:
    """Two progress reports by the city commerce bureau so the measures table shows both states."""
    from django.utils import timezone

    from huanxin.core.errors import ConflictError
    from huanxin.policy.models import Measure, ProgressReport
    from huanxin.policy.queries import reporting_period

    unit = ResponsibleUnit.objects.filter(short_name="市商务局", organisation__isnull=False).first()
    if unit is None:
        return
    period = reporting_period(timezone.localdate()).label
    texts: dict[int, tuple[str, dict[str, int]]] = {
        14: ("本月受理汽车报废更新补贴申请并按时限审核，报废机动车回收网点运行正常。", {}),
        16: ("家电以旧换新活动在全市各区开展，参与门店按时上传销售和旧机回收数据，补贴资金按期清算。", {}),
    }
    for number, (narrative, indicators) in texts.items():
        measure = Measure.objects.filter(number=number).first()
        if measure is None or ProgressReport.objects.filter(measure=measure, unit=unit, period=period).exists():
            continue
        try:
            services.submit_progress_report(
                actor=reporter, measure=measure, unit=unit, period=period, narrative=narrative, indicators=indicators
            )
        except ConflictError:
            continue
