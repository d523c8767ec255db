"""Every integer the API reads is bounded to 64 bits (or less), and every integer and boolean in a JSON body is
strict: a new endpoint that declares a bare ``int`` fails here, before an attacker finds the 500 it would answer,
and one that declares a bare ``bool`` fails before ``1`` or ``"yes"`` is read as true."""

from __future__ import annotations

import typing

from annotated_types import Le, Lt
from pydantic import BaseModel, Strict
from pydantic.fields import FieldInfo

from huanxin.core.schemas import INT64_MAX
from huanxin.core.tests.api_routers import every_router


def _bounded(metadata: list[object]) -> bool:
    return any(
        (isinstance(m, Le) and int(m.le) <= INT64_MAX) or (isinstance(m, Lt) and int(m.lt) <= INT64_MAX + 1)  # type: ignore[call-overload]
        for m in metadata
    )


def _strict(metadata: list[object]) -> bool:
    return any(isinstance(m, Strict) and m.strict for m in metadata)


def _problems(annotation: object, metadata: list[object], where: str, body: bool, seen: set[type]) -> list[str]:
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        # ``Annotated[int, Field(le=…)]`` nests its constraints in a FieldInfo.
        flat = [inner for m in extra for inner in (m.metadata if isinstance(m, FieldInfo) else [m])]
        return _problems(base, [*metadata, *flat], where, body, seen)
    if annotation is bool:
        return [f"{where}: bool in a body is not strict"] if body and not _strict(metadata) else []
    if annotation is int:
        found = [] if _bounded(metadata) else [f"{where}: unbounded int"]
        return found + ([f"{where}: int in a body is not strict"] if body and not _strict(metadata) else [])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return []
        seen.add(annotation)
        return [
            problem
            for name, field in annotation.model_fields.items()
            for problem in _problems(field.annotation, list(field.metadata), f"{where}.{name}", body, seen)
        ]
    return [problem for arg in typing.get_args(annotation) for problem in _problems(arg, [], where, body, seen)]


def test_every_integer_the_api_reads_is_bounded_and_strict_in_bodies_and_every_body_boolean_strict():
    from huanxin.api import api

    problems: list[str] = []
    routers = every_router()
    assert len(routers) > len(api._routers)  # the car applications' routers are mounted inside vehicles'
    for prefix, router in routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for model in operation.models:
                    body = model.__name__ == "BodyParams"
                    problems += _problems(model, [], f"{prefix}{path} {model.__name__}", body, set())
    assert problems == [], "\n".join(problems)
