"""Stateful recurrent models done right in Keras 3.

With ``stateful=True`` a recurrent layer starts each batch from the state the previous
batch left: row i of a batch continues row i of the previous batch. That needs a fixed
batch size, no shuffling, and a reset between independent sequences. Keras 3 removed
``Model.reset_states()``, keeps the state across ``fit`` epochs, accepts
``fit(shuffle=True)`` silently, and broadcasts a short last batch into the state instead
of failing. This module gives the missing pieces: resets, snapshots, a batch-size change,
a ``fit`` that respects the rules, chunked prediction, and feedback loops (``generate``,
``forecast``) that run as one compiled program instead of one Python call per step.
They give the same results on the TensorFlow, JAX and PyTorch backends (``_backends``
explains how the states are carried where Keras does not), and refuse a model built
under a distribution strategy with more than one replica.

One private module per job: ``_states`` (reset, get, set, save, load), ``_batch``
(``with_batch_size``), ``_fit`` (``fit_stateful``, ``ResetStates``), ``_loops``
(``generate``, ``forecast``, ``step``), ``_predict`` (``predict_chunks``), and
``_checks``, the argument checks they share. ``stateful_layers`` comes from ``_model``.
"""

from .._model import stateful_layers as stateful_layers
from ._batch import with_batch_size as with_batch_size
from ._fit import ResetStates as ResetStates
from ._fit import fit_stateful as fit_stateful
from ._loops import MAX_ROLLOUT_VALUES as MAX_ROLLOUT_VALUES
from ._loops import forecast as forecast
from ._loops import generate as generate
from ._loops import step as step
from ._predict import predict_chunks as predict_chunks
from ._states import get_states as get_states
from ._states import load_states as load_states
from ._states import reset_states as reset_states
from ._states import save_states as save_states
from ._states import set_states as set_states

__all__ = [
    "ResetStates",
    "fit_stateful",
    "forecast",
    "generate",
    "get_states",
    "load_states",
    "predict_chunks",
    "reset_states",
    "save_states",
    "set_states",
    "stateful_layers",
    "step",
    "with_batch_size",
]
