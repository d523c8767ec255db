"""Retroactive top-ups API (/api/v1/vehicles/top-ups…): a city-wide reviewer lists what a car rule version that took
effect in the past owes decided applications; a second person approves the list, which pays it through settlement."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from huanxin.accounts.http import current_user
from huanxin.core.errors import NotFoundError
from huanxin.core.schemas import Int64, QueryInt
from huanxin.vehicles import topups
from huanxin.vehicles.application_models import CarTopUpRun

router = Router(tags=["汽车补贴追溯补差"])


class CarTopUpOwedOut(Schema):
    rule_version: int
    programme: str
    version: int
    effective_from: str
    applications: int
    total_fen: int


class CarTopUpRunOut(Schema):
    id: int
    rule_version: int
    programme: str
    version: int
    status: str
    status_name: str
    items: int
    total_fen: int
    prepared_by: str
    approved_by: str | None


class CarTopUpPrepareIn(Schema):
    rule_version: Int64


def run_out(run: CarTopUpRun) -> dict[str, Any]:
    items = list(run.items.all())
    return {
        "id": run.pk,
        "rule_version": run.rule_version_id,
        "programme": run.rule_version.programme.code,
        "version": run.rule_version.version,
        "status": run.status,
        "status_name": run.get_status_display(),
        "items": len(items),
        "total_fen": sum(item.delta_fen for item in items),
        "prepared_by": str(run.prepared_by),
        "approved_by": str(run.approved_by) if run.approved_by_id else None,
    }


@router.get(
    "/owed", response=list[CarTopUpOwedOut], summary="生效日期在过去的汽车补贴规则版本尚欠的补差（全市审核人员）"
)
def list_owed(request: HttpRequest) -> Any:
    return [
        {
            "rule_version": version.pk,
            "programme": version.programme.code,
            "version": version.version,
            "effective_from": version.effective_from.isoformat(),
            "applications": len(owed),
            "total_fen": sum(o.delta_fen for o in owed),
        }
        for version, owed in topups.versions_owing(current_user(request))
    ]


@router.get("", response=list[CarTopUpRunOut], summary="补差清单（最新在前，全市审核人员）")
def list_runs(request: HttpRequest) -> Any:
    return [run_out(run) for run in topups.runs_for(current_user(request))]


@router.post("", response={201: CarTopUpRunOut}, summary="为一个规则版本列出补差清单（待另一人审批）")
def prepare(request: HttpRequest, payload: CarTopUpPrepareIn) -> Any:
    user = current_user(request)
    topups.require_city_wide(user)
    version = topups.car_rule_version(payload.rule_version)
    if version is None:
        raise NotFoundError("没有该汽车补贴规则版本", code="rule_version_not_found")
    return Status(201, run_out(topups.prepare_top_ups(actor=user, version=version)))


@router.post("/{int:run_id}/approve", response=CarTopUpRunOut, summary="审批补差清单并发起支付（非清单提交人）")
def approve(request: HttpRequest, run_id: QueryInt) -> Any:
    user = current_user(request)
    topups.require_city_wide(user)
    run = topups.top_up_run(run_id)
    if run is None:
        raise NotFoundError("没有该补差清单", code="top_up_run_not_found")
    return run_out(topups.approve_top_ups(actor=user, run=run))
