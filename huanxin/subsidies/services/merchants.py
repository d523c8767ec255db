"""Merchants: stores, and enrolment in a programme with its review by the district."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from huanxin.accounts.models import Organisation, OrganisationKind, User
from huanxin.accounts.roles import MERCHANT_MANAGERS, REVIEWERS
from huanxin.core import audit, crypto
from huanxin.core.domain.identifiers import IdentifierError, validate_mobile
from huanxin.core.errors import ConflictError, FieldError, ForbiddenError, ValidationFailed, formula_errors
from huanxin.core.permissions import districts_for, has_role
from huanxin.policy.models import Programme
from huanxin.subsidies.models import (
    Enrolment,
    Store,
)
from huanxin.subsidies.services.common import (
    is_member,
    programme_categories,
)


def create_store(*, actor: User, merchant: Organisation, name: str, address: str, district: str) -> Store:
    """A merchant manager registers a store."""
    if merchant.kind != OrganisationKind.MERCHANT or not is_member(actor, merchant, MERCHANT_MANAGERS):
        raise ForbiddenError("只有商户负责人可以登记门店", code="manager_required")
    errors = []
    if not 2 <= len(name.strip()) <= 100:
        errors.append(FieldError("name", "invalid_name", "门店名称应为2至100个字符"))
    if not 4 <= len(address.strip()) <= 200:
        errors.append(FieldError("address", "invalid_address", "请填写门店地址"))
    errors += formula_errors({"name": ("门店名称", name.strip()), "address": ("门店地址", address.strip())})
    from huanxin.accounts.models import District

    if not District.objects.filter(code=district).exists():
        errors.append(FieldError("district", "unknown_district", "所选行政区不存在"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    try:
        with transaction.atomic(durable=True):
            store = Store.objects.create(
                organisation=merchant, name=name.strip(), address=address.strip(), district_id=district
            )
            audit.record(
                actor=actor,
                action="subsidies.store.create",
                target=store,
                after={"name": store.name, "district": district},
                organisation_id=merchant.pk,
                district_code=district,
            )
    except IntegrityError:
        raise ValidationFailed.for_field("name", "store_taken", "已有同名门店") from None
    return store


@dataclass(frozen=True)
class EnrolmentInput:
    categories: list[str]
    store_ids: list[int]
    bank_name: str
    account_name: str
    bank_account: str
    contact_name: str
    contact_phone: str


def apply_enrolment(*, actor: User, merchant: Organisation, programme: Programme, data: EnrolmentInput) -> Enrolment:
    """A merchant manager applies to join a programme with stores, categories, bank account and contact."""
    if merchant.kind != OrganisationKind.MERCHANT or not is_member(actor, merchant, MERCHANT_MANAGERS):
        raise ForbiddenError("只有商户负责人可以报名", code="manager_required")
    if programme.status != Programme.Status.OPEN:
        raise ValidationFailed.for_field("programme", "programme_not_open", "该项目不在报名期")
    allowed = programme_categories(programme)
    errors: list[FieldError] = []
    if not data.categories or any(c not in allowed for c in data.categories):
        errors.append(FieldError("categories", "invalid_categories", "请选择本项目补贴的品类"))
    stores = list(Store.objects.filter(pk__in=data.store_ids, organisation=merchant, is_active=True))
    if not stores or len(stores) != len(set(data.store_ids)):
        errors.append(FieldError("store_ids", "invalid_stores", "请选择本商户的营业门店"))
    account = "".join(data.bank_account.split())
    if not (account.isdigit() and 8 <= len(account) <= 32):
        errors.append(FieldError("bank_account", "invalid_bank_account", "银行账号应为8至32位数字"))
    if not data.bank_name.strip():
        errors.append(FieldError("bank_name", "required", "请填写开户银行"))
    if not data.account_name.strip():
        errors.append(FieldError("account_name", "required", "请填写账户名称"))
    if not data.contact_name.strip():
        errors.append(FieldError("contact_name", "required", "请填写联系人"))
    # The account name is the payee in the bank's payment file, which carries it unchanged.
    errors += formula_errors(
        {
            "bank_name": ("开户银行", data.bank_name.strip()),
            "account_name": ("账户名称", data.account_name.strip()),
            "contact_name": ("联系人", data.contact_name.strip()),
        }
    )
    phone = ""
    try:
        phone = validate_mobile(data.contact_phone)
    except IdentifierError as exc:
        errors.append(FieldError("contact_phone", exc.code, exc.message))
    if errors:
        raise ValidationFailed.from_errors(errors)
    sealed_account = crypto.seal(account, purpose="bank_account")
    sealed_phone = crypto.seal(phone, purpose="phone")
    try:
        with transaction.atomic(durable=True):
            enrolment = Enrolment.objects.create(
                organisation=merchant,
                programme=programme,
                categories=sorted(set(data.categories)),
                bank_name=data.bank_name.strip(),
                account_name=data.account_name.strip(),
                bank_account_cipher=sealed_account.cipher,
                bank_account_digest=sealed_account.digest,
                bank_account_masked=sealed_account.masked,
                contact_name=data.contact_name.strip(),
                contact_phone_cipher=sealed_phone.cipher,
                contact_phone_masked=sealed_phone.masked,
                submitted_by=actor,
            )
            enrolment.stores.set(stores)
            audit.record(
                actor=actor,
                action="subsidies.enrolment.apply",
                target=enrolment,
                after={
                    "programme": programme.code,
                    "categories": enrolment.categories,
                    "stores": [s.pk for s in stores],
                    "bank_account": sealed_account.masked,
                },
                organisation_id=merchant.pk,
                district_code=merchant.district_id,
            )
    except IntegrityError:
        raise ConflictError("该商户已报名此项目", code="already_enrolled") from None
    return enrolment


_ENROLMENT_MOVES = {
    "approve": (Enrolment.Status.PENDING, Enrolment.Status.APPROVED, "subsidies.enrolment.approve"),
    "refuse": (Enrolment.Status.PENDING, Enrolment.Status.REFUSED, "subsidies.enrolment.refuse"),
    "suspend": (Enrolment.Status.APPROVED, Enrolment.Status.SUSPENDED, "subsidies.enrolment.suspend"),
    "resume": (Enrolment.Status.SUSPENDED, Enrolment.Status.APPROVED, "subsidies.enrolment.resume"),
}


def decide_enrolment(*, actor: User, enrolment: Enrolment, action: str, note: str = "") -> Enrolment:
    """The district commerce bureau approves, refuses, suspends or resumes an enrolment, with reasons."""
    if action not in _ENROLMENT_MOVES:
        raise ValidationFailed.for_field("action", "invalid_choice", "操作无效")
    districts = districts_for(actor, *REVIEWERS)
    if not has_role(actor, *REVIEWERS) or (
        districts is not None and enrolment.organisation.district_id not in districts
    ):
        raise ForbiddenError("只有商户所在区的审核人员可以处理报名", code="reviewer_required")
    if enrolment.submitted_by_id == actor.pk:
        raise ForbiddenError("不能审核自己提交的报名", code="four_eyes")
    if action in {"refuse", "suspend"} and not note.strip():
        raise ValidationFailed.for_field("note", "required", "请填写理由")
    before, after, audit_action = _ENROLMENT_MOVES[action]
    with transaction.atomic(durable=True):
        now = timezone.now()
        if not Enrolment.objects.filter(pk=enrolment.pk, status=before).update(
            status=after, decided_by=actor, decided_at=now, decision_note=note.strip()
        ):
            raise ConflictError("报名当前状态不允许此操作", code="enrolment_state")
        audit.record(
            actor=actor,
            action=audit_action,
            target=enrolment,
            before={"status": before},
            after={"status": after, "note": note.strip()},
            organisation_id=enrolment.organisation_id,
            district_code=enrolment.organisation.district_id,
        )
    enrolment.refresh_from_db()
    return enrolment
