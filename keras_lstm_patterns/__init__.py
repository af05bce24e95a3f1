"""keras_lstm_patterns: the recurrent-network patterns of Keras, as tested code.

Every name below is imported from its module on first use (PEP 562), so that the ``klp``
command line starts without loading Keras. ``explain`` and ``PATTERNS`` are imported
now: their modules load Keras only when a model is built or read. When Keras is already
imported, the package's Keras classes (:mod:`keras_lstm_patterns.layers`) are registered
for ``keras.models.load_model``.
"""

from importlib import import_module as _import_module
from typing import TYPE_CHECKING as _TYPE_CHECKING

from ._patterns import PATTERNS as PATTERNS
from ._registration import register_with_keras as _register_with_keras
from .explaining import explain as explain

# name -> (module, attribute); attribute None: the module itself
_LAZY = {
    "backtesting": (".backtesting", None),
    "closed_loop": (".closed_loop", None),
    "datasets": (".datasets", None),
    "layers": (".layers", None),
    "scaling": (".scaling", None),
    "stateful": (".stateful", None),
    "windows": (".windows", None),
    "PatternModel": (".layers", "PatternModel"),
    "Seq2Seq": ("._patterns", "Seq2Seq"),
    "many_to_many": ("._patterns", "many_to_many"),
    "many_to_one": ("._patterns", "many_to_one"),
    "next_token_model": ("._patterns", "next_token_model"),
    "one_to_many": ("._patterns", "one_to_many"),
    "seq2seq_autoencoder": ("._patterns", "seq2seq_autoencoder"),
    "stateful_generator": ("._patterns", "stateful_generator"),
    "normalized": (".scaling", "normalized"),
    "fit_stateful": (".stateful", "fit_stateful"),
    "forecast": (".stateful", "forecast"),
    "generate": (".stateful", "generate"),
    "predict_chunks": (".stateful", "predict_chunks"),
    "reset_states": (".stateful", "reset_states"),
    "with_batch_size": (".stateful", "with_batch_size"),
    "backtest": (".backtesting", "backtest"),
    "score": (".backtesting", "score"),
    "model_forecaster": (".backtesting", "model_forecaster"),
    "fit_closed_loop": (".closed_loop", "fit_closed_loop"),
}

if _TYPE_CHECKING:
    from . import backtesting as backtesting
    from . import closed_loop as closed_loop
    from . import datasets as datasets
    from . import layers as layers
    from . import scaling as scaling
    from . import stateful as stateful
    from . import windows as windows
    from ._patterns import Seq2Seq as Seq2Seq
    from ._patterns import many_to_many as many_to_many
    from ._patterns import many_to_one as many_to_one
    from ._patterns import next_token_model as next_token_model
    from ._patterns import one_to_many as one_to_many
    from ._patterns import seq2seq_autoencoder as seq2seq_autoencoder
    from ._patterns import stateful_generator as stateful_generator
    from .backtesting import backtest as backtest
    from .backtesting import model_forecaster as model_forecaster
    from .backtesting import score as score
    from .closed_loop import fit_closed_loop as fit_closed_loop
    from .layers import PatternModel as PatternModel
    from .scaling import normalized as normalized
    from .stateful import fit_stateful as fit_stateful
    from .stateful import forecast as forecast
    from .stateful import generate as generate
    from .stateful import predict_chunks as predict_chunks
    from .stateful import reset_states as reset_states
    from .stateful import with_batch_size as with_batch_size


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for key, (module, attribute) in _LAZY.items():  # all at once: one Keras import
        mod = _import_module(module, __name__)
        globals()[key] = mod if attribute is None else getattr(mod, attribute)
    return globals()[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


_register_with_keras()  # saved models load in any import order

__all__ = [
    "PATTERNS",
    "PatternModel",
    "Seq2Seq",
    "backtest",
    "backtesting",
    "closed_loop",
    "datasets",
    "explain",
    "explaining",
    "fit_closed_loop",
    "fit_stateful",
    "forecast",
    "generate",
    "layers",
    "many_to_many",
    "many_to_one",
    "model_forecaster",
    "next_token_model",
    "normalized",
    "one_to_many",
    "predict_chunks",
    "reset_states",
    "scaling",
    "score",
    "seq2seq_autoencoder",
    "stateful",
    "stateful_generator",
    "windows",
    "with_batch_size",
]
__version__ = "0.1.0"
