"""State I/O: reset, snapshot and restore the states, save and load them beside a model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from .._checks import fail
from .._files import atomic_write
from .._model import stateful_layers
from .._paths import check_file_path
from ._checks import _real_array, _require_model, _require_stateful

__all__ = ["get_states", "load_states", "reset_states", "save_states", "set_states"]


def reset_states(model: keras.Model) -> int:
    """Zero the state of every stateful recurrent layer (Keras 3 models lost this method).

    Args:
        model: a Keras model; nested models are opened, so the stateful layers of a
            model inside it are reset too.

    Returns:
        How many layers were reset (0 for a model with no stateful layer).

    Raises:
        TypeError: ``model`` is not a ``keras.Model``.

    >>> from keras_lstm_patterns import stateful_generator
    >>> reset_states(stateful_generator(2, batch_size=1, units=(4, 3)))
    2
    """
    layers = stateful_layers(_require_model(model))
    for layer in layers:
        layer.reset_state()
    return len(layers)


def get_states(model: keras.Model) -> list[list[np.ndarray]]:
    """Snapshot the states of a stateful model, as numpy copies.

    A layer that has not run yet gets zero states first.

    Args:
        model: a model with at least one stateful recurrent layer.

    Returns:
        One entry per stateful layer, in order: a list of ``(batch, units)`` arrays
        (two for an LSTM, ``h`` and ``c``; one for GRU and SimpleRNN).

    Raises:
        TypeError: ``model`` is not a ``keras.Model``.
        ValueError: ``model`` has no stateful layer.

    >>> from keras_lstm_patterns import stateful_generator
    >>> states = get_states(stateful_generator(2, batch_size=1, units=4))
    >>> [[s.shape for s in layer] for layer in states]
    [[(1, 4), (1, 4)]]
    """
    out = []
    for layer in _require_stateful(model):
        if layer.states is None or layer.states[0] is None:
            layer.reset_state()
        out.append([np.array(keras.ops.convert_to_numpy(s)) for s in layer.states])
    return out


def _states_of(layer: keras.layers.Layer) -> list[Any]:
    """The layer's state variables, created (as zeros) if the layer has not run yet."""
    if layer.states is None or layer.states[0] is None:
        layer.reset_state()
    return list(layer.states)


def set_states(model: keras.Model, states: Sequence[Sequence[np.ndarray]]) -> None:
    """Restore states taken by :func:`get_states` (same layers, same batch size).

    Every value is checked (count, shape, real and finite) before any is written, so a
    refused call leaves every layer's states as they were.

    Args:
        model: a model with at least one stateful recurrent layer.
        states: one list of ``(batch, units)`` arrays per stateful layer, in order, as
            :func:`get_states` returns them.

    Returns:
        None; the states are written into the model's state variables.

    Raises:
        TypeError: ``states`` is not a list of lists of arrays, or holds non-numbers.
        ValueError: a wrong number of entries or arrays, a wrong shape, NaN or inf.

    >>> import numpy as np
    >>> from keras_lstm_patterns import stateful_generator
    >>> model = stateful_generator(2, batch_size=1, units=4)
    >>> set_states(model, [[np.ones((1, 4)), np.zeros((1, 4))]])
    >>> float(get_states(model)[0][0].sum())
    4.0
    """
    layers = _require_stateful(model)
    rule = "a list with one list of `(batch, units)` arrays per stateful layer"
    if not isinstance(states, list | tuple):
        fail(
            "states",
            rule + " (as get_states returns)",
            states,
            shown=f"states of type {type(states).__name__}",
            error=TypeError,
        )
    if len(states) != len(layers):
        fail(
            "states",
            f"one entry per stateful layer ({len(layers)})",
            None,
            shown=f"{len(states)} entries",
        )
    checked = []
    for i, (layer, values) in enumerate(zip(layers, states)):
        variables = _states_of(layer)
        if not isinstance(values, list | tuple):
            fail(
                f"states[{i}]",
                f"a list of arrays for layer {layer.name!r}",
                values,
                shown=f"states[{i}] of type {type(values).__name__}",
                error=TypeError,
            )
        if len(values) != len(variables):
            fail(
                "states",
                f"{len(variables)} arrays for layer {layer.name!r}",
                None,
                shown=f"{len(values)} arrays",
            )
        for j, (var, value) in enumerate(zip(variables, values)):
            arr = _real_array(f"states[{i}][{j}]", value)
            if tuple(arr.shape) != tuple(var.shape):
                fail(
                    "states",
                    f"arrays of shape {tuple(var.shape)} `(batch, units)` for layer {layer.name!r}",
                    None,
                    shown=f"shape {arr.shape} at states[{i}][{j}]",
                )
            checked.append((var, arr.astype(var.dtype)))
    for var, arr in checked:
        var.assign(arr)


