"""Domain errors and their one rendering: RFC 9457 problem details with a stable code.

Services raise these; the API turns them into ``application/problem+json`` and the web views put
``errors`` next to the form fields. A message is always Chinese and never carries an identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class FieldError:
    """One field's problem: which field, a stable code, a Chinese message."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class DomainError(Exception):
    """A refusal the caller can act on. ``code`` is stable; ``detail`` is for people."""

    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "请求无法处理"

    def __init__(self, detail: str, *, code: str | None = None, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.errors = errors or []

    @property
    def first_message(self) -> str:
        """What to tell a person in one line: the first field's message, else the detail."""
        return self.errors[0].message if self.errors else self.detail

    def problem(self, instance: str = "", request_id: str = "") -> dict[str, Any]:
        """The RFC 9457 body for this error."""
        body: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "errors": [error.as_dict() for error in self.errors],
        }
        if instance:
            body["instance"] = instance
        if request_id:
            body["request_id"] = request_id
        return body


class ValidationFailed(DomainError):
    """Input failed field validation; nothing was changed."""

    status = 422
    default_code = "validation_failed"
    title = "输入有误"

    @classmethod
    def for_field(cls, field: str, code: str, message: str) -> ValidationFailed:
        return cls(message, code=code, errors=[FieldError(field, code, message)])

    @classmethod
    def from_errors(cls, errors: list[FieldError]) -> ValidationFailed:
        """Every field error at once; the first one names the refusal (its code and message)."""
        return cls(errors[0].message, code=errors[0].code, errors=errors)


class ConflictError(DomainError):
    """The object is not in the state the request assumed (someone else acted first)."""

    status = 409
    default_code = "conflict"
    title = "状态冲突"


class NotFoundError(DomainError):
    status = 404
    default_code = "not_found"
    title = "未找到"


class ForbiddenError(DomainError):
    status = 403
    default_code = "forbidden"
    title = "无权操作"


class RateLimitedError(DomainError):
    status = 429
    default_code = "rate_limited"
    title = "请求过于频繁"


def formula_errors(values: dict[str, tuple[str, str]]) -> list[FieldError]:
    """A field error for each name (field → (Chinese label, text)) that starts like a spreadsheet formula;
    such names are refused where they are entered (core.domain.text)."""
    from huanxin.core.domain.text import FORMULA_CODE, formula_message, starts_like_formula

    return [
        FieldError(field, FORMULA_CODE, formula_message(label))
        for field, (label, text) in values.items()
        if starts_like_formula(text)
    ]
