"""What a rule family compiles a catalogue file into: closures and tuples built once, at load time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from huanxin.policy.domain.config import Table
from huanxin.policy.domain.decision import Decision

Evaluator = Callable[[Mapping[str, Any]], Decision]


class Meta(NamedTuple):
    """The identity of the rule set being compiled, stamped on every decision."""

    code: str
    version: int
    rule_version: str


class Compiled(NamedTuple):
    """A compiled rule set: the per-decision closure plus the figures the services need up front."""

    evaluate: Evaluator
    category_names: Mapping[str, str]
    max_amounts_fen: Mapping[str | None, int | None]
    quotas: Mapping[str | None, int | None]


Compiler = Callable[[Table, Meta], Compiled]
