"""The package's Keras classes: the model every factory returns, and its per-step head.

Saved ``.keras`` files name these classes by their registered names,
``keras_lstm_patterns>PatternModel`` and ``keras_lstm_patterns>TimeDistributed``;
``keras.models.load_model`` finds them once this module is imported, which the package
arranges whenever Keras is loaded (``_registration``).
"""

from __future__ import annotations

from typing import Any

import keras

from . import _backends
from ._checks import fail, shape_str

__all__ = ["PatternModel", "TimeDistributed", "axis_names"]


def axis_names(rank: int, is_int: bool) -> tuple[str, ...]:
    """Axis names for a model input of this rank: what each number of a shape means.

    Args:
        rank: the number of axes, the batch axis included.
        is_int: the input holds integer tokens (a rank-2 input is then ``(batch, steps)``).

    Returns:
        One name per axis: ``("batch", "steps", "features")`` for rank 3, ``("batch",
        "steps")`` or ``("batch", "features")`` for rank 2, and ``batch`` then
        ``axis1``, ``axis2``... for any other rank.

    Raises:
        Nothing of its own: ``rank`` is not checked (a rank below 2 gives
            ``("batch",)``; a ``rank`` that is not an integer raises Python's
            ``TypeError``).

    >>> axis_names(3, False), axis_names(2, True)
    (('batch', 'steps', 'features'), ('batch', 'steps'))
    """
    if rank == 3:
        return ("batch", "steps", "features")
    if rank == 2:
        return ("batch", "steps") if is_int else ("batch", "features")
    return ("batch", *(f"axis{i}" for i in range(1, rank)))


