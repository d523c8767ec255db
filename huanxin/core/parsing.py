"""Reading request input at the boundary, once for every endpoint: strict UTF-8 JSON of bounded depth, and no
NUL character anywhere (PostgreSQL cannot store one, so it would otherwise surface as a server error deep in
a query). Refusals are 4xx problem details with a stable code and the field they concern."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from huanxin.core.errors import DomainError, ValidationFailed

# Deeper than any body the API documents (the deepest is a batch of events with a map of outputs: 4 levels).
MAX_JSON_DEPTH = 32

NUL = "\x00"
NUL_MESSAGE = "不能包含空字符（NUL）"


class UnsupportedMediaType(DomainError):
    """The body is not in a format the endpoint reads."""

    status = 415
    default_code = "unsupported_media_type"
    title = "不支持的内容类型"


def is_json_content_type(content_type: str) -> bool:
    """``application/json`` or a ``+json`` type, with or without parameters; charset, if given, UTF-8."""
    media, _, parameters = content_type.partition(";")
    media = media.strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        return False
    charset = parameters.strip().lower().removeprefix("charset=").strip('"') if "charset=" in parameters else "utf-8"
    return charset in {"utf-8", "utf8"}


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check_json_value(data: Any, *, root: str = "body") -> None:
    """Refuse a decoded JSON value nested deeper than ``MAX_JSON_DEPTH`` or holding a NUL in any key or text;
    the error names the first field concerned. Iterative, so no depth of input can exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                raise ValidationFailed.for_field(path or root, "nul_character", NUL_MESSAGE)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise ValidationFailed.for_field(path or root, "too_deep", f"嵌套层级过深（最多 {MAX_JSON_DEPTH} 层）")
        if isinstance(value, dict):
            for key, inner in value.items():
                if NUL in key:
                    raise ValidationFailed.for_field(path or root, "nul_character", NUL_MESSAGE)
                stack.append((inner, _path(path, key), depth + 1))
        else:
            stack.extend((inner, _path(path, index), depth + 1) for index, inner in enumerate(value))


def load_json(raw: bytes) -> Any:
    """A request body as JSON: UTF-8 only (no byte-order mark), at most ``MAX_JSON_DEPTH`` levels deep, no NUL
    in any text. Anything else is a 400/422 refusal naming what is wrong, never a server error."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed.for_field("body", "invalid_encoding", "请求体须为 UTF-8 编码的 JSON") from None
    if text.startswith("\ufeff"):
        raise ValidationFailed.for_field("body", "invalid_encoding", "请求体须为不带字节顺序标记（BOM）的 UTF-8")
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValidationFailed.for_field("body", "too_deep", f"嵌套层级过深（最多 {MAX_JSON_DEPTH} 层）") from None
    except ValueError:
        raise ValidationFailed.for_field("body", "invalid_json", "请求体不是有效的 JSON") from None
    check_json_value(data)
    return data


def first_nul_field(data: MultiValueDict[str, Any]) -> str | None:
    """The name of the first query or form field whose name or any value holds a NUL, else None."""
    for key, values in data.lists():
        if NUL in key:
            return key.replace(NUL, "")
        if any(isinstance(value, str) and NUL in value for value in values):
            return key
    return None


class StrictJSONParser(Parser):
    """ninja's parser with the boundary's rules for JSON bodies (query and form fields: ``InputGuardMiddleware``)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data: dict[str, Any] = load_json(request.body)
        return data
