"""Types without models: ``TypedDict`` modules generated from a server's OpenAPI v3, checked by mypy, free at run time.

``python -m dynaclient.codegen`` reads ``/openapi/v3`` from a server (or saved documents) and writes a package with
one module per API group and version and one ``TypedDict`` per schema. The objects dynaclient returns stay plain
dicts; the types only tell the type checker and the editor what is in them::

    from dynaclient.types.core.v1 import Pod

    pods = client.resource("pods", Pod).namespace("default")
    for pod in pods.list():
        print(pod["spec"]["containers"][0]["image"])  # checked by mypy

:mod:`dynaclient.types` ships the types of every group-version Kubernetes 1.34.4 serves by default.
"""

from __future__ import annotations

from pathlib import Path

from dynaclient.codegen.documents import OpenAPIDocument, OpenAPIError, OpenAPISource, fetch_source, load_source
from dynaclient.codegen.model import build_model
from dynaclient.codegen.render import render_package
from dynaclient.codegen.validate import TypeMismatch, type_mismatches


def generate(
    source: OpenAPISource, package: str, *, generate_builtins: bool = True, builtins_package: str = "dynaclient.types"
) -> dict[str, str]:
    """Return the files of a package of types for ``source``, by path relative to the package directory.

    Args:
        source: the OpenAPI v3 documents.
        package: the dotted name the package will be imported as.
        generate_builtins: also write the built-in types the documents use (``meta/v1`` for a custom resource);
            when false they are imported from ``builtins_package``.
        builtins_package: the package built-in types come from when they are not generated.
    """
    model = build_model(source, generate_builtins=generate_builtins)
    return render_package(model, package, builtins_package=builtins_package)


def write_package(files: dict[str, str], directory: str | Path) -> list[Path]:
    """Write ``files`` under ``directory``, replacing the ``.py`` files a previous run left there; return the paths.

    Only files whose content changed are rewritten.
    """
    root = Path(directory)
    wanted = {root / name: text for name, text in files.items()}
    if root.is_dir():
        for stale in sorted(set(root.rglob("*.py")) - set(wanted)):
            stale.unlink()
    for path, text in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return sorted(wanted)


__all__ = [
    "OpenAPIDocument",
    "OpenAPIError",
    "OpenAPISource",
    "TypeMismatch",
    "fetch_source",
    "generate",
    "load_source",
    "type_mismatches",
    "write_package",
]
