"""Rule sets: a catalogue file parsed, validated and compiled once, then evaluated many times."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from huanxin.policy.domain.config import CatalogueError, Table, refuse
from huanxin.policy.domain.decision import Decision
from huanxin.policy.domain.families import FAMILIES
from huanxin.policy.domain.family import ClaimChecker, Evaluator, Meta, Term

CATALOGUE_DIR: Final = Path(__file__).resolve().parent.parent / "catalogue"

_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class RuleSet:
    """One programme's rules at one version, compiled: identity, provenance and the evaluation closure."""

    __slots__ = (
        "_category_names",
        "_check_claim",
        "_evaluate",
        "_max_amounts_fen",
        "_quotas",
        "_reads",
        "_terms",
        "code",
        "description",
        "digest",
        "effective_from",
        "family",
        "name",
        "rule_version",
        "source",
        "version",
    )

    code: str
    version: int
    name: str
    family: str
    source: str
    description: str
    effective_from: date
    digest: str
    rule_version: str

    def __init__(self, document: Mapping[str, Any]) -> None:
        """Validate a parsed catalogue document and compile it; raises ValueError on any problem."""
        root = Table(document, "")
        self.code = root.text("code")
        if not _CODE.fullmatch(self.code):
            raise refuse("code", "use lowercase letters, digits and hyphens, e.g. cn-appliance-2025")
        self.version = root.integer("version", minimum=1)
        self.name = root.text("name")
        self.family = root.text("family")
        self.source = root.text("source")
        self.description = root.text("description")
        self.effective_from = root.day("effective_from")
        self.rule_version = f"{self.code}@{self.version}"
        self.digest = _digest(document)
        compiler = FAMILIES.get(self.family)
        if compiler is None:
            raise refuse("family", f"unknown family {self.family!r}; known: {', '.join(sorted(FAMILIES))}")
        compiled = compiler(root, Meta(self.code, self.version, self.rule_version))
        root.finish()
        self._evaluate: Evaluator = compiled.evaluate
        self._category_names = MappingProxyType(dict(compiled.category_names))
        self._max_amounts_fen = dict(compiled.max_amounts_fen)
        self._quotas = dict(compiled.quotas)
        self._terms = compiled.terms
        self._reads = compiled.reads
        self._check_claim: ClaimChecker | None = compiled.check_claim

    @property
    def categories(self) -> tuple[str, ...]:
        """The category codes this programme subsidises (empty for families without categories)."""
        return tuple(self._category_names)

    @property
    def category_names(self) -> Mapping[str, str]:
        """Category code → Chinese name, from the catalogue file."""
        return self._category_names

    @property
    def terms(self) -> tuple[Term, ...]:
        """The rules in plain Chinese (rates, caps, grades, dates, limits), from the compiled figures."""
        return self._terms

    @property
    def reads(self) -> frozenset[str]:
        """The input fields (dotted paths such as ``new_vehicle.price_fen``) these rules check."""
        return self._reads

    def max_amount_fen(self, category: str | None = None) -> int:
        """The most one item (or one application) of the category can get: what a budget hold reserves."""
        amount = self._figure(self._max_amounts_fen, category)
        if amount is None:
            raise ValueError(f"{self.code}: the subsidy has no fixed maximum (it grows with the input)")
        return amount

    def quota(self, category: str | None = None) -> int:
        """How many subsidies of the category one person may receive under this programme."""
        quota = self._figure(self._quotas, category)
        if quota is None:
            raise ValueError(f"{self.code}: the programme sets no per-person limit")
        return quota

    def _figure(self, figures: Mapping[str | None, int | None], category: str | None) -> int | None:
        """Look a per-category figure up, refusing categories the programme does not cover."""
        if category not in figures:
            raise ValueError(f"{self.code}: unknown category {category!r}")
        return figures[category]

    def evaluate(self, payload: Mapping[str, Any]) -> Decision:
        """Decide one quote input under this rule set."""
        return self._evaluate(payload)

    @property
    def takes_claims(self) -> bool:
        """Whether residents claim this programme's subsidy ahead of the purchase (a qualification)."""
        return self._check_claim is not None

    def check_claim(
        self, *, category: str, history: Sequence[tuple[str, str]], other_region_categories: Collection[str]
    ) -> Decision:
        """May a person claim a qualification for ``category`` now: the category is covered, it was not
        subsidised in another province this year (where the rules exclude that), and the person's history
        ((programme, category) pairs of subsidies received) leaves quota. The price and grades are decided
        at checkout, so they are not asked; an eligible decision's amount is what the claim holds."""
        if self._check_claim is None:
            raise ValueError(f"{self.code}: the {self.family} family does not issue qualifications")
        return self._check_claim(category, history, other_region_categories)

    def __repr__(self) -> str:
        """Identify the rule set by code@version and content digest."""
        return f"RuleSet({self.rule_version!r}, family={self.family!r}, digest={self.digest[:12]!r})"


def _digest(document: Mapping[str, Any]) -> str:
    """SHA-256 of the document's canonical JSON: comments and layout do not change it, any value does."""
    canonical = json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_canonical_value
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical_value(value: object) -> str:
    """Render TOML dates and times as ISO text for the canonical form."""
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


def load_rule_set(toml_text: str) -> RuleSet:
    """Parse, validate and compile one catalogue file; raise ValueError if it is not a valid rule set."""
    try:
        document = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"not valid TOML: {error}") from error
    except RecursionError:
        # tomllib recurses once per level of nested arrays or inline tables; no rule set nests more than a few.
        raise CatalogueError("not valid TOML: nested too deeply") from None
    return RuleSet(document)


def load_catalogue(directory: Path | str = CATALOGUE_DIR) -> dict[str, RuleSet]:
    """Load every *.toml rule set in directory, keyed by code; each file must be named after its code."""
    rule_sets: dict[str, RuleSet] = {}
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            rule_set = load_rule_set(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise CatalogueError(f"{path.name}: {error}") from error
        if rule_set.code != path.stem:
            raise CatalogueError(f"{path.name}: file name must be the programme code {rule_set.code!r}")
        rule_sets[rule_set.code] = rule_set
    return rule_sets


def evaluate(rule_set: RuleSet, payload: Mapping[str, Any]) -> Decision:
    """Decide one quote input: eligible or not, the amount in fen, and every reason checked, in order."""
    return rule_set._evaluate(payload)
