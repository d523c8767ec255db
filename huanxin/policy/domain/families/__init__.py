"""Rule families: each compiles one shape of catalogue file into an evaluation closure."""

from __future__ import annotations

from huanxin.policy.domain.families.car import compile_car
from huanxin.policy.domain.families.consumer_goods import compile_consumer_goods
from huanxin.policy.domain.families.dismantling import compile_dismantling_fund
from huanxin.policy.domain.families.ebike import compile_ebike
from huanxin.policy.domain.families.loan_interest import compile_loan_interest
from huanxin.policy.domain.families.reverse_invoice import compile_reverse_invoice
from huanxin.policy.domain.families.truck import compile_truck
from huanxin.policy.domain.family import Compiler

FAMILIES: dict[str, Compiler] = {
    "consumer_goods": compile_consumer_goods,
    "ebike": compile_ebike,
    "car": compile_car,
    "truck": compile_truck,
    "dismantling_fund": compile_dismantling_fund,
    "loan_interest": compile_loan_interest,
    "reverse_invoice": compile_reverse_invoice,
}

__all__ = ["FAMILIES"]
