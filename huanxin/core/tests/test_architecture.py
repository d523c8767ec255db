"""The layering is checked, not hoped for.

- ``domain/`` packages import neither Django nor any app module outside ``domain/``;
- ``core`` (the kernel every app builds on) names no app: not in an import at any level, not in a dotted string;
- no ``models`` module imports a ``queries`` module, so the read side can always import the models;
- no app's models reach its read side through any chain of imports (no models ↔ queries circle).

Imports are read from the source (module level and inside functions alike); imports under ``if TYPE_CHECKING:``
are for the type checker only and never run, so the import graph leaves them out.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT.name
APPS = sorted(path.parent.name for path in ROOT.glob("*/apps.py"))
OTHER_APPS = [app for app in APPS if app != "core"]
APP_NAME = re.compile(rf"\b{PACKAGE}\.({'|'.join(OTHER_APPS)})\b")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _walk(node: ast.AST, *, runtime_only: bool) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        if runtime_only and _is_type_checking_block(child):
            assert isinstance(child, ast.If)
            for other in child.orelse:
                yield other
                yield from _walk(other, runtime_only=runtime_only)
            continue
        yield child
        yield from _walk(child, runtime_only=runtime_only)


def _imports(path: Path, *, runtime_only: bool = False) -> set[str]:
    """Every module the file imports, at any level, with relative imports resolved; ``from a import b`` names
    both ``a`` and ``a.b`` (b may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in _walk(tree, runtime_only=runtime_only):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _strings(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def _code_files(*folders: Path) -> list[Path]:
    return [
        path
        for folder in folders
        for path in folder.rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts and "migrations" not in path.relative_to(ROOT).parts
    ]


def test_domain_packages_import_no_django_and_no_app_internals():
    domain_files = list(ROOT.glob("*/domain/**/*.py"))
    assert domain_files, "no domain packages found"
    offenders = []
    for path in domain_files:
        for name in _imports(path):
            top = name.split(".")[0]
            if top in {"django", "ninja", "rest_framework"}:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
            if name.startswith(f"{PACKAGE}.") and ".domain" not in name:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_core_imports_no_app_and_names_none_in_a_string():
    """Periodic jobs, token sign-in, template filters: each app registers or supplies its own; core's tests may
    drive it through an app's endpoints, its code may not."""
    files = _code_files(ROOT / "core")
    assert files
    offenders = []
    for path in files:
        where = path.relative_to(ROOT)
        offenders += [f"{where}: import {name}" for name in sorted(_imports(path)) if APP_NAME.match(name)]
        offenders += [f"{where}: {text!r}" for text in _strings(path) if APP_NAME.search(text)]
    assert offenders == []


def test_no_models_module_imports_a_queries_module():
    models = [*ROOT.glob("*/models.py"), *ROOT.glob("*/models/*.py")]
    assert models
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in models
        for name in sorted(_imports(path))
        if name.split(".")[-1] == "queries" or ".queries." in name
    ]
    assert offenders == []


def _import_graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in ROOT.rglob("*.py") if "migrations" not in path.parts}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        graph[module] = set()
        for imported in _imports(path, runtime_only=True):
            # Importing a.b.c runs a and a.b too (their __init__ modules); ``from a import b`` may name a function.
            parts = imported.split(".")
            prefixes = {".".join(parts[:end]) for end in range(1, len(parts) + 1)}
            graph[module] |= {name for name in prefixes if name in files and name != module}
    return graph


def test_no_app_has_an_import_circle_between_its_models_and_its_queries():
    graph = _import_graph()
    circles = []
    for app in APPS:
        models, queries = f"{PACKAGE}.{app}.models", f"{PACKAGE}.{app}.queries"
        if models not in graph or queries not in graph:
            continue
        seen, stack = {models}, [models]
        while stack:
            for name in graph[stack.pop()] - seen:
                seen.add(name)
                stack.append(name)
        if queries in seen:
            circles.append(app)
    assert circles == []
