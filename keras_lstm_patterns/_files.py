"""Writing a file whole or not at all."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(f)`` on a new file beside ``path``, then rename it over ``path``.

    The temporary name is unique and in the same folder (same file system, so the rename
    is atomic), created with the usual permissions; a failure removes it and leaves the
    old file, or none, never a partial one.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.txt", lambda f: f.write(b"whole")).read_bytes()
    b'whole'
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
