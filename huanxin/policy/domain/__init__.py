"""The pure rule engine: catalogue files in, explainable decisions out. Never imports Django."""

from __future__ import annotations

from huanxin.policy.domain.config import CatalogueError
from huanxin.policy.domain.decision import Decision, InputError, Reason
from huanxin.policy.domain.family import Term
from huanxin.policy.domain.ruleset import CATALOGUE_DIR, RuleSet, evaluate, load_catalogue, load_rule_set

__all__ = [
    "CATALOGUE_DIR",
    "CatalogueError",
    "Decision",
    "InputError",
    "Reason",
    "RuleSet",
    "Term",
    "evaluate",
    "load_catalogue",
    "load_rule_set",
]
