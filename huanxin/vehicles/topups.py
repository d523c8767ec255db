"""Standards raised after the fact (2024: the national car standards were raised retroactively and paid
applicants were topped up). A published rule version whose effective date lies in the past lists the decided
applications it would pay more; a second person approves the list, which spends the difference through the
budget ledger and asks settlement to pay it. Each application is topped up once per version; top-ups only go
up — a version that lowers a standard claws nothing back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from huanxin.accounts.models import User
from huanxin.accounts.roles import RULE_EDITORS
from huanxin.core import audit
from huanxin.core.domain.money import format_yuan
from huanxin.core.errors import ConflictError, ForbiddenError
from huanxin.core.permissions import districts_for
from huanxin.policy import ledger
from huanxin.policy.models import RuleSetVersion
from huanxin.policy.services import compiled
from huanxin.settlement.services.payables import request_payment
from huanxin.settlement.sources import register
from huanxin.vehicles.application_models import (
    CarApplication,
    CarApplicationStep,
    CarTopUp,
    CarTopUpRun,
)
from huanxin.vehicles.application_services import engine_payload
from huanxin.vehicles.domain.records import BJ_TRUCK_PROGRAMME

TOP_UP_SOURCE = "car-topup"
register(TOP_UP_SOURCE, label="汽车以旧换新补贴追溯补差", purpose="汽车以旧换新补贴补差")

DECIDED = ("approved", "paid", "payment_failed")


@dataclass(frozen=True)
class Owed:
    application: CarApplication
    paid_before_fen: int
    new_amount_fen: int

    @property
    def delta_fen(self) -> int:
        return self.new_amount_fen - self.paid_before_fen


# The programmes whose applications are vehicles.CarApplication rows (cn-car-scrap-*, cn-car-replace-*, and
# organisations' bj-truck-2024): the rule versions top-ups are computed for.
CAR_PROGRAMMES = "cn-car-"
VEHICLE_PROGRAMMES = Q(programme__code__startswith=CAR_PROGRAMMES) | Q(programme__code=BJ_TRUCK_PROGRAMME)


def require_city_wide(actor: Any) -> None:
    if not getattr(actor, "is_authenticated", False) or districts_for(actor, *RULE_EDITORS) is not None:
        raise ForbiddenError("只有全市范围的审核人员或系统管理员可以办理追溯补差", code="car_topup_forbidden")


def versions_owing(actor: Any) -> list[tuple[RuleSetVersion, list[Owed]]]:
    """The published car rule versions that took effect in the past and owe decided applications more, each with
    what it owes and no top-up list yet (city-wide reviewers)."""
    require_city_wide(actor)
    listed = set(CarTopUpRun.objects.exclude(status="rejected").values_list("rule_version_id", flat=True))
    versions = (
        RuleSetVersion.objects.filter(
            VEHICLE_PROGRAMMES,
            status=RuleSetVersion.Status.PUBLISHED,
            effective_from__lte=timezone.localdate(),
        )
        .exclude(pk__in=listed)
        .select_related("programme")
        .order_by("-effective_from", "-pk")
    )
    owing = [(version, owed_under(version)) for version in versions]
    return [(version, owed) for version, owed in owing if owed]


def car_rule_version(pk: int) -> RuleSetVersion | None:
    """The rule version ``pk`` of a car programme (the only ones top-ups are for), or None."""
    return RuleSetVersion.objects.filter(VEHICLE_PROGRAMMES, pk=pk).select_related("programme").first()


def top_up_run(pk: int) -> CarTopUpRun | None:
    """The top-up list ``pk``, or None."""
    return CarTopUpRun.objects.filter(pk=pk).select_related("rule_version__programme").first()


def runs_for(actor: Any) -> list[CarTopUpRun]:
    """The top-up lists, newest first (city-wide reviewers)."""
    require_city_wide(actor)
    return list(
        CarTopUpRun.objects.select_related("rule_version__programme", "prepared_by", "approved_by")
        .prefetch_related("items")
        .order_by("-pk")[:100]
    )


def owed_under(version: RuleSetVersion) -> list[Owed]:
    """Decided applications of the version's programme, submitted on or after its effective date, that the
    version pays more than they have had (their amount and earlier top-ups)."""
    if version.status != RuleSetVersion.Status.PUBLISHED or version.effective_from > timezone.localdate():
        return []
    rule_set = compiled(version.content)
    owed: list[Owed] = []
    applications = CarApplication.objects.filter(
        programme_id=version.programme_id, status__in=DECIDED, submitted_on__gte=version.effective_from
    ).select_related("applicant", "applicant_organisation", "programme")
    for application in applications:
        if CarTopUp.objects.filter(application=application, rule_version=version).exists():
            continue
        payload = engine_payload(application)
        if payload is None:
            continue
        # The application itself is not its own history (it is decided, so _engine_payload leaves it out).
        decision = rule_set.evaluate(payload)
        new_amount = decision.amount_fen if decision.eligible else 0
        topped = CarTopUp.objects.filter(application=application, run__status="approved").aggregate(s=Sum("delta_fen"))
        before = application.amount_fen + (topped["s"] or 0)
        if new_amount > before:
            owed.append(Owed(application, before, new_amount))
    return owed


def prepare_top_ups(*, actor: User, version: RuleSetVersion) -> CarTopUpRun:
    """List what the version owes; nothing is paid until a second person approves."""
    require_city_wide(actor)
    owed = owed_under(version)
    if not owed:
        raise ConflictError("该规则版本没有需要补差的申请", code="no_top_ups")
    try:
        with transaction.atomic():
            run = CarTopUpRun.objects.create(rule_version=version, prepared_by=actor)
            CarTopUp.objects.bulk_create(
                CarTopUp(
                    run=run,
                    application=o.application,
                    rule_version=version,
                    paid_before_fen=o.paid_before_fen,
                    new_amount_fen=o.new_amount_fen,
                    delta_fen=o.delta_fen,
                )
                for o in owed
            )
            audit.record(
                actor=actor,
                action="vehicles.car_topup.prepared",
                target=run,
                after={"version": version.version, "items": len(owed), "total_fen": sum(o.delta_fen for o in owed)},
            )
    except IntegrityError:
        raise ConflictError("该规则版本的补差清单已存在", code="top_ups_exist") from None
    return run


def approve_top_ups(*, actor: User, run: CarTopUpRun) -> CarTopUpRun:
    """A second person approves: each top-up is spent through the ledger and handed to settlement (paid once per
    application and version: the payable's source is the application and the version)."""
    require_city_wide(actor)
    if run.prepared_by_id == actor.pk:
        raise ForbiddenError("不能审批自己提交的补差清单（须由另一人审批）", code="four_eyes")
    with transaction.atomic():
        locked = CarTopUpRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != CarTopUpRun.Status.PENDING:
            raise ConflictError("该补差清单已处理", code="top_ups_decided")
        items = list(locked.items.select_related("application", "application__payee", "application__programme"))
        for item in items:
            application = item.application
            ledger.lock_programme(application.programme_id)
            pools = ledger.slice_ids(application.programme_id, application.district_id)
            pool = ledger.hold(pools, 0, item.delta_fen, slow=True) if pools else None
            if pool is None:
                raise ConflictError(f"{application.number} 所在区补贴资金不足", code="budget_exhausted")
            ledger.spend(pool, held=item.delta_fen, spent=item.delta_fen)
            if application.payee is None:
                raise ConflictError(f"{application.number} 没有收款账户", code="payee_missing")
            request_payment(
                payee=application.payee,
                programme=application.programme,
                source_kind=TOP_UP_SOURCE,
                source_ref=f"{application.pk}:{locked.rule_version_id}",
                amount_fen=item.delta_fen,
                actor=actor,
            )
            CarApplicationStep.objects.create(
                application=application,
                kind="top_up",
                title=f"按新标准追溯补差 {format_yuan(item.delta_fen)}，已发起支付",
                actor=actor,
            )
        locked.status = CarTopUpRun.Status.APPROVED
        locked.approved_by = actor
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "approved_by", "decided_at"])
        audit.record(
            actor=actor,
            action="vehicles.car_topup.approved",
            target=locked,
            after={"items": len(items), "total_fen": sum(i.delta_fen for i in items)},
        )
    return locked
