"""keras_lstm_patterns: the recurrent-network patterns of Keras, as tested code.

The public names are listed once, in ``_PUBLIC`` below: ``__all__``, the lazy loader
(PEP 562: a name is imported from its module on first use, so the ``klp`` command line
starts without loading Keras) and ``dir()`` read that table. Type checkers cannot run a
loader, so they read the ``if TYPE_CHECKING:`` block of explicit ``from .x import y as y``
re-exports under it; that block is generated from the table, and
``tests/test_init.py`` fails (printing the block to paste) when the two differ.

``explain`` and ``PATTERNS`` are imported now: their modules load Keras only when a model
is built or read. When Keras is already imported, the package's Keras classes
(:mod:`keras_lstm_patterns.layers`) are registered for ``keras.models.load_model``.
"""

from importlib import import_module as _import_module
from typing import TYPE_CHECKING as _TYPE_CHECKING

from ._patterns import PATTERNS as PATTERNS
from ._quiet import notice_missing_backend as _notice_missing_backend
from ._registration import register_with_keras as _register_with_keras
from ._version import __version__ as __version__
from .explaining import explain as explain

# The public names: name -> (module, attribute); attribute None: the module itself.
_PUBLIC: dict[str, tuple[str, str | None]] = {
    # modules
    "backtesting": (".backtesting", None),
    "baselines": (".baselines", None),
    "closed_loop": (".closed_loop", None),
    "datasets": (".datasets", None),
    "diagram": (".diagram", None),
    "distributed": (".distributed", None),
    "explaining": (".explaining", None),
    "layers": (".layers", None),
    "scaling": (".scaling", None),
    "series": (".series", None),
    "stateful": (".stateful", None),
    "streaming": (".streaming", None),
    "windows": (".windows", None),
    # errors
    "ArgumentError": ("._errors", "ArgumentError"),
    "ArgumentTypeError": ("._errors", "ArgumentTypeError"),
    # patterns and the model class
    "PATTERNS": ("._patterns", "PATTERNS"),
    "PatternModel": (".layers", "PatternModel"),
    "Seq2Seq": ("._patterns", "Seq2Seq"),
    "many_to_many": ("._patterns", "many_to_many"),
    "many_to_one": ("._patterns", "many_to_one"),
    "next_token_model": ("._patterns", "next_token_model"),
    "one_to_many": ("._patterns", "one_to_many"),
    "seq2seq_autoencoder": ("._patterns", "seq2seq_autoencoder"),
    "stateful_generator": ("._patterns", "stateful_generator"),
    "explain": (".explaining", "explain"),
    "normalized": (".scaling", "normalized"),
    # stateful models
    "fit_stateful": (".stateful", "fit_stateful"),
    "forecast": (".stateful", "forecast"),
    "generate": (".stateful", "generate"),
    "predict_chunks": (".stateful", "predict_chunks"),
    "reset_states": (".stateful", "reset_states"),
    "with_batch_size": (".stateful", "with_batch_size"),
    "fit_closed_loop": (".closed_loop", "fit_closed_loop"),
    # backtests
    "backtest": (".backtesting", "backtest"),
    "model_forecaster": (".backtesting", "model_forecaster"),
    "score": (".backtesting", "score"),
}

if _TYPE_CHECKING:  # generated from _PUBLIC; tests/test_init.py keeps them equal
    from . import backtesting as backtesting
    from . import baselines as baselines
    from . import closed_loop as closed_loop
    from . import datasets as datasets
    from . import diagram as diagram
    from . import distributed as distributed
    from . import explaining as explaining
    from . import layers as layers
    from . import scaling as scaling
    from . import series as series
    from . import stateful as stateful
    from . import streaming as streaming
    from . import windows as windows
    from ._errors import ArgumentError as ArgumentError
    from ._errors import ArgumentTypeError as ArgumentTypeError
    from ._patterns import PATTERNS as PATTERNS
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
    from .explaining import explain as explain
    from .layers import PatternModel as PatternModel
    from .scaling import normalized as normalized
    from .stateful import fit_stateful as fit_stateful
    from .stateful import forecast as forecast
    from .stateful import generate as generate
    from .stateful import predict_chunks as predict_chunks
    from .stateful import reset_states as reset_states
    from .stateful import with_batch_size as with_batch_size

__all__ = sorted(_PUBLIC)  # type checkers read the block above


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _PUBLIC[name]  # only its own module: ArgumentError loads no Keras
    mod = _import_module(module, __name__)
    value = globals()[name] = mod if attribute is None else getattr(mod, attribute)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


_register_with_keras()  # saved models load in any import order
_notice_missing_backend()  # no Keras backend installed: one line naming the extras