def save_states(model: keras.Model, path: str | Path, *, overwrite: bool = True) -> Path:
    """Write the states to an ``.npz`` file beside a saved model (``model.save`` drops them).

    ``.npz`` is appended to a name without it. As ``model.save`` does, an existing file is
    replaced by default; with ``overwrite=False`` it is refused (``model.save`` asks on
    the terminal instead). The file is written under a temporary name in the same folder
    and renamed, so a failure leaves the old file, or none, never a partial one.

    Args:
        model: a model with at least one stateful recurrent layer.
        path: the file to write (``.npz`` appended when missing), in an existing folder.
        overwrite: replace an existing file (the default), or refuse it.

    Returns:
        The path written.

    Raises:
        TypeError: ``path`` is not a str or ``pathlib.Path`` (``None``, a file object).
        ValueError: ``path`` is a folder, its folder does not exist, or it exists and
            ``overwrite=False``.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from keras_lstm_patterns import stateful_generator
    >>> model = stateful_generator(2, batch_size=1, units=4)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_states(model, Path(folder) / "states").name
    'states.npz'
    """
    path = check_file_path(path)
    if not isinstance(overwrite, bool | np.bool_):
        fail(
            "overwrite",
            "True or False",
            overwrite,
            shown=f"overwrite of type {type(overwrite).__name__}",
            error=TypeError,
        )
    final = path if path.suffix.lower() == ".npz" else path.with_name(path.name + ".npz")
    for candidate in (path, final):
        if candidate.is_dir():
            fail("path", "a file name, not a folder", str(candidate))
    path = final
    if not path.parent.is_dir():
        fail(
            "path",
            "in an existing folder",
            str(path),
            shown=f"path={str(path)!r} (no folder {str(path.parent)!r})",
        )
    if path.exists() and not overwrite:
        fail(
            "path",
            "a new file with overwrite=False (pass overwrite=True to replace it)",
            str(path),
        )
    arrays = {
        f"{i}__{j}": value
        for i, values in enumerate(get_states(model))
        for j, value in enumerate(values)
    }
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load_states(model: keras.Model, path: str | Path) -> None:
    """Read states written by :func:`save_states` into ``model``.

    Every value is checked before any is written (as :func:`set_states` does).

    Args:
        model: a model with the stateful layers and batch size the states were saved
            from.
        path: an ``.npz`` file written by :func:`save_states`.

    Returns:
        None; the states are written into the model's state variables.

    Raises:
        TypeError: ``path`` is not a str or ``pathlib.Path``.
        ValueError: ``path`` is missing, is not an ``.npz`` file written by
            :func:`save_states`, or holds states that do not fit ``model``; nothing is
            written then.

    >>> import tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> from keras_lstm_patterns import stateful_generator
    >>> model = stateful_generator(2, batch_size=1, units=4)
    >>> set_states(model, [[np.ones((1, 4)), np.ones((1, 4))]])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = save_states(model, Path(folder) / "states.npz")
    ...     _ = reset_states(model)
    ...     load_states(model, written)
    >>> float(get_states(model)[0][1].sum())
    4.0
    """
    path = check_file_path(path)
    _require_stateful(model)
    if not path.is_file():
        fail("path", "an existing .npz file written by save_states", str(path))
    rule = "an .npz file written by save_states (arrays named '<layer>__<state>')"
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        fail("path", rule, str(path), shown=f"path={str(path)!r}, which numpy cannot read as .npz")
    if not isinstance(data, np.lib.npyio.NpzFile):
        fail("path", rule, str(path), shown=f"path={str(path)!r}, a single array (.npy)")
    with data:
        keys = list(data.files)
        parsed = []
        for key in keys:
            parts = key.split("__")
            if len(parts) != 2 or not all(part.isdigit() for part in parts):
                fail(
                    "path", rule, str(path), shown=f"path={str(path)!r} with an array named {key!r}"
                )
            parsed.append((int(parts[0]), int(parts[1]), key))
        grouped: dict[int, list[tuple[int, str]]] = {}
        for i, j, key in sorted(parsed):
            grouped.setdefault(i, []).append((j, key))
        if sorted(grouped) != list(range(len(grouped))) or any(
            [j for j, _ in v] != list(range(len(v))) for v in grouped.values()
        ):
            fail(
                "path",
                rule + " numbered from 0 without gaps",
                str(path),
                shown=f"path={str(path)!r} with arrays {sorted(keys)}",
            )
        try:
            states = [[data[key] for _, key in grouped[i]] for i in sorted(grouped)]
        except (OSError, ValueError) as err:
            fail("path", rule, str(path), shown=f"path={str(path)!r} ({err})")
    try:
        set_states(model, states)
    except (TypeError, ValueError) as err:
        fail("path", "states that fit the model", str(path), shown=f"path={str(path)!r}: {err}")
