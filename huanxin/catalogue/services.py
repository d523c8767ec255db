"""The write side of the catalogue: importing the product list and filing merchants' prices.

Each entry point checks who is acting, owns its transaction and writes its audit rows in it.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from huanxin.accounts.models import Organisation, OrganisationKind, User
from huanxin.accounts.roles import MERCHANT_STAFF
from huanxin.catalogue.domain.products import (
    STORED_FIELDS,
    ImportFileError,
    ProductKey,
    ProductRow,
    RowError,
    check_rows,
    map_header,
)
from huanxin.catalogue.domain.tabular import read_table
from huanxin.catalogue.models import CategoryPriceRule, PriceFiling, ProductImport, ProductModel
from huanxin.catalogue.queries import can_import, can_set_price_rules
from huanxin.core import audit
from huanxin.core.domain.money import NOT_POSITIVE_FEN, TOO_LARGE, positive_fen_problem
from huanxin.core.errors import ConflictError, FieldError, ForbiddenError, ValidationFailed
from huanxin.core.permissions import organisations_for

# Rows written per statement: well under SQLite's variable limit, few round trips for 100,000 rows.
BATCH_SIZE = 500
# ¥1,000,000,000: far above any subsidised product, so only a typing slip (or a bigint overflow) trips it.
MAX_PRICE_FEN = 100_000_000_000
NOTE_MAX_LENGTH = 200
FILING_REFUSED = "只有该商户的负责人或店员可以为其备案价格"
# The programme runs on Beijing time: "today" is the Asia/Shanghai date, whatever zone the server is in.
BEIJING = ZoneInfo("Asia/Shanghai")


# ---------------------------------------------------------------- product import


@dataclass(frozen=True)
class ImportReport:
    """What became of one uploaded product list: the counts and every refused row with its reason."""

    import_id: int
    file_name: str
    file_format: str
    uploaded_at: datetime.datetime
    uploaded_by: str
    total_rows: int
    created: int
    updated: int
    unchanged: int
    refused: int
    errors: tuple[RowError, ...]

    @classmethod
    def of(cls, record: ProductImport) -> ImportReport:
        """Rebuild the report from its stored import record (the report can be read again at any time)."""
        return cls(
            import_id=record.pk,
            file_name=record.file_name,
            file_format=record.file_format,
            uploaded_at=record.uploaded_at,
            uploaded_by=str(record.uploaded_by),
            total_rows=record.total_rows,
            created=record.created_count,
            updated=record.updated_count,
            unchanged=record.unchanged_count,
            refused=record.refused_count,
            errors=tuple(RowError.from_dict(item) for item in record.refused_rows),
        )


def _clean_file_name(file_name: str) -> str:
    """The file's own name without any client-side folder, as the import record keeps it."""
    return PurePosixPath((file_name or "").replace("\\", "/")).name[:200] or "未命名文件"


def _existing_products(keys: Sequence[ProductKey]) -> dict[ProductKey, ProductModel]:
    """Stored products for the given keys, fetched by model number in batches (an indexed IN query)."""
    found: dict[ProductKey, ProductModel] = {}
    wanted = set(keys)
    model_numbers = sorted({key.model_number for key in keys})
    for start in range(0, len(model_numbers), BATCH_SIZE):
        for product in ProductModel.objects.filter(model_number__in=model_numbers[start : start + BATCH_SIZE]):
            key = ProductKey(product.brand, product.model_number)
            if key in wanted:
                found[key] = product
    return found


@dataclass
class _Changes:
    created: list[ProductModel]
    updated: list[tuple[ProductModel, dict[str, Any], dict[str, Any]]]
    unchanged: int


