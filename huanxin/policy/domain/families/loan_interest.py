"""Equipment-renewal loan interest subsidy: a yearly rate on the principal, for a limited number of months.

Input (POLICY.md): principal_fen, disbursed_on, term_months. amount_fen = principal × rate × months / 12,
rounded half-up once, where months = min(term_months, the programme's maximum).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from huanxin.core.domain.money import BASIS_POINTS, format_yuan, round_half_up
from huanxin.policy.domain.config import Table, refuse
from huanxin.policy.domain.dates import admits_all, describe_all, read_limits
from huanxin.policy.domain.decision import Decision, Reason
from huanxin.policy.domain.family import Compiled, Meta
from huanxin.policy.domain.inputs import as_mapping, read_date, read_int, read_money
from huanxin.policy.domain.money import format_rate

MONTHS_PER_YEAR = 12


def _points(rate_bp: int) -> str:
    """Render a rate in basis points as percentage points, e.g. 150 → '1.5 个百分点'."""
    return f"{format_rate(rate_bp).removesuffix('%')} 个百分点"


def compile_loan_interest(root: Table, meta: Meta) -> Compiled:
    """Compile a loan-interest catalogue: yearly rate in basis points, maximum months, disbursement window."""
    rules = root.table("rules")
    rate_bp = rules.integer("rate_bp", minimum=1)
    max_months = rules.integer("max_months", minimum=1)
    disbursed = read_limits(rules, "disbursed")
    rules.finish()
    if not disbursed:
        raise refuse(rules.path, "give the disbursement cut-off, e.g. disbursed_on_or_after")

    programme, rule_version = meta.code, meta.rule_version
    disbursed_text = describe_all(disbursed)
    rate_text = _points(rate_bp)

    def evaluate(payload: Mapping[str, Any]) -> Decision:
        """Decide one loan: disbursed in the window; subsidy = principal × rate × capped months / 12."""
        data = as_mapping(payload, "")
        principal = read_money(data, "principal_fen", minimum=1)
        disbursed_on = read_date(data, "disbursed_on")
        term = read_int(data, "term_months", minimum=1)

        in_window = admits_all(disbursed, disbursed_on)
        window_reason = Reason(
            "window",
            in_window,
            f"贷款发放日期 {disbursed_on}，{'符合' if in_window else '不符合'}{disbursed_text}的要求",
        )
        if not in_window:
            return Decision(programme, rule_version, False, 0, {}, (window_reason,))
        months = min(term, max_months)
        amount = round_half_up(principal * rate_bp * months, BASIS_POINTS * MONTHS_PER_YEAR)
        capped = f"（期限 {term} 个月，按最长 {max_months} 个月计）" if term > max_months else ""
        interest_reason = Reason(
            "loan_interest",
            True,
            f"贷款本金 {format_yuan(principal, symbol=False)} 元 × 年贴息 {rate_text} × {months} 个月 / 12 = "
            f"{format_yuan(amount, symbol=False)} 元{capped}",
        )
        details = {"months": months}
        return Decision(programme, rule_version, True, amount, details, (window_reason, interest_reason))

    return Compiled(evaluate=evaluate, category_names={}, max_amounts_fen={None: None}, quotas={None: None})
