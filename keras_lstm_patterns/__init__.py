"""keras_lstm_patterns: the recurrent-network patterns of Keras, as tested code."""

from . import datasets as datasets
from . import scaling as scaling
from . import stateful as stateful
from . import windows as windows
from ._patterns import PatternModel as PatternModel
from ._patterns import Seq2Seq as Seq2Seq
from ._patterns import many_to_many as many_to_many
from ._patterns import many_to_one as many_to_one
from ._patterns import next_token_model as next_token_model
from ._patterns import one_to_many as one_to_many
from ._patterns import seq2seq_autoencoder as seq2seq_autoencoder
from ._patterns import stateful_generator as stateful_generator
from .explain import PATTERNS as PATTERNS
from .explain import explain as explain
from .scaling import normalized as normalized
from .stateful import fit_stateful as fit_stateful
from .stateful import forecast as forecast
from .stateful import generate as generate
from .stateful import predict_chunks as predict_chunks
from .stateful import reset_states as reset_states
from .stateful import with_batch_size as with_batch_size

__all__ = [
    "PATTERNS",
    "PatternModel",
    "Seq2Seq",
    "datasets",
    "explain",
    "fit_stateful",
    "forecast",
    "generate",
    "many_to_many",
    "many_to_one",
    "next_token_model",
    "normalized",
    "one_to_many",
    "predict_chunks",
    "reset_states",
    "scaling",
    "seq2seq_autoencoder",
    "stateful",
    "stateful_generator",
    "windows",
    "with_batch_size",
]
__version__ = "0.1.0"
