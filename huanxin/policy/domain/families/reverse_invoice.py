"""Reverse invoicing (反向开票) for natural-person sellers of scrap: a rolling 12-month ceiling and the taxes.

Input (POLICY.md): sale_fen, seller_prior_12m_fen, seller_month_fen (this month including this sale).
amount_fen is the sale when allowed; details carry vat_fen and pit_fen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from huanxin.core.domain.labels import field_named
from huanxin.core.domain.money import format_yuan
from huanxin.policy.domain.config import Table
from huanxin.policy.domain.decision import Decision, InputError, Reason, new_reason
from huanxin.policy.domain.family import Compiled, Meta
from huanxin.policy.domain.inputs import MISSING, as_mapping, wrong_type
from huanxin.policy.domain.money import format_rate


def _money(data: Mapping[str, Any], key: str, minimum: int) -> int:
    """Read one amount in fen (inline copy of inputs.read_money, kept local for the hot path)."""
    value = data.get(key, MISSING)
    if type(value) is not int:
        raise wrong_type(value, key, "以分为单位的整数")
    if value < minimum:
        if value < 0:
            raise InputError("negative", key, f"{field_named(key)}不能为负数")
        raise InputError("invalid_value", key, f"{field_named(key)}应大于 0")
    return value


def compile_reverse_invoice(root: Table, meta: Meta) -> Compiled:
    """Compile a reverse-invoice catalogue: 12-month ceiling, monthly VAT exemption, VAT and tax rates."""
    rules = root.table("rules")
    ceiling = rules.integer("twelve_month_ceiling_fen", minimum=1)
    vat_exempt_month = rules.integer("vat_exempt_monthly_fen")
    vat_rate = rules.integer("vat_rate_bp")
    pit_rate = rules.integer("pit_rate_bp")
    rules.finish()

    programme, rule_version = meta.code, meta.rule_version
    ceiling_text = format_yuan(ceiling, symbol=False)
    exempt_text = format_yuan(vat_exempt_month, symbol=False)
    vat_rate_text = format_rate(vat_rate)
    pit_rate_text = format_rate(pit_rate)

    def evaluate(payload: Mapping[str, Any]) -> Decision:
        """Decide one reverse invoice: allowed while prior 12 months + this sale stay within the ceiling."""
        data = payload if type(payload) is dict else as_mapping(payload, "")
        sale = _money(data, "sale_fen", 1)
        prior = _money(data, "seller_prior_12m_fen", 0)
        month = _money(data, "seller_month_fen", 0)
        if month < sale:
            raise InputError("invalid_value", "seller_month_fen", "卖方本月销售额包含本次销售额，不能小于本次销售额")
        total = prior + sale
        total_text = format_yuan(total, symbol=False)
        prior_text, sale_text = format_yuan(prior, symbol=False), format_yuan(sale, symbol=False)
        sums = f"近 12 个月已反向开票 {prior_text} 元 + 本次 {sale_text} 元 = {total_text} 元"
        if total > ceiling:
            reason = new_reason(
                Reason, ("reverse_invoice_cap", False, f"{sums}，超过 {ceiling_text} 元，应拒绝反向开票")
            )
            return Decision(programme, rule_version, False, 0, {"vat_fen": 0, "pit_fen": 0}, (reason,))
        cap_reason = new_reason(Reason, ("reverse_invoice_cap", True, f"{sums}，未超过 {ceiling_text} 元"))
        month_text = format_yuan(month, symbol=False)
        if month <= vat_exempt_month:
            vat = 0
            vat_message = f"本月销售额 {month_text} 元，未超过 {exempt_text} 元，免征增值税"
        else:
            vat = (sale * vat_rate + 5_000) // 10_000
            vat_message = (
                f"本月销售额 {month_text} 元，超过 {exempt_text} 元，"
                f"按 {vat_rate_text} 征收增值税 {format_yuan(vat, symbol=False)} 元"
            )
        pit = (sale * pit_rate + 5_000) // 10_000
        pit_message = f"个人所得税按销售额的 {pit_rate_text} 预缴 {format_yuan(pit, symbol=False)} 元"
        return Decision(
            programme,
            rule_version,
            True,
            sale,
            {"vat_fen": vat, "pit_fen": pit},
            (
                cap_reason,
                new_reason(Reason, ("vat", True, vat_message)),
                new_reason(Reason, ("pit", True, pit_message)),
            ),
        )

    return Compiled(evaluate=evaluate, category_names={}, max_amounts_fen={None: ceiling}, quotas={None: None})
