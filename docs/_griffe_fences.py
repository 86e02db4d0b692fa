"""A griffe extension for the API reference: the docstrings' doctests and ``::`` blocks are shown as code.

The docstrings are written for ``help()`` and doctest: a ``>>>`` session or a reST literal block (a paragraph
ending in ``::`` followed by an indented block) is plain text to Markdown, where ``['a', 'b']`` reads as a link.
This wraps each in a fenced code block before mkdocstrings renders it; the source is left as it is.
"""

from __future__ import annotations

from typing import Any

import griffe


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def fence_code(text: str) -> str:
    """Fence the doctest sessions and literal blocks of a docstring (tests/docs/test_site_tools.py)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(">>>"):
            pad = " " * _indent(line)
            end = i
            while end < len(lines) and lines[end].strip():
                end += 1
            out += [f"{pad}```pycon", *lines[i:end], f"{pad}```"]
            i = end
            continue
        out.append(line[:-1] if line.endswith("::") and line.strip() != "::" else line)
        if line.rstrip().endswith("::") and i + 2 < len(lines) and not lines[i + 1].strip():
            base = _indent(line)
            end = i + 2
            while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
                end += 1
            while end > i + 2 and not lines[end - 1].strip():
                end -= 1
            if end > i + 2:
                out += ["", f"{' ' * base}```text", *lines[i + 2 : end], f"{' ' * base}```"]
                i = end
                continue
        i += 1
    return "\n".join(out)


class FenceCode(griffe.Extension):
    """Rewrite each loaded object's docstring with :func:`fence_code`. Thread-safety: stateless."""

    def on_instance(self, *, obj: griffe.Object, **_: Any) -> None:
        """Fence the docstring of every object griffe loads."""
        if obj.docstring is not None:
            obj.docstring.value = fence_code(obj.docstring.value)
