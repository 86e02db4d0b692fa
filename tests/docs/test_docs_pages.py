"""The documentation site's code runs (issue 19): pages that need no server run here, in the unit phase."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.docs.snippets import DOCS, FENCE_LANGUAGES, needs_server, page_id, pages, run_page, snippets


def _load_fence_code() -> Callable[[str], str]:
    """docs/_griffe_fences.py is loaded by mkdocstrings from its path, not imported from a package; so here."""
    spec = importlib.util.spec_from_file_location("_griffe_fences", DOCS / "_griffe_fences.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fence: Callable[[str], str] = module.fence_code
    return fence


LOCAL_PAGES = [
    page for page in pages() if not needs_server(page) and any(s.language == "python" for s in snippets(page))
]


@pytest.mark.parametrize("page", LOCAL_PAGES, ids=page_id)
def test_the_page_runs(page: Path) -> None:
    run_page(page)


def test_every_block_says_its_language_and_python_blocks_run() -> None:
    for page in pages():
        for snippet in snippets(page):
            where = f"{page_id(page)}:{snippet.line}"
            assert snippet.language in FENCE_LANGUAGES, f"{where}: ```{snippet.language} is not run nor allowed"


def test_server_pages_and_local_pages_are_both_tested() -> None:
    server = [page for page in pages() if needs_server(page)]
    assert server, "no page is marked as needing a server"
    assert LOCAL_PAGES, "no page runs without a server"
    for page in server:
        assert any(s.language == "python" for s in snippets(page)), f"{page_id(page)} is marked but has no code"


def test_doctests_and_literal_blocks_are_fenced_for_the_reference() -> None:
    fence_code = _load_fence_code()
    assert fence_code("Split:\n\n>>> f('a b')\n['a', 'b']\n\nDone.") == (
        "Split:\n\n```pycon\n>>> f('a b')\n['a', 'b']\n```\n\nDone."
    )
    assert fence_code("The tree::\n\n    A\n    B\n\nText.") == "The tree:\n\n```text\n    A\n    B\n```\n\nText."
    assert fence_code("Args:\n    x: an x.") == "Args:\n    x: an x."
