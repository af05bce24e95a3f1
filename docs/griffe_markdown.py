"""A griffe extension: the package's docstrings read as Markdown on the site.

The docstrings are written for ``help()`` and the doctest runner: ``>>>`` examples may
follow any section (not only ``Examples:``), and a few use Sphinx roles
(``:func:`flat_layers```). On the site, each run of ``>>>`` lines with its printed output
becomes a fenced ``pycon`` block (otherwise Markdown would join the lines into one
paragraph and read ``[a]\\n[b]`` as a link), and a role becomes inline code.

Used by mkdocstrings (``extensions`` in mkdocs.yml); the docstrings themselves are not
changed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj|py:\w+):`~?([^`]+)`")


def markdown_docstring(text: str) -> str:
    """Doctest runs fenced as ``pycon``, Sphinx roles as inline code.

    >>> print(markdown_docstring("Returns:\\n    x.\\n\\n>>> f()\\n[1]\\n"))
    Returns:
        x.
    <BLANKLINE>
    ```pycon
    >>> f()
    [1]
    ```
    <BLANKLINE>
    """
    lines = text.split("\n")
    out: list[str] = []
    fenced = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith("```"):
            fenced = not fenced
        if fenced or not stripped.startswith(">>>"):
            out.append(ROLE.sub(r"`\1`", line) if not fenced else line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        block = []
        while i < len(lines) and lines[i].strip() and lines[i].startswith(indent):
            block.append(lines[i][len(indent) :])
            i += 1
        out += [f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"]
    return "\n".join(out)


class DocstringsAsMarkdown(griffe.Extension):
    """Rewrite each object's docstring with :func:`markdown_docstring` once it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_docstring(obj.docstring.value)