def _classify(rows: Sequence[ProductRow], existing: dict[ProductKey, ProductModel], now: datetime.datetime) -> _Changes:
    """New keys are created; a key whose stored values differ is updated; an identical row changes nothing."""
    changes = _Changes(created=[], updated=[], unchanged=0)
    for row in rows:
        product = existing.get(row.key)
        values = row.stored_values()
        if product is None:
            changes.created.append(
                ProductModel(brand=row.brand, model_number=row.model_number, created_at=now, updated_at=now, **values)
            )
            continue
        before = {name: getattr(product, name) for name in STORED_FIELDS if getattr(product, name) != values[name]}
        if not before:
            changes.unchanged += 1
            continue
        after = {name: values[name] for name in before}
        for name, value in after.items():
            setattr(product, name, value)
        product.updated_at = now
        changes.updated.append((product, before, after))
    return changes


def import_products(*, actor: User, file_name: str, content: bytes) -> ImportReport:
    """Import a product list (CSV or XLSX): good rows are created or updated in one transaction, bad rows are
    refused with a reason, an identical row changes nothing. Files over 20 MB or 100,000 rows are refused whole."""
    if not can_import(actor):
        raise ForbiddenError("只有系统管理员和审核人员可以导入产品目录", code="import_forbidden")
    file_name = _clean_file_name(file_name)
    try:
        table = read_table(file_name, content)
        columns = map_header(table.header)
    except ImportFileError as exc:
        raise ValidationFailed.for_field("file", exc.code, exc.message) from None
    checked = check_rows(table.rows, columns)
    try:
        with transaction.atomic(durable=True):
            # Read inside the transaction: on SQLite (IMMEDIATE) this holds the write lock, so two imports of
            # the same file run one after the other and the second finds everything unchanged.
            now = timezone.now()
            changes = _classify(checked.valid, _existing_products([row.key for row in checked.valid]), now)
            ProductModel.objects.bulk_create(changes.created, batch_size=BATCH_SIZE)
            ProductModel.objects.bulk_update(
                [product for product, _, _ in changes.updated],
                fields=[*STORED_FIELDS, "updated_at"],
                batch_size=BATCH_SIZE,
            )
            record = ProductImport.objects.create(
                uploaded_by=actor,
                uploaded_at=now,
                file_name=file_name,
                file_format=table.file_format,
                file_size=len(content),
                file_digest=hashlib.sha256(content).hexdigest(),
                total_rows=checked.total_rows,
                created_count=len(changes.created),
                updated_count=len(changes.updated),
                unchanged_count=changes.unchanged,
                refused_count=checked.refused_rows,
                refused_rows=[error.as_dict() for error in checked.errors],
            )
            # A product that changed gets its own before/after row: a grade change alters who is subsidised.
            # Creations and unchanged rows are summed up in the one row of the import.
            for product, before, after in changes.updated:
                audit.record(
                    actor=actor,
                    action="catalogue.product.update",
                    target=product,
                    before=before,
                    after={**after, "import": record.pk},
                )
            audit.record(
                actor=actor,
                action="catalogue.products.import",
                target=record,
                after={
                    "file_name": file_name,
                    "file_digest": record.file_digest,
                    "total_rows": record.total_rows,
                    "created": record.created_count,
                    "updated": record.updated_count,
                    "unchanged": record.unchanged_count,
                    "refused": record.refused_count,
                },
            )
    except IntegrityError:
        # Only a concurrent import creating the same model between our read and our write gets here.
        raise ConflictError("另一次导入同时写入了相同的产品型号，请重新导入本文件", code="import_conflict") from None
    return ImportReport.of(record)


# ---------------------------------------------------------------- price filing


