"""How the API speaks: bearer tokens or sessions, and problem-details JSON for every error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from huanxin.core.domain.labels import field_label
from huanxin.core.errors import PROBLEM_CONTENT_TYPE, DomainError, FieldError, ValidationFailed
from huanxin.core.idempotency import Answered
from huanxin.core.permissions import confine_to_organisation


class TokenAuth(HttpBearer):
    """``Authorization: Bearer hx_…`` — a POS or system client acting for a user in one organisation.

    The app that issues tokens supplies ``authenticate`` (token text → its token row with ``.user``, or None),
    so the kernel names no app."""

    def __init__(self, authenticate: Callable[[str], Any]) -> None:
        super().__init__()
        self._authenticate = authenticate

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = self._authenticate(token)
        if api_token is None:
            return None
        # A token acts for the organisation it was issued for and no other its holder belongs to.
        confine_to_organisation(api_token.user, api_token.organisation_id)
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token


class StaffSession(SessionAuth):
    """The browser session (CSRF-checked for writes)."""


def problem_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    body = error.problem(instance=request.path, request_id=getattr(request, "request_id", ""))
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=error.status, content_type=PROBLEM_CONTENT_TYPE
    )
    # A refusal that lifts by itself says when (RFC 9110 §10.2.3), so clients need not parse the message.
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int) and retry_after > 0:
        response["Retry-After"] = str(retry_after)
    return response


_TYPE_NAMES = {
    "string_type": "文本", "int_type": "整数", "int_parsing": "整数", "int_from_float": "整数",
    "bool_type": "布尔值", "bool_parsing": "布尔值", "float_type": "数字", "float_parsing": "数字",
    "list_type": "列表", "dict_type": "对象", "model_type": "对象", "model_attributes_type": "对象",
}  # fmt: skip


def _message(error: dict[str, Any], field: str = "") -> tuple[str, str]:
    """A Chinese message and a stable code for one pydantic error. The message never names the field: the
    error's ``field`` does that for machines, and ``field_label`` for people."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required", "此字段为必填项"
    if kind in _TYPE_NAMES:
        expected = "以分为单位的整数" if _TYPE_NAMES[kind] == "整数" and field.endswith("_fen") else _TYPE_NAMES[kind]
        return "invalid_type", f"类型不正确，应为{expected}"
    if kind in {"date_parsing", "date_from_datetime_parsing", "date_type", "date_from_datetime_inexact"}:
        return "invalid_date", "日期无效，格式应为 YYYY-MM-DD"
    if kind in {"datetime_parsing", "datetime_type", "datetime_from_date_parsing"}:
        return "invalid_datetime", "时间无效，格式应为 ISO 8601"
    if kind in {"greater_than_equal", "greater_than"}:
        limit = ctx.get("ge", ctx.get("gt"))
        return "too_small", f"不能小于{'或等于' if kind == 'greater_than' else ''} {limit}"
    if kind in {"less_than_equal", "less_than"}:
        limit = ctx.get("le", ctx.get("lt"))
        return "too_large", f"不能大于{'或等于' if kind == 'less_than' else ''} {limit}"
    if kind == "string_too_short":
        return "too_short", f"长度不能少于 {ctx.get('min_length')} 个字符"
    if kind == "string_too_long":
        return "too_long", f"长度不能超过 {ctx.get('max_length')} 个字符"
    if kind in {"literal_error", "enum"}:
        return "invalid_choice", f"取值无效，可选：{ctx.get('expected', '')}"
    if kind in {"json_invalid", "json_type"}:
        return "invalid_json", "请求体不是有效的 JSON"
    if kind == "extra_forbidden":
        return "unknown_field", "不支持此字段"
    if kind == "value_error":
        text = str(ctx.get("error", error.get("msg", "")))
        return "invalid_value", text.removeprefix("Value error, ")
    return "invalid", "输入无效"


_LOCATIONS = {"body", "query", "path", "form", "header", "cookie", "file"}


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
        # ninja nests a body under the view parameter's name, e.g. ("body", "payload", "uscc").
        if len(parts) > 1 and isinstance(parts[0], str) and parts[0] in {"payload", "data", "body"}:
            parts = parts[1:]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def install_error_handlers(api: NinjaAPI) -> None:
    """Every error leaves the API as problem-details JSON with a stable code and a Chinese detail."""

    @api.exception_handler(DomainError)
    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return problem_response(request, exc)

    @api.exception_handler(Answered)
    def on_answered(request: HttpRequest, exc: Answered) -> HttpResponse:
        # An Idempotency-Key already used: the middleware's answer (a replay, 409 or 422), not an error.
        return exc.response

    @api.exception_handler(NinjaValidationError)
    def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = []
        for item in exc.errors:
            field = _field_name(item.get("loc", ()))
            code, message = _message(item, field)
            errors.append(FieldError(field, code, message))
        first = errors[0] if errors else FieldError("body", "invalid", "输入无效")
        # The one-line detail names the field in Chinese (成交价), never by its name in code (price_fen).
        label = field_label(first.field)
        detail = (f"{label}：{first.message}" if label else first.message) + (
            f"（另有 {len(errors) - 1} 处错误）" if len(errors) > 1 else ""
        )
        return problem_response(request, ValidationFailed(detail, errors=errors))

    @api.exception_handler(AuthenticationError)
    def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        error = DomainError("请先登录或提供有效的接口令牌", code="not_authenticated")
        error.status = 401  # type: ignore[misc]
        error.title = "未认证"  # type: ignore[misc]
        return problem_response(request, error)

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja wraps whatever the body parser raises in a 400 "Cannot parse request body": the parser's own
        # refusal (encoding, depth, NUL, with its field) is the answer.
        if isinstance(exc.__cause__, DomainError):
            return problem_response(request, exc.__cause__)
        error = DomainError(str(exc.message), code=f"http_{exc.status_code}")
        error.status = exc.status_code  # type: ignore[misc]
        return problem_response(request, error)
