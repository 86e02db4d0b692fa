"""MkDocs hooks: pages include files from the repository, so the site never holds a second copy of them.

``<!-- include: bench/results/combined.md -->`` on a line of its own is replaced by that file's text, and
``bench/results/combined.png`` (the benchmark chart) is served as ``benchmarks/combined.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_INCLUDE = re.compile(r"^<!-- include: (?P<path>\S+) -->$", re.MULTILINE)
_ASSETS = {"bench/results/combined.png": "benchmarks/combined.png"}


def _included(match: re.Match[str]) -> str:
    path = ROOT / match.group("path")
    if not path.is_file():
        raise FileNotFoundError(f"docs include: {match.group('path')} does not exist")
    return path.read_text(encoding="utf-8")


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace every include comment by the file it names."""
    return _INCLUDE.sub(_included, markdown)


def on_files(files: Any, config: Any, **_: Any) -> Any:
    """Serve the repository files the pages show (the benchmark chart) from where they are."""
    from mkdocs.structure.files import File

    for source, target in _ASSETS.items():
        files.append(File.generated(config, target, abs_src_path=str(ROOT / source)))
    return files
