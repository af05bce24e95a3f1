"""Import Keras without TensorFlow's start-up lines on stderr.

TensorFlow's C++ logging writes to file descriptor 2 while it is imported, and on TF 2.21
some of it ignores ``TF_CPP_MIN_LOG_LEVEL`` (absl's "All log messages before
absl::InitializeLog() is called are written to STDERR" and oneDNN's notice). A script
that calls :func:`import_keras_quietly` before anything else imports Keras starts quiet.
"""

from __future__ import annotations

import os
import sys


def import_keras_quietly() -> None:
    """Import Keras, and the package's layers (so ``load_model`` knows them), quietly.

    ``TF_CPP_MIN_LOG_LEVEL`` is set to 3 unless already set, and descriptor 2 points at
    ``/dev/null`` during the import only; an import error is still raised, with stderr
    restored. Nothing is silenced when Keras is already imported.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
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
