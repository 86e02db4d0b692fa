"""Extract and run the code blocks of the documentation site (docs/**/*.md).

Every ```python block runs. The blocks of one page run in order in one namespace, as a reader would type them;
functions named ``test_*`` that a page defines are then called. A page whose first line is
``<!-- snippets: server -->`` needs an API server: it runs in the integration phase with ``KUBECONFIG`` naming the
session's control plane (tests/integration/test_docs_snippets.py); the others run in the unit phase
(tests/docs/test_docs_pages.py). Blocks that are not Python say what they are (console, text, yaml) and do not run.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs"
SERVER_MARKER = "<!-- snippets: server -->"
FENCE_LANGUAGES = {"python", "console", "text", "yaml", "toml", "json"}
_FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Snippet:
    """One fenced block: its page, its first line number, its language and its text."""

    page: Path
    line: int
    language: str
    code: str


def pages() -> list[Path]:
    """Every Markdown page of the site, in a stable order."""
    return sorted(DOCS.rglob("*.md"))


def page_id(page: Path) -> str:
    """The page's path under docs/, for test ids."""
    return str(page.relative_to(DOCS))


def needs_server(page: Path) -> bool:
    """Whether the page's blocks talk to an API server."""
    return page.read_text(encoding="utf-8").startswith(SERVER_MARKER)


def snippets(page: Path) -> list[Snippet]:
    """The fenced blocks of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    return [
        Snippet(page, text.count("\n", 0, match.start()) + 2, match.group("info").strip(), match.group("body"))
        for match in _FENCE.finditer(text)
    ]


def run_page(page: Path, fixtures: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run the page's Python blocks in one namespace, then its ``test_*`` functions; return the namespace.

    A test function's parameters are filled from ``fixtures`` by name, as pytest fills them; a parameter with no
    such fixture is an error, so a page cannot show a test that was never run.
    """
    namespace: dict[str, Any] = {"__name__": f"docs.{page.stem}"}
    blocks = [snippet for snippet in snippets(page) if snippet.language == "python"]
    assert blocks, f"{page_id(page)} has no python block to run"
    for snippet in blocks:
        # Blank lines in front keep the reported line numbers those of the page.
        source = "\n" * (snippet.line - 1) + snippet.code
        exec(compile(source, str(snippet.page), "exec"), namespace)
    fixtures = fixtures or {}
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            wanted = list(inspect.signature(value).parameters)
            missing = [parameter for parameter in wanted if parameter not in fixtures]
            assert not missing, f"{page_id(page)}: {name} needs fixtures this run has not got: {missing}"
            value(**{parameter: fixtures[parameter] for parameter in wanted})
    return namespace
