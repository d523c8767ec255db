"""Payees: whom settlement pays and the bank account it pays to.

A source registers its payee under a reference of its own (``register_payee``); registering the reference
again with other details updates the payee (audited), so a resident who corrects a bank account is paid to
the corrected one from the next batch on. Merchants' payees are synced from their enrolments in each
programme, set-based (``sync_merchant_payees``): settlement does it when it closes a period and again
before it assembles a batch, so a batch pays the account the enrolment holds then, as it always has.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from huanxin.accounts.models import Organisation, Person
from huanxin.core import audit, crypto
from huanxin.core.errors import FieldError, ValidationFailed, formula_errors
from huanxin.policy.models import Programme
from huanxin.settlement.models import Payable, Payee
from huanxin.settlement.sources import CONSUMER_SUBSIDY
from huanxin.subsidies import queries as subsidies_queries

# A merchant's payee reference in SQL, from a programme id and an organisation id expression (the same
# string as ``models.merchant_payee_reference``).
MERCHANT_PREFIX = "merchant:"


def _merchant_reference_sql(programme: str, organisation: str) -> str:
    return f"'{MERCHANT_PREFIX}' || CAST({programme} AS text) || ':' || CAST({organisation} AS text)"


def _problems(
    *, reference: str, kind: str, name: str, account_name: str, bank_name: str, account: str
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not reference or len(reference) > 100:
        errors.append(FieldError("reference", "invalid_reference", "收款人标识应为1至100个字符"))
    elif reference.startswith(MERCHANT_PREFIX):
        # Merchants' payees are kept from their enrolments under these references; no source may take one.
        errors.append(FieldError("reference", "reserved_reference", f"收款人标识不能以“{MERCHANT_PREFIX}”开头"))
    if kind not in Payee.Kind.values:
        errors.append(FieldError("kind", "invalid_choice", "收款人类型应为个人或单位"))
    # ASCII digits only: str.isdigit() also takes full-width and other scripts' digits, which the bank's file
    # cannot carry and whose blind index would differ from the same account typed in ASCII.
    if not (account.isascii() and account.isdigit() and 8 <= len(account) <= 32):
        errors.append(FieldError("account_number", "invalid_bank_account", "银行账号应为8至32位数字"))
    for field, label, value, limit in (
        ("name", "收款人", name, 120),
        ("account_name", "账户名称", account_name, 120),
        ("bank_name", "开户银行", bank_name, 100),
    ):
        if not value:
            errors.append(FieldError(field, "required", f"请填写{label}"))
        elif len(value) > limit:
            errors.append(FieldError(field, "too_long", f"{label}不能超过{limit}个字符"))
    # The account name is the payee in the bank's payment file, which carries it unchanged.
    errors += formula_errors(
        {"name": ("收款人", name), "account_name": ("账户名称", account_name), "bank_name": ("开户银行", bank_name)}
    )
    return errors


def register_payee(
    *,
    reference: str,
    kind: str,
    name: str,
    account_name: str,
    bank_name: str,
    account_number: str,
    actor: Any,
    organisation: Organisation | None = None,
    person: Person | None = None,
) -> Payee:
    """The payee known by ``reference``, created or updated to these details (idempotent: the same details
    change nothing and write no audit row). A person payee may name the resident's profile, an organisation
    payee the organisation; the account number is sealed and only its mask is ever shown.

    Runs in the caller's transaction when there is one (a source registers the payee and requests the
    payment together)."""
    reference, name, account_name, bank_name = (
        reference.strip(),
        name.strip(),
        account_name.strip(),
        bank_name.strip(),
    )
    account = "".join(unicodedata.normalize("NFKC", account_number).split())
    errors = _problems(
        reference=reference, kind=kind, name=name, account_name=account_name, bank_name=bank_name, account=account
    )
    if kind == Payee.Kind.PERSON and organisation is not None:
        errors.append(FieldError("organisation", "invalid_payee", "个人收款人不能关联单位"))
    if kind == Payee.Kind.ORGANISATION and person is not None:
        errors.append(FieldError("person", "invalid_payee", "单位收款人不能关联个人"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    digest = crypto.blind_index(account, purpose="bank_account")
    details = {
        "kind": kind,
        "name": name,
        "account_name": account_name,
        "bank_name": bank_name,
        "organisation_id": organisation.pk if organisation else None,
        "person_id": person.pk if person else None,
    }
    for _ in range(2):
        try:
            with transaction.atomic():
                return _create_or_update(reference, details, account, digest, actor)
        except IntegrityError:
            # Registered by a concurrent request between the look-up and the insert: update that one instead.
            continue
    raise ValidationFailed.for_field("reference", "payee_conflict", "收款人正被同时登记，请重试")


def _create_or_update(reference: str, details: dict[str, Any], account: str, digest: str, actor: Any) -> Payee:
    existing = Payee.objects.select_for_update().filter(reference=reference).first()
    if existing is None:
        sealed = crypto.seal(account, purpose="bank_account")
        payee = Payee.objects.create(
            reference=reference,
            account_cipher=sealed.cipher,
            account_digest=sealed.digest,
            account_masked=sealed.masked,
            **details,
        )
        audit.record(
            actor=actor,
            action="settlement.payee.create",
            target=payee,
            after={"reference": reference, "kind": payee.kind, "name": payee.name, "account": sealed.masked},
        )
        return payee
    if existing.account_digest == digest and all(getattr(existing, k) == v for k, v in details.items()):
        return existing
    before = {key: getattr(existing, key) for key in details} | {"account": existing.account_masked}
    sealed = crypto.seal(account, purpose="bank_account")
    for key, value in details.items():
        setattr(existing, key, value)
    existing.account_cipher, existing.account_digest = sealed.cipher, sealed.digest
    existing.account_masked, existing.updated_at = sealed.masked, timezone.now()
    existing.save()
    audit.record(
        actor=actor,
        action="settlement.payee.update",
        target=existing,
        before=before,
        after={key: getattr(existing, key) for key in details} | {"account": sealed.masked},
    )
    return existing


def sync_merchant_payees(programme: Programme, *, actor: Any = "settlement-job") -> int:
    """Create or update the payee of every merchant enrolled in the programme from its enrolment's bank
    account (read through the relation subsidies gives); returns how many payees were written. One
    statement (an upsert of the missing or changed ones only), and one audit row when anything changed.
    Runs in the caller's transaction."""
    accounts_sql, accounts_params = subsidies_queries.payee_accounts_sql(programme.pk)
    now = timezone.now()
    reference = _merchant_reference_sql("%s", "e.organisation_id")
    with connection.cursor() as cursor:
        # Only the merchants whose payee is missing or differs are written: on an ordinary day that is none,
        # and an upsert of every enrolment would lock and rewrite thousands of rows for nothing.
        cursor.execute(
            "INSERT INTO settlement_payee (kind, reference, name, organisation_id, person_id, account_name, "  # noqa: S608
            "bank_name, account_cipher, account_digest, account_masked, created_at, updated_at) "
            f"SELECT %s, {reference}, o.name, e.organisation_id, NULL, "
            "e.account_name, e.bank_name, e.account_cipher, e.account_digest, e.account_masked, %s, %s "
            f"FROM ({accounts_sql}) e JOIN accounts_organisation o ON o.id = e.organisation_id "
            f"LEFT JOIN settlement_payee y ON y.reference = {reference} "
            "WHERE y.id IS NULL OR y.account_digest <> e.account_digest OR y.account_name <> e.account_name "
            "OR y.bank_name <> e.bank_name OR y.name <> o.name "
            "ON CONFLICT (reference) DO UPDATE SET name = excluded.name, account_name = excluded.account_name, "
            "bank_name = excluded.bank_name, account_cipher = excluded.account_cipher, "
            "account_digest = excluded.account_digest, account_masked = excluded.account_masked, "
            "updated_at = excluded.updated_at",
            [Payee.Kind.ORGANISATION.value, programme.pk, now, now, *accounts_params, programme.pk],
        )
        written = max(cursor.rowcount, 0)
    if written:
        audit.record(
            actor=actor,
            action="settlement.payee.sync",
            target=programme,
            after={"merchant_payees_written": written},
        )
    return written


def attach_merchant_payees(programme: Programme, *, actor: Any = "settlement-job") -> int:
    """Give every queued merchant payable of the programme that has no payee yet (its merchant had no
    enrolment when the period closed) its merchant's payee, if there is one now; how many were given one.
    The payee decides which account is paid, so the change is audited (one row for the programme)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE settlement_payable SET payee_id = (SELECT y.id FROM settlement_payee y WHERE y.reference = "  # noqa: S608
            f"{_merchant_reference_sql('settlement_payable.programme_id', 'settlement_payable.recipient_id')}) "
            "WHERE programme_id = %s AND status = %s AND source_kind = %s AND payee_id IS NULL",
            [programme.pk, Payable.Status.QUEUED.value, CONSUMER_SUBSIDY],
        )
        attached = cursor.rowcount
    if attached:
        audit.record(
            actor=actor,
            action="settlement.payable.attach_payee",
            target=programme,
            after={"payables_given_their_payee": attached},
        )
    return int(attached)