def file_price(
    *,
    actor: User,
    merchant: Organisation,
    product: ProductModel,
    price_fen: int,
    effective_from: datetime.date,
    note: str = "",
) -> PriceFiling:
    """A merchant's manager or clerk files the price of a product from a date that is not in the past
    (Beijing time); every filing is a new row, so the history of prices stays."""
    if merchant.kind != OrganisationKind.MERCHANT:
        raise ValidationFailed.for_field("merchant", "not_a_merchant", "只有销售企业可以备案价格")
    if merchant.pk not in organisations_for(actor, *MERCHANT_STAFF):
        raise ForbiddenError(FILING_REFUSED, code="price_filing_forbidden")
    if merchant.status != Organisation.Status.ACTIVE:
        raise ForbiddenError("该商户已暂停，不能备案价格", code="merchant_suspended")
    errors: list[FieldError] = []
    price_problem = positive_fen_problem(price_fen, maximum=MAX_PRICE_FEN)
    if price_problem == NOT_POSITIVE_FEN:
        errors.append(FieldError("price_fen", "invalid_price", "备案价格必须大于 0"))
    elif price_problem == TOO_LARGE:
        errors.append(FieldError("price_fen", "price_too_large", "备案价格超出合理范围，请检查金额"))
    today = timezone.localdate(timezone=BEIJING)
    if not isinstance(effective_from, datetime.date) or isinstance(effective_from, datetime.datetime):
        errors.append(FieldError("effective_from", "invalid_date", "生效日期无效"))
    elif effective_from < today:
        errors.append(
            FieldError(
                "effective_from",
                "effective_in_past",
                f"生效日期不能早于今天（{today:%Y-%m-%d}），已生效的价格不能追溯修改",
            )
        )
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX_LENGTH:
        errors.append(FieldError("note", "too_long", f"备注不能超过{NOTE_MAX_LENGTH}个字符"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    with transaction.atomic(durable=True):
        filing = PriceFiling.objects.create(
            merchant=merchant,
            product=product,
            price_fen=price_fen,
            effective_from=effective_from,
            filed_by=actor,
            note=note,
        )
        audit.record(
            actor=actor,
            action="catalogue.price.file",
            target=filing,
            after=audit.snapshot(filing, ("merchant", "product", "price_fen", "effective_from", "note")),
            organisation_id=merchant.pk,
            district_code=merchant.district_id,
        )
    return filing


# ---------------------------------------------------------------- the city's price checks at checkout


def set_price_rule(*, actor: User, category: str, ceiling_fen: int, above_filed_price: str) -> CategoryPriceRule:
    """An administrator sets a category's highest accepted final price and what happens to a sale above the
    merchant's filed price (refuse, or hold the reimbursement for review). Takes effect at the next sale."""
    from huanxin.catalogue.domain.categories import CATEGORIES

    if not can_set_price_rules(actor):
        raise ForbiddenError("只有管理员可以设置品类价格规则", code="price_rule_forbidden")
    errors: list[FieldError] = []
    if category not in CATEGORIES:
        errors.append(FieldError("category", "unknown_category", "品类不存在"))
    ceiling_problem = positive_fen_problem(ceiling_fen)
    if ceiling_problem == NOT_POSITIVE_FEN:
        errors.append(FieldError("ceiling_fen", "invalid_amount", "成交价上限应为大于0的整数（分）"))
    elif ceiling_problem == TOO_LARGE:
        errors.append(FieldError("ceiling_fen", "amount_out_of_range", "成交价上限超出可处理的范围"))
    if above_filed_price not in CategoryPriceRule.AboveFiledPrice.values:
        errors.append(FieldError("above_filed_price", "invalid_choice", "请选择高于备案价时的处理方式"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    now = timezone.now()
    with transaction.atomic(durable=True):
        rule = CategoryPriceRule.objects.select_for_update().filter(category=category).first()
        before = (
            {"ceiling_fen": rule.ceiling_fen, "above_filed_price": rule.above_filed_price} if rule is not None else None
        )
        if rule is None:
            rule = CategoryPriceRule(category=category)
        rule.ceiling_fen = ceiling_fen
        rule.above_filed_price = above_filed_price
        rule.updated_by = actor
        rule.updated_at = now
        rule.save()
        audit.record(
            actor=actor,
            action="catalogue.price_rule.set",
            target=rule,
            before=before,
            after={"category": category, "ceiling_fen": ceiling_fen, "above_filed_price": above_filed_price},
        )
    return rule
