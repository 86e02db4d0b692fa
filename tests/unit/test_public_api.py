"""The public surface and the layering rule: informers uses only dynaclient's root; dynaclient never informers."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("package", ["dynaclient", "informers"])
def test_every_exported_name_resolves_once(package: str) -> None:
    # The order of __all__ is ruff's (RUF022); here: no duplicates, and every name really exists.
    module = importlib.import_module(package)
    names = list(module.__all__)
    assert len(names) == len(set(names))
    missing = [name for name in names if not hasattr(module, name)]
    assert missing == []


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def test_dynaclient_never_imports_informers() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "dynaclient").rglob("*.py")
        for name in _imports(path)
        if name == "informers" or name.startswith("informers.")
    ]
    assert offenders == []


def test_informers_imports_only_the_public_root_of_dynaclient() -> None:
    # dynaclient.aio is the asyncio client's public root: it needs the async extra, so the root cannot import it.
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "informers").rglob("*.py")
        for name in _imports(path)
        if name.startswith("dynaclient.") and name != "dynaclient.aio"
    ]
    assert offenders == []


def test_every_runtime_dependency_is_imported_by_the_library() -> None:
    # A declared dependency nothing imports is weight for every user (cachetools was one).
    import re
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    modules = {"PyYAML": "yaml"}
    names = [re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0] for requirement in declared]
    imported = {
        name.split(".")[0] for package in ("dynaclient", "informers") for path in (ROOT / package).rglob("*.py")
        for name in _imports(path)
    }  # fmt: skip
    assert [name for name in names if modules.get(name, name) not in imported] == []
