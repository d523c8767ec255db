"""What a rule family compiles a catalogue file into: closures and tuples built once, at load time."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, NamedTuple

from huanxin.policy.domain.config import Table
from huanxin.policy.domain.decision import Decision

Evaluator = Callable[[Mapping[str, Any]], Decision]
# A claim's question (category, the person's history as (programme, category) pairs, the categories
# subsidised in another province this year): may the person take a qualification now?
ClaimChecker = Callable[[str, Sequence[tuple[str, str]], Collection[str]], Decision]


class Meta(NamedTuple):
    """The identity of the rule set being compiled, stamped on every decision."""

    code: str
    version: int
    rule_version: str


class Term(NamedTuple):
    """One line of a rule set's terms in plain Chinese: what it is about (冰箱、洗衣机) and the rule for it."""

    subject: str
    text: str


class Compiled(NamedTuple):
    """A compiled rule set: the per-decision closure plus the figures the services need up front.

    ``terms`` states the rules for the public, built from the same figures that decide, so that what a
    page says can never drift from what the engine pays.
    """

    evaluate: Evaluator
    category_names: Mapping[str, str]
    max_amounts_fen: Mapping[str | None, int | None]
    quotas: Mapping[str | None, int | None]
    terms: tuple[Term, ...] = ()
    # The input fields (dotted paths) these rules check; a calculator form asks for these and no others.
    reads: frozenset[str] = frozenset()
    # Families whose subsidy is claimed ahead of the purchase (a qualification per category) answer this.
    check_claim: ClaimChecker | None = None


Compiler = Callable[[Table, Meta], Compiled]
