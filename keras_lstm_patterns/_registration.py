"""The package's Keras classes registered whenever Keras is imported, in any order.

``keras.models.load_model`` finds ``PatternModel`` and the package's ``TimeDistributed``
only once they are registered, which happens when :mod:`keras_lstm_patterns.layers` is
imported. The package imports Keras lazily (so the ``klp`` command line starts fast), so a
script that imports ``keras_lstm_patterns`` first and Keras after would otherwise load a
saved model without the classes. :func:`register_with_keras` closes that gap: it imports
``layers`` now if Keras is loaded, or right after Keras finishes loading.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import Any


class _AfterKeras(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps Keras's own loader to register the package's classes
    as soon as Keras has loaded.

    It stays in ``sys.meta_path`` until Keras is really loaded: a mere look-up
    (``importlib.util.find_spec("keras")``, as the package's missing-backend check does)
    gets a wrapped spec that is never executed, and must not use the hook up.
    """

    def __init__(self) -> None:
        self._looking = False  # our own look-up below must not find us again

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "keras" or self._looking:
            return None
        self._looking = True
        try:
            spec = importlib.util.find_spec("keras")
        finally:
            self._looking = False
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            load(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)  # once, and never in the way of the real finders
            importlib.import_module("keras_lstm_patterns.layers")

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def register_with_keras() -> None:
    """Register the package's classes now if Keras is loaded, else when it loads.

    The package's import calls it; calling it again does nothing more.

    >>> register_with_keras()
    >>> import keras
    >>> keras.saving.get_registered_object("keras_lstm_patterns>PatternModel").__name__
    'PatternModel'
    """
    if "keras" in sys.modules:
        importlib.import_module("keras_lstm_patterns.layers")
    elif not any(isinstance(f, _AfterKeras) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterKeras())
