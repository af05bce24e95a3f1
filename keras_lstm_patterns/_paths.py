"""The one check of a file path argument: its type, its suffix, a file name (not a folder)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._checks import fail

__all__ = ["check_file_path"]


def check_file_path(path: Any, *, suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` as a ``Path``, refused when it cannot name a file to write or read.

    Args:
        path: what the caller passed as ``path``.
        suffixes: the suffixes allowed (compared in lower case); empty for any.

    Returns:
        ``Path(path)``.

    Raises:
        ArgumentTypeError: ``path`` is not a str or ``os.PathLike`` (``None``, a file
            object).
        ArgumentError: another suffix, or a name that is a folder's (``""``, ``"."``,
            ``".."``).

    >>> check_file_path("runs/m.svg", suffixes=(".png", ".svg")).name
    'm.svg'
    >>> check_file_path(".")
    Traceback (most recent call last):
    ...
    keras_lstm_patterns._errors.ArgumentError: `path` must be a file name, not a folder. Received: path='.'
    """
    if not isinstance(path, str | os.PathLike):
        fail(
            "path",
            "a file path (str or pathlib.Path)",
            path,
            shown=f"path of type {type(path).__name__}",
            error=TypeError,
        )
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        fail("path", f"a file name ending in {' or '.join(suffixes)}", str(path))
    if path.name in ("", ".", ".."):
        fail("path", "a file name, not a folder", str(path))
    return path