@keras.saving.register_keras_serializable(package="keras_lstm_patterns")
class PatternModel(keras.Model):
    """A functional model whose shape errors name the axes.

    Keras accepts some wrong shapes silently (a trailing axis of 1 is squeezed away) and
    reports others without saying which axis is which. This checks the rank and every
    fixed size of the input first and raises, for example, "expected input of shape
    `(batch, steps=5, features=2)`, received `(4, 5, 3)`". ``fit`` and ``evaluate``
    refuse a target whose shape would silently broadcast against the output, and every
    Keras method carries stateful layers' states from batch to batch on every backend.

    Built like ``keras.Model(inputs, outputs, name=...)``; the factories return one.

    Args:
        *args: ``inputs`` and ``outputs``, as ``keras.Model`` takes them.
        **kwargs: ``name`` and the other keywords of ``keras.Model``.

    Raises:
        ValueError: (when called) an input whose rank or fixed sizes differ from the
            model's, naming the axes; (``fit``, ``evaluate``) a target whose shape would
            broadcast against the output.

    >>> inp = keras.Input((5, 2))
    >>> model = PatternModel(inp, keras.layers.LSTM(3)(inp))
    >>> model.output_shape
    (None, 3)
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and len(self.inputs) == 1:
            self._check_input(args[0])
        return super().__call__(*args, **kwargs)

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        # The JAX trainer reaches `call` through `stateless_call`, not `__call__`; the
        # check in `__call__` stays because Keras's own input checks run before `call`.
        if len(self.inputs) == 1:
            self._check_input(inputs)
        return super().call(inputs, *args, **kwargs)

    def fit(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.fit``, refusing a target whose shape would silently broadcast."""
        self._check_targets(y, "y")
        self._check_targets(_validation_y(kwargs.get("validation_data")), "validation_data")
        with _backends.carried(self):
            return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.evaluate``, refusing a target whose shape would silently broadcast."""
        self._check_targets(y, "y")
        with _backends.carried(self):
            return super().evaluate(x, y, *args, **kwargs)

    # A stateful layer's states are carried from batch to batch, and from call to call,
    # by every one of Keras's own methods on every backend, as TensorFlow does by itself
    # (on JAX the trainer would leave them at zero; on PyTorch ``train_on_batch`` would
    # fail on the in-place state update). ``_backends.carried`` sets that up for one call.

    def predict(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.predict``, carrying stateful layers' states on every backend."""
        with _backends.carried(self):
            return super().predict(x, *args, **kwargs)

    def predict_on_batch(self, x: Any) -> Any:
        """``keras.Model.predict_on_batch``, carrying the states on every backend."""
        with _backends.carried(self):
            return super().predict_on_batch(x)

    def train_on_batch(self, x: Any, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.train_on_batch``, carrying the states on every backend."""
        with _backends.carried(self):
            return super().train_on_batch(x, y, *args, **kwargs)

    def test_on_batch(self, x: Any, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.test_on_batch``, carrying the states on every backend."""
        with _backends.carried(self):
            return super().test_on_batch(x, y, *args, **kwargs)

    def _check_targets(self, y: Any, name: str) -> None:
        """Refuse ``y`` whose shape after the batch axis differs from the output's.

        Keras's losses broadcast a ``(batch, 1)`` target against a ``(batch, 32)``
        output without a word. Allowed: the output's own shape; one axis fewer when the
        output's last axis is 1 (Keras expands it) or when ``y`` holds integer class
        labels for the last axis (sparse losses).
        """
        shape = getattr(y, "shape", None)
        if shape is None or len(self.outputs) != 1:
            return
        got = tuple(int(d) for d in shape[1:])
        out = tuple(self.output_shape[1:])

        def same(a: tuple, b: tuple) -> bool:
            return len(a) == len(b) and all(e is None or e == g for e, g in zip(b, a))

        labels = "int" in str(getattr(y, "dtype", ""))  # class ids for a sparse loss
        if same(got, out) or (out and (out[-1] == 1 or labels) and same(got, out[:-1])):
            return
        hint = ""
        if len(got) == len(out) == 2 and got[0] == self._vector_width() != out[0]:
            hint = _SWAPPED
        elif out and out[-1] is not None and got and got[-1] != out[-1]:
            hint = (
                f" The model returns {out[-1]} number{'s' if out[-1] != 1 else ''} per "
                f"{'step' if len(out) > 1 else 'sample'}; if each target has {got[-1]}, "
                f"build it with outputs={got[-1]} (a Dense head of that width)."
            )
        fail(
            name,
            f"a target of shape `(batch, {', '.join(map(str, out))})`, the model's output "
            "shape, so the loss compares like with like",
            shown=f"{name} with shape {tuple(shape)}." + hint,
        )

    def _check_input(self, x: Any) -> None:
        shape = getattr(x, "shape", None)
        if shape is None:
            return
        spec = self.inputs[0]
        expected = tuple(spec.shape)
        got = tuple(None if d is None else int(d) for d in shape)
        ok = len(got) == len(expected) and all(
            e is None or g is None or e == g for e, g in zip(expected, got)
        )
        if not ok:
            names = axis_names(len(expected), "int" in str(spec.dtype))
            hint = _shape_hint(expected, got)
            if len(got) == 2 and got[1] == self._repeated_steps():
                hint = _SWAPPED
            raise ValueError(
                f"Model '{self.name}' expected input of shape "
                f"`{shape_str(expected, names)}`, received `{got}`." + hint
            )

    def _vector_width(self) -> int | None:
        """The input width of a one-to-many model (one vector in, a sequence out)."""
        if len(self.inputs) == 1 and len(self.outputs) == 1:
            shape, out = tuple(self.inputs[0].shape), tuple(self.outputs[0].shape)
            if len(shape) == 2 and len(out) == 3 and "int" not in str(self.inputs[0].dtype):
                return shape[1]
        return None

    def _repeated_steps(self) -> int | None:
        """The output steps of a one-to-many model."""
        if self._vector_width() is None:
            return None
        return tuple(self.outputs[0].shape)[1]


@keras.saving.register_keras_serializable(package="keras_lstm_patterns")
class TimeDistributed(keras.layers.TimeDistributed):
    """``keras.layers.TimeDistributed``, applying a ``Dense`` to every step in one matmul.

    A ``Dense`` on a 3-D input already acts on each step separately, with the same
    weights and the same result (up to float rounding), so this applies it directly.
    That is faster, and it avoids a Keras 3.15 fault: on an input with a fixed batch size
    and a free number of steps (every stateful sequence model),
    ``keras.layers.TimeDistributed`` retraced for a new length returns ``batch`` steps
    instead of ``steps``. Other wrapped layers go through Keras's own implementation.

    Args:
        layer: the layer applied to every step.
        **kwargs: the other keywords of ``keras.layers.TimeDistributed``.

    Raises:
        ValueError: (from Keras) ``layer`` is not a ``keras.layers.Layer``, a keyword
            that ``keras.layers.TimeDistributed`` does not take, or (when built) an input
            with fewer than 3 axes ``(batch, steps, ...)``.

    >>> head = TimeDistributed(keras.layers.Dense(3))
    >>> tuple(head(keras.ops.zeros((2, 7, 4))).shape)
    (2, 7, 3)
    """

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        if isinstance(self.layer, keras.layers.Dense):
            return self.layer.call(inputs)
        return super().call(inputs, training=training, mask=mask)


# a one-to-many model fed data the other way round: its sizes were given in the old order
_SWAPPED = (
    " Its steps and features look swapped: `one_to_many` takes `(steps, features, units)`, "
    "the order of `many_to_one` (version 0.1.0 took `(features, steps, units)`)."
)


def _validation_y(data: Any) -> Any:
    """The target array of a ``validation_data=(x, y[, weights])`` tuple, if any."""
    if isinstance(data, tuple | list) and len(data) >= 2:
        return data[1]
    return None


def _shape_hint(expected: tuple, got: tuple) -> str:
    """The fix for this model's own sizes: ``x[..., None]`` only when it reads 1 feature."""
    if len(expected) == 3 and len(got) == 2:
        steps, features = expected[1], expected[2]
        if features == 1:
            return (
                " A recurrent layer reads `(samples, steps, features)`: reshape a single "
                "feature with `x[..., None]` (or `x.reshape(len(x), steps, 1)`)."
            )
        if features is None:
            return " A recurrent layer reads `(samples, steps, features)`: add the features axis."
        if steps is not None and got[1] == steps * features:
            return (
                f" Each row holds {got[1]} = {steps} steps x {features} features: "
                f"`x.reshape(len(x), {steps}, {features})` (if they are stored step by step)."
            )
        names = "f1, f2" if features == 2 else f"f1, ..., f{features}"
        return (
            f" A recurrent layer reads `(samples, steps, features)` and this model reads "
            f"{features} features per step, so the array needs a features axis of "
            f"{features}: stack one `(samples, steps)` array per feature, "
            f"`np.stack([{names}], axis=-1)`. (`x[..., None]` would make 1 feature, "
            f"not {features}.)"
        )
    if len(expected) == len(got) == 3 and expected[0] is not None and got[0] != expected[0]:
        return (
            f" This model is stateful with a fixed batch size of {expected[0]}; "
            "use `stateful.with_batch_size(model, n)` for another."
        )
    return ""
