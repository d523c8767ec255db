"""Domain packages stay pure: they import neither Django nor any app module outside domain/."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_packages_import_no_django_and_no_app_internals():
    domain_files = list(ROOT.glob("*/domain/**/*.py"))
    assert domain_files, "no domain packages found"
    offenders = []
    for path in domain_files:
        for name in _imports(path):
            top = name.split(".")[0]
            if top in {"django", "ninja", "rest_framework"}:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
            if name.startswith("huanxin.") and ".domain" not in name:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []
