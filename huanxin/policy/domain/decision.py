"""The engine's answers: a Decision with its Reasons, or an InputError for malformed input."""

from __future__ import annotations

from typing import Any, NamedTuple


class Reason(NamedTuple):
    """One criterion checked, in order: a stable snake_case code, whether it passed, a Chinese message."""

    code: str
    passed: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Render the reason as the quote contract's {"code", "passed", "message"} object."""
        return {"code": self.code, "passed": self.passed, "message": self.message}


# Builds a Reason without the generated NamedTuple.__new__ (a Python-level call): new_reason(Reason, (…)).
# Used where reasons carry per-decision text on the quote path; half the cost of Reason(code, passed, text).
new_reason = tuple.__new__


class Decision:
    """Whether an input is eligible under one rule set and for how many fen, with every reason checked."""

    # Slots, not a dataclass: one Decision is built per quote and the quote path is benchmarked.
    __slots__ = ("amount_fen", "details", "eligible", "programme", "reasons", "rule_version")

    programme: str
    rule_version: str
    eligible: bool
    amount_fen: int
    details: dict[str, Any]
    reasons: tuple[Reason, ...]

    def __init__(  # noqa: PLR0917 - positional on purpose: one Decision is built per quote
        self,
        programme: str,
        rule_version: str,
        eligible: bool,
        amount_fen: int,
        details: dict[str, Any],
        reasons: tuple[Reason, ...],
    ) -> None:
        """Hold one decision; an ineligible decision always carries amount_fen 0."""
        self.programme = programme
        self.rule_version = rule_version
        self.eligible = eligible
        self.amount_fen = amount_fen if eligible else 0
        self.details = details
        self.reasons = reasons

    def to_dict(self) -> dict[str, Any]:
        """Render the decision exactly as the quote contract in POLICY.md specifies."""
        return {
            "programme": self.programme,
            "rule_version": self.rule_version,
            "eligible": self.eligible,
            "amount_fen": self.amount_fen,
            "details": dict(self.details),
            "reasons": [{"code": code, "passed": passed, "message": message} for code, passed, message in self.reasons],
        }

    def __eq__(self, other: object) -> bool:
        """Compare decisions by value."""
        if not isinstance(other, Decision):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable details dict: decisions are not hashable

    def __repr__(self) -> str:
        """Show the decision's headline figures."""
        return (
            f"Decision(programme={self.programme!r}, eligible={self.eligible!r}, "
            f"amount_fen={self.amount_fen!r}, reasons={[r.code for r in self.reasons]!r})"
        )


class InputError(ValueError):
    """Malformed input (missing or mistyped field, impossible date, unknown category): not a refusal."""

    def __init__(self, code: str, field: str, message: str) -> None:
        """Carry a stable error code, the dotted path of the offending field and a Chinese message."""
        # The text is the message alone: it is what a person is shown (``field`` names the field in code).
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        """Render the error as the quote contract's {"error": {"code", "field", "message"}} object."""
        return {"error": {"code": self.code, "field": self.field, "message": self.message}}

    def __repr__(self) -> str:
        """Show code and field, which is what tests and logs need."""
        return f"InputError(code={self.code!r}, field={self.field!r}, message={self.message!r})"
