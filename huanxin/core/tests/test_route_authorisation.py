"""Every route of the project, asked by every persona, answers what the authorisation matrix declares.

The routes are read from the URL map (``get_resolver()``, walked recursively) and, for the API, from the
NinjaAPI's operations (each path's methods); the expectations are in ``authorisation_matrix.py``. A route
without a row fails, so every new page or endpoint is declared with who may use it from its first day.

The world (personas and the first organisation's objects) is built once for the module inside a transaction
rolled back at its end; each request runs in a savepoint rolled back after it, so a write one persona makes
is never seen by the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import TestCase, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from huanxin.core.models import AuditEntry
from huanxin.core.tests.authorisation_matrix import (
    ALLOWED,
    BACK,
    EXCLUDED,
    FOREIGN,
    INCLUDED_DESPITE_EXCLUSION,
    LOGIN,
    ROWS,
    Row,
)
from huanxin.core.tests.authorisation_world import World, build_world

_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
_TEST_SETTINGS = {
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "matrix"}},
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
}


# ---------------------------------------------------------------- the routes, from the URL map


def _path_view(callback: Any) -> Any:
    """The ninja PathView behind an API URL pattern (its view closes over it), or None for other views."""
    from ninja.operation import PathView

    for cell in getattr(callback, "__closure__", None) or ():
        if isinstance(cell.cell_contents, PathView):
            return cell.cell_contents
    return None


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def routed() -> tuple[set[str], set[str]]:
    """The routes of the URL map: API routes as ``METHOD /path``, pages as ``/path`` (a page's methods are
    its view's business; the table names the ones it serves)."""
    api: set[str] = set()
    pages: set[str] = set()
    for pattern, callback in _walk(get_resolver().url_patterns):
        route = "/" + _PARAMETER.sub(r"{\1}", pattern)
        if any(route.startswith(p) for p in EXCLUDED) and route not in INCLUDED_DESPITE_EXCLUSION:
            continue
        path_view = _path_view(callback)
        if path_view is None:
            pages.add(route)
            continue
        for operation in path_view.operations:
            api.update(f"{method} {route}" for method in operation.methods)
    return api, pages


# ---------------------------------------------------------------- the world, once per module


@contextmanager
def _rolled_back() -> Iterator[None]:
    """A transaction (a savepoint inside the test's) that is always rolled back. Marked like the test's own so
    that the services' durable transactions may run inside it."""
    atomics = TestCase._enter_atomics()
    try:
        yield
    finally:
        TestCase._rollback_atomics(atomics)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    from huanxin.subsidies import services as subsidies

    with django_db_blocker.unblock(), override_settings(**_TEST_SETTINGS), _rolled_back():
        cache.clear()
        subsidies.clear_caches()
        built = build_world()
        yield built
    subsidies.clear_caches()


# ---------------------------------------------------------------- one request


def _fill(value: Any, objects: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole and whole.group(1) in objects:
            return objects[whole.group(1)]
        return value.format(**objects) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, objects) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, objects) for k, v in value.items()}
    return value


def _request(world: World, row: Row, persona: str) -> Any:
    import json

    client = world.client(world.personas[persona])
    client.raise_request_exception = False
    url = _fill(row.url or row.route, world.objects)
    body = _fill(row.body, world.objects)
    if row.method == "GET":
        return client.get(url)
    if row.content_type == "multipart/form-data" or not row.is_api:
        data = {
            k: (SimpleUploadedFile("upload.csv", b"a,b\r\n1,2\r\n", "text/csv") if v == "__csv_file__" else v)
            for k, v in (body or {}).items()
        }
        return client.generic(row.method, url, **_multipart(data)) if row.method != "POST" else client.post(url, data)
    payload = "" if body is None else json.dumps(body, ensure_ascii=False)
    return client.generic(row.method, url, payload, content_type=row.content_type)


def _multipart(data: dict[str, Any]) -> dict[str, Any]:
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    return {"data": encode_multipart(BOUNDARY, data), "content_type": MULTIPART_CONTENT}


def _is_login_redirect(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _describe(response: HttpResponse) -> str:
    if _is_login_redirect(response):
        return LOGIN
    return str(response.status_code)


def _judge(row: Row, persona: str, response: HttpResponse, expected: Any) -> str | None:
    """What is wrong with the answer, or None."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if expected == LOGIN:
        return None if _is_login_redirect(response) else f"expected a redirect to sign in, got {_describe(response)}"
    if expected == BACK:
        if status == 302 and not _is_login_redirect(response):
            return None
        return f"expected a redirect back with a message, got {_describe(response)}"
    if expected == ALLOWED:
        if status in (401, 403) or _is_login_redirect(response):
            return f"expected to be let through, got {_describe(response)}"
        return None
    if status != expected or (status == 302 and _is_login_redirect(response)):
        return f"expected {expected}, got {_describe(response)}"
    return None


def _leaks(world: World, row: Row, persona: str, response: HttpResponse) -> list[str]:
    if row.public or persona not in FOREIGN or persona in row.sees or response.status_code != 200:
        return []
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content).decode("utf-8", "replace")
    else:
        content = response.content.decode("utf-8", "replace")
    return [name for name, text in world.secrets.items() if name not in row.echoes and text in content]


def _refusal(expected: Any) -> bool:
    return expected in (401, 403, 404, 405, LOGIN, BACK)


def check_row(world: World, row: Row) -> list[str]:
    problems = []
    for persona in row.personas:
        expected = row.outcome(persona)
        with _rolled_back():
            refused = _refusal(expected)
            audit_rows = AuditEntry.objects.count() if refused else 0
            response = _request(world, row, persona)
            if refused and AuditEntry.objects.count() != audit_rows:
                problems.append(f"{persona}: refused ({_describe(response)}) but wrote an audit row")
            problem = _judge(row, persona, response, expected)
            if problem:
                problems.append(f"{persona}: {problem}")
            problems.extend(
                f"{persona}: answered the first organisation's {leak}" for leak in _leaks(world, row, persona, response)
            )
    return problems


# ---------------------------------------------------------------- the tests


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    api, pages = routed()
    declared_api = {r.key for r in ROWS if r.is_api}
    declared_pages = {r.route for r in ROWS if not r.is_api}
    assert sorted(api - declared_api) == [], "API routes without a row in authorisation_matrix.py"
    assert sorted(declared_api - api) == [], "rows for API routes that no longer exist"
    assert sorted(pages - declared_pages) == [], "pages without a row in authorisation_matrix.py"
    assert sorted(declared_pages - pages) == [], "rows for pages that no longer exist"


def test_each_row_is_declared_once() -> None:
    keys = [r.key for r in ROWS]
    assert sorted({k for k in keys if keys.count(k) > 1}) == []


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=[r.key for r in ROWS])
def test_route_answers_each_persona_as_declared(world: World, row: Row) -> None:
    problems = check_row(world, row)
    assert problems == [], f"{row.key}:\n  " + "\n  ".join(problems)
