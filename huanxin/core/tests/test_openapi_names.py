"""The OpenAPI document names each schema once: ninja files components by class name, so two classes with one
name silently document one app's schema for the other's endpoint."""

from __future__ import annotations

import typing
from collections import defaultdict

from pydantic import BaseModel

from huanxin.core.tests.api_routers import every_router

# ninja's own per-operation containers: flattened into parameters and bodies, never a component.
_CONTAINERS = {"QueryParams", "PathParams", "BodyParams", "FormParams", "FileParams", "HeaderParams"}
_CONTAINERS |= {"CookieParams", "NinjaResponseSchema"}


def _models_in(annotation: object, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for field in annotation.model_fields.values():
            _models_in(field.annotation, found)
        return
    for argument in typing.get_args(annotation):
        _models_in(argument, found)


def _documented_models() -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    for _prefix, router in every_router():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    _models_in(model, found)
                for model in (operation.response_models or {}).values():
                    _models_in(model, found)
    return {model for model in found if model.__name__ not in _CONTAINERS}


def test_no_two_schemas_of_the_api_share_a_name():
    by_name: dict[str, set[str]] = defaultdict(set)
    for model in _documented_models():
        by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    assert {name: sorted(paths) for name, paths in by_name.items() if len(paths) > 1} == {}


def test_the_settlement_batch_endpoints_document_settlements_own_schemas():
    from huanxin.api import api

    spec = api.get_openapi_schema()
    operation = spec["paths"]["/api/v1/settlement/batches"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(spec["components"]["schemas"][body]["properties"]) == {"programme"}
    listed = spec["paths"]["/api/v1/settlement/batches"]["get"]["responses"][200]["content"]["application/json"]
    item = listed["schema"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert "line_count" in spec["components"]["schemas"][item]["properties"]
