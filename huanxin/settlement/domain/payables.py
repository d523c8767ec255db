"""Pure settlement arithmetic: period bounds, payables with carried-forward negatives, bank-result checks."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def period_bounds(day: datetime.date, length_days: int = 1) -> tuple[datetime.datetime, datetime.datetime]:
    """The half-open range [start, end) of a period beginning at midnight Beijing time on ``day``."""
    start = datetime.datetime.combine(day, datetime.time(), BEIJING)
    return start, start + datetime.timedelta(days=length_days)


@dataclass(frozen=True)
class PayableAmounts:
    amount_fen: int
    carried_out_fen: int


def payable_amounts(
    *, redemptions_fen: int, clawbacks_fen: int, carried_in_fen: int, released_fen: int = 0
) -> PayableAmounts:
    """Redemptions plus released held sales minus clawbacks plus what was carried in; a negative result is
    carried out, not paid."""
    if carried_in_fen > 0:
        raise ValueError("only a negative balance is carried forward")
    balance = redemptions_fen + released_fen - clawbacks_fen + carried_in_fen
    if balance >= 0:
        return PayableAmounts(amount_fen=balance, carried_out_fen=0)
    return PayableAmounts(amount_fen=0, carried_out_fen=balance)


@dataclass(frozen=True)
class BankResultRow:
    """One row of a bank result file, as typed by the bank."""

    row_number: int
    line_id: str
    status: str
    amount_fen: int | None
    bank_reference: str
    reason: str


@dataclass(frozen=True)
class RowVerdict:
    row_number: int
    line_id: str
    accepted: bool
    code: str
    message: str


@dataclass(frozen=True)
class LineState:
    amount_fen: int
    status: str  # pending / paid / failed


RESULT_WORDS = {
    "paid": "paid",
    "成功": "paid",
    "已支付": "paid",
    "failed": "failed",
    "失败": "failed",
    "退票": "failed",
}


def check_bank_rows(rows: Iterable[BankResultRow], lines: Mapping[str, LineState]) -> list[RowVerdict]:
    """Judge every row of a bank result file against the batch's lines, each on its own: an unknown line, a
    wrong amount, a line named twice in the file, a result for a line already answered, or a failure without
    a reason is refused with a reason; the good rows are accepted."""
    verdicts = []
    seen: set[str] = set()
    for row in rows:

        def verdict(code: str, message: str, accepted: bool = False, row: BankResultRow = row) -> RowVerdict:
            return RowVerdict(row.row_number, row.line_id, accepted, code, message)

        line = lines.get(row.line_id)
        if not row.line_id:
            verdicts.append(verdict("missing_line_id", "缺少行号"))
        elif row.line_id in seen:
            verdicts.append(verdict("duplicate_line", "同一行号在文件中重复出现，仅采用第一次"))
        elif line is None:
            verdicts.append(verdict("unknown_line", "本批次没有该行号"))
        elif row.status not in ("paid", "failed"):
            verdicts.append(verdict("invalid_status", "支付结果应为“成功”或“失败”"))
        elif row.amount_fen is None:
            verdicts.append(verdict("invalid_amount", "金额缺失或格式不正确"))
        elif row.amount_fen != line.amount_fen:
            verdicts.append(verdict("amount_mismatch", f"金额与支付明细不符（应为 {line.amount_fen / 100:.2f} 元）"))
        elif line.status != "pending":
            verdicts.append(verdict("already_recorded", "该行已有支付结果，不能重复导入"))
        elif row.status == "failed" and not row.reason.strip():
            verdicts.append(verdict("missing_reason", "支付失败须注明原因"))
        else:
            verdicts.append(verdict("accepted", "已支付" if row.status == "paid" else "支付失败，退回待支付", True))
        if row.line_id:
            seen.add(row.line_id)
    return verdicts
