"""Import Keras quietly, and say in one line which extra to install when no backend is.

TensorFlow's C++ logging writes to file descriptor 2 while it is imported, and on TF 2.21
some of it ignores ``TF_CPP_MIN_LOG_LEVEL`` (absl's "All log messages before
absl::InitializeLog() is called are written to STDERR", oneDNN's notice, and the
``tensorflow`` wheel's "Could not find cuda drivers" on a machine without a GPU). A script
that calls :func:`import_keras_quietly` before anything else imports Keras starts quiet.

The package requires Keras but no backend: each backend is an extra
(``keras_lstm_patterns[tensorflow]``, ``[jax]``, ``[torch]``). :func:`missing_backend`
tells, without importing anything, whether the backend Keras will load is installed, and
:func:`notice_missing_backend` prints that as one line.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

__all__ = [
    "EXTRAS",
    "MissingBackendError",
    "import_keras_quietly",
    "keras_backend",
    "missing_backend",
    "notice_missing_backend",
    "require_backend",
]

# Keras backend name -> the module it imports, and the extra that installs it
EXTRAS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}
_noticed = False  # the one line is printed once a process
_NOTICE_SHOWN = "KLP_BACKEND_NOTICE_SHOWN"  # ... and once for the processes it starts


class MissingBackendError(ImportError):
    """Keras, or the backend Keras is set to load, is not installed."""


def keras_backend() -> str:
    """The backend Keras will load: ``KERAS_BACKEND``, else ``keras.json``'s, else TensorFlow.

    Keras reads ``$KERAS_HOME/keras.json`` (``~/.keras/keras.json`` by default) when the
    environment does not name one; this reads the same places without importing Keras.

    Returns:
        The backend's name as Keras spells it (``"tensorflow"``, ``"jax"``, ``"torch"``, ...).

    >>> keras_backend() in ("tensorflow", "jax", "torch")
    True
    """
    name = os.environ.get("KERAS_BACKEND")
    if name:
        return name
    home = os.environ.get("KERAS_HOME") or str(Path("~/.keras").expanduser())
    try:
        config = json.loads((Path(home) / "keras.json").read_text())
    except (OSError, ValueError):
        return "tensorflow"
    backend = config.get("backend") if isinstance(config, dict) else None
    return backend if isinstance(backend, str) and backend else "tensorflow"


def _installed(module: str) -> bool:
    if module in sys.modules:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_backend() -> str | None:
    """What is missing for Keras to load, as one line naming the extras; ``None`` if nothing.

    Nothing is imported: the check asks only whether ``keras`` and the backend's module can
    be found.

    Returns:
        ``None`` when Keras and its backend are installed (or Keras is already imported),
        else one line that names the backend Keras wants and the extras that install one.

    >>> missing_backend() is None  # Keras and its backend are installed here
    True
    """
    if "keras" in sys.modules:
        return None
    backend = keras_backend()
    module = _MODULES.get(backend, backend)
    found = [name for name, mod in EXTRAS.items() if name != backend and _installed(mod)]
    extras = 'pip install "keras_lstm_patterns[tensorflow]" (or [jax], or [torch])'
    if not _installed("keras"):
        what = "Keras is not installed"
    elif not _installed(module):
        where = "KERAS_BACKEND" if os.environ.get("KERAS_BACKEND") else "Keras's default"
        what = f'Keras\'s backend "{backend}" ({where}) is not installed'
    else:
        return None
    switch = f"; or set KERAS_BACKEND={found[0]}, which is installed" if found else ""
    return f"keras_lstm_patterns: {what}: {extras}{switch}"


def require_backend() -> None:
    """Raise :class:`MissingBackendError` with :func:`missing_backend`'s line, if any.

    For library code about to import Keras: the error says which extra to install instead
    of Keras's ``No module named 'tensorflow'`` from deep inside its backend selection.

    Raises:
        MissingBackendError: Keras, or the backend Keras is set to load, is not installed.

    >>> require_backend()  # a backend is installed here: nothing raised
    """
    line = missing_backend()
    if line is not None:
        raise MissingBackendError(line)


def notice_missing_backend() -> bool:
    """Print :func:`missing_backend`'s line on stderr, once a process, if a backend is missing.

    For the package's import: ``klp patterns`` and the data sets still work without a
    backend, so the import goes on; the line says what a model will need.

    Returns:
        ``True`` when a backend is missing (whether or not the line was printed now).

    >>> notice_missing_backend()  # a backend is installed here: nothing printed
    False
    """
    global _noticed
    line = missing_backend()
    if line is None:
        return False
    # a child process (``klp recipe`` runs the recipe in one) inherits the mark and stays quiet
    if not _noticed and os.environ.get(_NOTICE_SHOWN) != line:
        _noticed = True
        os.environ[_NOTICE_SHOWN] = line
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    return True


def import_keras_quietly() -> None:
    """Import Keras, and the package's layers (so ``load_model`` knows them), quietly.

    ``TF_CPP_MIN_LOG_LEVEL`` is set to 3 unless already set, and descriptor 2 points at
    ``/dev/null`` during the import only; an import error is still raised, with stderr
    restored. Nothing is silenced when Keras is already imported.

    For command lines and scripts (``klp``, ``klp recipe``): when Keras or its backend is
    not installed, the process ends with the one line of :func:`missing_backend` on stderr
    (exit code 1) instead of a traceback.

    Raises:
        SystemExit: Keras, or the backend Keras is set to load, is not installed.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    line = missing_backend()
    if line is not None:
        # the package's import, here or in the process that started this one, may have
        # printed the line already: never twice
        raise SystemExit(1 if _noticed or os.environ.get(_NOTICE_SHOWN) == line else line)
    if "keras" not in sys.modules:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
                try:
                    import keras  # noqa: F401
                finally:
                    os.dup2(saved, 2)
        finally:
            os.close(saved)
    from . import layers  # noqa: F401  (registers PatternModel and TimeDistributed)
