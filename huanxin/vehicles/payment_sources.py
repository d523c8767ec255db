"""The car subsidy as a source of settlement's payables: the bank's answer marks the application paid or failed."""

from __future__ import annotations

from huanxin.settlement.sources import PaymentResult, register


def _paid(result: PaymentResult) -> None:
    from huanxin.vehicles.application_services import mark_paid

    mark_paid(result)


def _failed(result: PaymentResult) -> None:
    from huanxin.vehicles.application_services import mark_failed

    mark_failed(result)


register("car-subsidy", label="汽车以旧换新补贴", purpose="汽车以旧换新补贴", on_paid=_paid, on_failed=_failed)

# Retroactive top-ups (standards raised after the fact) are their own source: see vehicles.topups.
from huanxin.vehicles import topups  # noqa: E402, F401
