"""The write side of consumer trade-in, one module per subject: ``merchants`` (stores and enrolment),
``claims`` (qualifications, rounds, expiry), ``checkout`` (the quote, the sale and the review of held
sales) and ``returns``. Money moves only through ``huanxin.policy.ledger``; every state change is a
compare-and-set on the row's status in one short transaction that writes its audit row.

The verbs are re-exported here so that callers name the action, not the module it lives in.
"""

from huanxin.subsidies.services.checkout import (
    Quote,
    Redeemed,
    TakeBackInput,
    clear_hold,
    find_qualification,
    quote_redemption,
    redeem,
    reject_hold,
)
from huanxin.subsidies.services.claims import (
    cancel_qualification,
    check_stated_district,
    claim_qualification,
    clear_caches,
    create_round,
    expire_due,
)
from huanxin.subsidies.services.common import ClaimRefused
from huanxin.subsidies.services.merchants import EnrolmentInput, apply_enrolment, create_store, decide_enrolment
from huanxin.subsidies.services.returns import quote_return, record_return

__all__ = [
    "ClaimRefused",
    "EnrolmentInput",
    "Quote",
    "Redeemed",
    "TakeBackInput",
    "apply_enrolment",
    "cancel_qualification",
    "check_stated_district",
    "claim_qualification",
    "clear_caches",
    "clear_hold",
    "create_round",
    "create_store",
    "decide_enrolment",
    "expire_due",
    "find_qualification",
    "quote_redemption",
    "quote_return",
    "record_return",
    "redeem",
    "reject_hold",
]
