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


# The refusals every endpoint may answer, as problem details. Which of them an operation documents follows from
# what it takes: any query string may carry a NUL (422) and any input can fail validation (422); an operation
# behind authentication answers 401 without credentials and 403 without the role or for a missing CSRF token;
# one that names objects (in its path, query or body) answers 404 when they do not exist or are not visible;
# a write answers 409 when the object is not in the state it assumed or its Idempotency-Key is in use; a body
# that is not UTF-8 JSON is a 400 or 415; a request line longer than the application server reads (gunicorn:
# 4 KB, e.g. a query parameter repeated many times) is a 414 from the server itself. Endpoints that answer
# something more (429, …) declare it themselves.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details；`code` 稳定，`errors` 逐字段说明",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail", "code", "errors"],
}

_PROBLEM_DESCRIPTIONS = {
    400: "请求无法解析",
    401: "未认证：请先登录或提供有效的接口令牌",
    403: "无权操作（或会话请求缺少 CSRF 令牌）",
    404: "对象不存在或不可见",
    409: "状态冲突，或 Idempotency-Key 正被使用 / 用于不同的请求",
    415: "请求体须为 UTF-8 JSON",
    422: "输入有误（逐字段说明）",
    429: "请求过于频繁（见 Retry-After）",
}
# Answered by the application server before the request reaches the application: its own page, not JSON.
_SERVER_REFUSALS = {414: "请求行过长（应用服务器读取的请求行最长约 4 KB）"}
_WRITES = {"post", "put", "patch", "delete"}


def problem_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The refusals an operation documents, from what it takes (see ``PROBLEM_SCHEMA``)."""
    statuses = {422}
    parameters = operation.get("parameters") or []
    has_body = "requestBody" in operation
    if operation.get("security"):
        statuses |= {401, 403}
    if parameters or has_body:
        statuses.add(404)
    if parameters:
        statuses.add(414)
    if method in _WRITES:
        statuses.add(409)
    if has_body:
        statuses |= {400, 415}
    return statuses


def _documented_problem(status: int) -> dict[str, Any]:
    if status in _SERVER_REFUSALS:
        return {"description": _SERVER_REFUSALS[status], "content": {"text/html": {"schema": {"type": "string"}}}}
    return {
        "description": _PROBLEM_DESCRIPTIONS[status],
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


class ProblemDocumentedAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI document lists, for every operation, the problem-details refusals it may answer
    next to its own responses, so a client (and the fuzz in CI) knows every status and body to expect. An
    operation adds refusals of its own with ``openapi_extra={"x-problems": [429]}``."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if components.get("Problem", PROBLEM_SCHEMA) != PROBLEM_SCHEMA:
            raise ValueError("an app schema is named Problem: the name belongs to the problem-details schema")
        components["Problem"] = PROBLEM_SCHEMA
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in sorted(problem_statuses(method, operation) | set(operation.pop("x-problems", []))):
                    # ninja keys responses by integer status
                    if status not in responses and str(status) not in responses:
                        responses[status] = _documented_problem(status)
        return schema
