"""A Keras model trained at the origins of a backtest, as a forecaster object.

:class:`ModelForecaster` holds its settings and, explicitly, what it carries from one
origin to the next (``model``, the history it was trained on, ``forecasts_since_fit``);
:func:`model_forecaster` makes one. Keras is imported only when a model is built.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._checks import check_bool, check_choice, check_int, fail, is_int, old_keywords, removed
from ..series import as_tanks, from_tanks
from ..windows import look_back as _look_back
from ._classical import _positive

Transform = Callable[[np.ndarray], tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]]
"""``transform(history) -> (z, inverse)``: the history as ``(entities, time, features)``
to the series the model learns, and ``inverse(z_forecast)`` mapping the model's
``(entities, horizon, features)`` forecast of ``z`` back to the history's units. Every
statistic it uses comes from the history it is given."""


def differencing(lags: Sequence[int] = (1,), *, log: bool = False, scale: bool = True) -> Transform:
    """A :data:`Transform`: optional logs, then differences at each lag, then division by
    the standard deviation of the result (per feature, from the history only; missing
    steps, NaN, stay missing and are left out of it).

    ``lags=(1, 12)`` with ``log=True`` gives the airline recipes' series
    ``w[t] = log y[t] - log y[t-1] - log y[t-12] + log y[t-13]``; the inverse integrates
    forecasts of ``z`` back onto the end of the history.

    Args:
        lags: the differencing lags in steps, applied in order: a positive integer or a
            sequence of them (``()`` for none, leaving only the logs and the scaling).
        log: take logs first (every known value must be above 0); the inverse maps back
            with ``exp``.
        scale: divide by the standard deviation of the differenced history (per
            feature; 1 where it is 0 or undefined); ``False`` divides by 1.

    Returns:
        A :data:`Transform`, ``transform(history) -> (z, inverse)``. ``history`` is
        ``(entities, time, features)``; ``z`` is float64, ``(entities, time - sum(lags),
        features)``; ``inverse`` maps a ``(entities, horizon, features)`` forecast of
        ``z`` to float64 forecasts of the history's next ``horizon`` steps. It starts
        from the last known values (a missing step among the last ``lag`` takes the
        value before it, as the model's input window does); only a column with no
        known value forecasts NaN.

    Raises:
        ValueError: an item of ``lags`` is not a positive integer (an ``ArgumentError``
            naming ``lags``). When the transform is called: with ``log``, a known value
            not above 0, or a history not longer than a lag at its stage (after the
            earlier differences); both are ``ArgumentError`` naming ``history``.
        TypeError: ``lags`` is neither an integer nor iterable (Python's own error).
            ``log`` and ``scale`` are not checked (any value is read as true or false),
            nor is the history's shape.

    >>> z, inverse = differencing((1,), scale=False)(np.array([[[1.0], [3.0], [6.0]]]))
    >>> z[0, :, 0], inverse(np.array([[[4.0], [5.0]]]))[0, :, 0]
    (array([2., 3.]), array([10., 15.]))
    """
    if is_int(lags):
        lags = (lags,)
    lags = tuple(check_int("lags", d) for d in lags)

    def transform(history: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        v = np.asarray(history, dtype="float64")
        if log:
            v = np.log(_positive(v, "when log=True"))
        levels = []
        for d in lags:
            if v.shape[1] <= d:
                fail("history", f"longer than the lag {d}", None, shown=f"{v.shape[1]} steps")
            levels.append(v)
            v = v[:, d:] - v[:, :-d]
        sd = np.ones((1, 1, v.shape[2]))
        if scale and np.isfinite(v).any():
            with warnings.catch_warnings():  # a feature with no known difference keeps 1
                warnings.simplefilter("ignore", RuntimeWarning)
                sd = np.nanstd(v, axis=(0, 1), keepdims=True)
        sd[~(sd > 0)] = 1.0

        def inverse(zf: np.ndarray) -> np.ndarray:
            w = np.asarray(zf, dtype="float64") * sd
            for d, u in zip(reversed(lags), reversed(levels)):
                # from the last known levels, as the model's input window is filled
                ext = np.concatenate([_ffill_last(u)[:, -d:], np.empty_like(w)], axis=1)
                for i in range(w.shape[1]):
                    ext[:, d + i] = ext[:, i] + w[:, i]
                w = ext[:, d:]
            return np.exp(w) if log else w

        return v / sd, inverse

    return transform


def _identity(history: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    return np.asarray(history, dtype="float64"), lambda zf: zf


def _ffill_last(window: np.ndarray) -> np.ndarray:
    """``(entities, steps, features)`` with missing steps forward-filled along time (a
    leading missing step stays NaN): the input window of a forecast."""
    known = ~np.isnan(window)
    if known.all():
        return window
    steps = np.arange(window.shape[1])[None, :, None]
    last = np.maximum.accumulate(np.where(known, steps, 0), axis=1)
    return np.take_along_axis(window, last, axis=1)


_COMPILE_THE_MODEL = removed(
    "the model trains with its own compile settings; compile the model `build` returns: "
    "model.compile(optimizer=..., loss=...)"
)


class ModelForecaster:
    """A Keras model trained at origins of a backtest, as a forecaster object.

    Called as ``forecaster(history, horizon)`` (see :func:`model_forecaster`, which
    makes one, for what each setting does). A history ``(T,)``, ``(T, features)`` or
    ``(entities, T, features)`` gives float64 forecasts of the same form with
    ``horizon`` steps in place of ``T`` (only the ``targets`` features when they are
    given, then always with a features axis). Making one builds and trains nothing:
    ``build`` is first called at the first forecast. Its state is explicit and readable
    between calls:

    Attributes:
        model: the model that made the last forecast (``None`` before the first call).
        trained_on: the history (``(entities, time, features)``) ``model`` was last
            trained on, or ``None``.
        forecasts_since_fit: forecasts made since ``model`` was last trained
            (``refit_every`` retrains when it reaches that number).
        targets: the feature positions forecast (``None``: all), read by
            :func:`backtest`.

    The other settings are kept under their argument names (``fit_kwargs`` with
    ``verbose`` filled in, ``transform`` an identity when ``None`` was given), and the
    name as ``__name__``. ``reset()`` forgets the state, so the next call builds and
    trains a fresh model.

    Args:
        build: a callable with no arguments returning a new, compiled Keras model
            without stateful layers, with ``features`` (recursive) or
            ``horizon * features`` (direct) outputs per window, ``features`` counting
            the ``targets`` only when given.
        look_back: steps per input window, a positive integer.
        fit_kwargs: keyword arguments of ``model.fit`` (``epochs``, ``batch_size``...),
            or ``None``; ``verbose`` defaults to 0.
        mode: ``"recursive"`` (one step ahead, fed back ``horizon`` times) or
            ``"direct"`` (all ``horizon`` steps at once).
        refit: ``"each"`` (a fresh model at every training origin) or ``"fine_tune"``
            (keep training the same model while the histories extend each other).
        refit_every: train at every ``refit_every``-th origin (a positive integer); the
            others reuse the last trained model.
        fine_tune_epochs: epochs of each training after the first with
            ``"fine_tune"`` (a positive integer); ``None`` keeps the ``epochs`` of
            ``fit_kwargs``.
        transform: a :data:`Transform` such as :func:`differencing`, or ``None`` for
            none.
        targets: the feature positions to forecast, an integer >= 0 or a non-empty
            sequence of distinct ones; ``None`` for all.
        normalize: ``True`` wraps each new model in ``normalized(model, x, y)``
            (statistics from that origin's training windows), compiled as the model is.
        validation: the last ``validation`` steps (an integer >= 0) of each history are
            held out as ``validation_data``; 0 holds out nothing.
        seed: an integer >= 0 given to ``keras.utils.set_random_seed`` before each new
            model, or ``None``.
        name: the forecaster's name (the backtest's ``model`` column); default
            ``"<build's __name__> (<mode>, refit <refit>)"``.

    Raises:
        ValueError: when made, a setting out of range or of the wrong kind: ``build`` or
            ``transform`` not callable, ``fit_kwargs`` not ``None`` or a dict,
            ``mode``/``refit`` not one of their choices, ``look_back``,
            ``refit_every`` or ``fine_tune_epochs`` not a positive integer,
            ``validation`` or ``seed`` not an integer >= 0, ``targets`` not distinct
            positions or ``normalize`` not a bool (an ``ArgumentError`` naming it). At a
            call: a history that is not real numbers with 1 to 3 axes or holds inf, a
            ``targets`` position beyond the history's features, ``targets`` short of all
            features in recursive mode with ``horizon > 1``, a ``build`` that returns no
            Keras model, an uncompiled or stateful one or one with the wrong number of
            outputs, ``validation`` leaving no training window, or a history too short
            for one window (``ArgumentError``, each naming the argument at fault).
            ``name`` and ``horizon`` are not checked; ``transform`` raises its own.
        TypeError: ``compile_kwargs=`` (removed: compile the model ``build`` returns;
            an ``ArgumentTypeError``).

    >>> def build():  # called at the first forecast only
    ...     raise AssertionError("not called yet")
    >>> f = ModelForecaster(build, look_back=4, mode="direct", targets=0)
    >>> f
    ModelForecaster('build (direct, refit each)')
    >>> f.model is None, f.forecasts_since_fit, f.targets, f.fit_kwargs
    (True, 0, [0], {'verbose': 0})
    """

    @old_keywords(compile_kwargs=_COMPILE_THE_MODEL)
    def __init__(
        self,
        build: Callable[[], Any],
        *,
        look_back: int,
        fit_kwargs: dict[str, Any] | None = None,
        mode: str = "recursive",
        refit: str = "each",
        refit_every: int = 1,
        fine_tune_epochs: int | None = None,
        transform: Transform | None = None,
        targets: Sequence[int] | int | None = None,
        normalize: bool = False,
        validation: int = 0,
        seed: int | None = None,
        name: str | None = None,
    ):
        if not callable(build):
            fail("build", "a callable returning a new Keras model", build)
        self.build = build
        self.look_back = check_int("look_back", look_back)
        self.mode = check_choice("mode", mode, ("recursive", "direct"))
        self.refit = check_choice("refit", refit, ("each", "fine_tune"))
        self.refit_every = check_int("refit_every", refit_every)
        if fit_kwargs is not None and not isinstance(fit_kwargs, dict):
            fail("fit_kwargs", "None or a dict of `model.fit` arguments", fit_kwargs)
        self.fit_kwargs = {"verbose": 0, **(fit_kwargs or {})}
        self.fine_tune_epochs = (
            None if fine_tune_epochs is None else check_int("fine_tune_epochs", fine_tune_epochs)
        )
        self.transform = _identity if transform is None else transform
        if not callable(self.transform):
            fail("transform", "None or a callable `transform(history) -> (z, inverse)`", transform)
        if is_int(targets):
            targets = [targets]
        if targets is not None:
            ok = (
                isinstance(targets, Sequence | np.ndarray)
                and not isinstance(targets, str)
                and len(targets) > 0
                and all(is_int(t) and t >= 0 for t in targets)
                and len(set(targets)) == len(targets)
            )
            if not ok:
                fail("targets", "None or distinct feature positions (integers >= 0)", targets)
            targets = [int(t) for t in targets]
        self.targets: list[int] | None = targets
        self.normalize = check_bool("normalize", normalize)
        self.validation = check_int("validation", validation, low=0)
        self.seed = None if seed is None else check_int("seed", seed, low=0)
        label = "model" if not hasattr(build, "__name__") else build.__name__
        self.__name__ = name or f"{label} ({self.mode}, refit {self.refit})"
        self.reset()

    def reset(self) -> None:
        """Forget the trained model: the next call builds and trains a fresh one."""
        self.model: Any = None
        self.trained_on: np.ndarray | None = None
        self.forecasts_since_fit = 0
        self._horizon: int | None = None

    def __repr__(self) -> str:
        return f"ModelForecaster({self.__name__!r})"

    # --- one origin -----------------------------------------------------------------

    def __call__(self, history: np.ndarray, horizon: int) -> np.ndarray:
        cube, ndim = as_tanks(history, name="history", allow_nan=True)
        cube = np.asarray(cube, dtype="float64")
        features = cube.shape[2]
        targets = list(range(features)) if self.targets is None else self.targets
        if max(targets) >= features:
            fail(
                "targets",
                f"feature positions below {features} (the history's features)",
                None,
                shown=f"targets={self.targets}",
            )
        if self.mode == "recursive" and horizon > 1 and len(targets) != features:
            fail(
                "targets",
                "every feature in recursive mode with horizon > 1 (the model cannot feed "
                'back features it does not forecast; use mode="direct")',
                None,
                shown=f"targets={self.targets} of {features} features with horizon={horizon}",
            )
        z, inverse = self.transform(cube)
        z = np.asarray(z, dtype="float32")
        continues = self._continues(cube, horizon)
        if not continues or self.forecasts_since_fit >= self.refit_every:
            self._fit(cube, z, horizon, targets, fresh=not continues or self.refit == "each")
        self.forecasts_since_fit += 1
        zf = self._forecast(z, horizon, targets)
        full = np.full((cube.shape[0], horizon, features), np.nan)
        full[:, :, targets] = zf
        out = np.asarray(inverse(full), dtype="float64")[:, :, targets]
        if self.targets is None:
            return from_tanks(out, ndim)
        return out[0] if ndim < 3 else out

    def _continues(self, cube: np.ndarray, horizon: int) -> bool:
        """Whether ``cube`` extends the history the model was trained on (the same
        entities and features, more steps, the same values), for the same horizon."""
        prev = self.trained_on
        return (
            self.model is not None
            and self._horizon == horizon
            and prev.shape[0] == cube.shape[0]
            and prev.shape[2] == cube.shape[2]
            and prev.shape[1] < cube.shape[1]
            and np.array_equal(prev, cube[:, : prev.shape[1]], equal_nan=True)
        )

    def _new_model(self, x: np.ndarray, y: np.ndarray, out_shape: tuple) -> Any:
        import keras

        from .._compile import compile_like, is_compiled
        from .._model import stateful_layers

        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        model = self.build()
        if not isinstance(model, keras.Model):
            fail("build", "a callable returning a Keras model", None, shown=repr(model))
        if stateful_layers(model):
            fail(
                "build",
                "a callable returning a model without stateful layers (it is fitted on "
                "shuffled windows in batches of any size; build it with stateful=False)",
                None,
                shown=f"model {model.name!r} with stateful layer "
                f"{stateful_layers(model)[0].name!r}",
            )
        if not is_compiled(model):
            fail(
                "build",
                "a callable returning a compiled model: it trains with the model's own "
                "compile settings; call model.compile(optimizer=..., loss=...) in `build`",
                None,
                shown=f"model {model.name!r}, not compiled",
            )
        want = int(np.prod(out_shape))
        got = tuple(model.output_shape[1:])
        if int(np.prod(got)) != want:
            fail(
                "build",
                f"a model with {want} outputs per window ({self.mode} mode: "
                + (
                    "the next step's target features)"
                    if self.mode == "recursive"
                    else "horizon x target features)"
                ),
                None,
                shown=f"output shape {(None, *got)}",
            )
        if not self.normalize:
            return model
        from ..scaling import normalized

        wrapped = normalized(model, x, y.reshape((len(y), *got)))
        compile_like(model, wrapped)  # the same optimizer settings, loss and metrics
        return wrapped

    def _windows(self, z: np.ndarray, horizon: int, targets: list[int]) -> tuple:
        ahead = 1 if self.mode == "recursive" else horizon
        return _look_back(z, self.look_back, horizon=ahead, targets=targets, missing="drop")

    def _fit(
        self, cube: np.ndarray, z: np.ndarray, horizon: int, targets: list[int], *, fresh: bool
    ) -> None:
        valid = None
        train = z
        if self.validation:
            cut = z.shape[1] - self.validation
            if cut <= self.look_back:
                fail(
                    "validation",
                    f"fewer steps than the history's {z.shape[1]} less look_back="
                    f"{self.look_back} (the training part needs a window)",
                    self.validation,
                )
            train = z[:, :cut]
            valid = self._windows(z[:, cut - self.look_back :], horizon, targets)
        x, y = self._windows(train, horizon, targets)
        if len(x) == 0:
            fail(
                "history",
                f"long enough for one complete window of look_back={self.look_back}",
                None,
                shown=f"a history of {z.shape[1]} steps",
            )
        ahead = 1 if self.mode == "recursive" else horizon
        out_shape = (ahead * len(targets),)
        kwargs = dict(self.fit_kwargs)
        if fresh:
            model = self._new_model(x, y, out_shape)
        else:
            model = self.model
            if self.fine_tune_epochs is not None:
                kwargs["epochs"] = self.fine_tune_epochs
        shape = tuple(model.output_shape[1:])
        if valid is not None and len(valid[0]):
            kwargs["validation_data"] = (valid[0], np.asarray(valid[1]).reshape((-1, *shape)))
        model.fit(x, np.asarray(y).reshape((len(y), *shape)), **kwargs)
        self.model, self.trained_on, self._horizon = model, cube.copy(), horizon
        self.forecasts_since_fit = 0

    def _forecast(self, z: np.ndarray, horizon: int, targets: list[int]) -> np.ndarray:
        """The model's forecast of ``z``'s ``targets``, ``(entities, horizon, targets)``."""
        window = _ffill_last(z[:, -self.look_back :, :]).astype("float32")
        if self.mode == "direct":
            out = np.asarray(self.model.predict_on_batch(window))
            return out.reshape((len(window), horizon, len(targets)))
        steps = []
        for k in range(horizon):
            nxt = np.asarray(self.model.predict_on_batch(window)).reshape(len(window), 1, -1)
            steps.append(nxt)
            if k + 1 < horizon:  # every feature is forecast here (checked in __call__)
                window = np.concatenate([window[:, 1:], nxt.astype("float32")], axis=1)
        return np.concatenate(steps, axis=1)


@old_keywords(compile_kwargs=_COMPILE_THE_MODEL)
def model_forecaster(
    build: Callable[[], Any],
    *,
    look_back: int,
    fit_kwargs: dict[str, Any] | None = None,
    mode: str = "recursive",
    refit: str = "each",
    refit_every: int = 1,
    fine_tune_epochs: int | None = None,
    transform: Transform | None = None,
    targets: Sequence[int] | int | None = None,
    normalize: bool = False,
    validation: int = 0,
    seed: int | None = None,
    name: str | None = None,
) -> ModelForecaster:
    """A Keras model trained at the origins of a backtest, as a forecaster.

    At an origin the history is transformed (``transform``, statistics from the history
    only), cut into look-back windows (``windows.look_back``; a tank history gives the
    windows of every entity; a window with a missing (NaN) step is left out) and the
    model is fitted on them; then it forecasts (missing steps of the last window
    forward-filled). A step filled by ``tanks(fill=...)`` is a number in the history, so
    it trains as an ordinary reading; only :func:`backtest` skips it, in the scoring
    (``index.observed`` is False there):

    - ``mode="recursive"``: the model maps ``(batch, look_back, features)`` to the next
      step ``(batch, features)`` (``many_to_one(look_back, F, units, outputs=F)``); the
      forecast feeds each predicted step back into the window, ``horizon`` times.
    - ``mode="direct"``: the model maps a window to all ``horizon`` steps at once,
      ``(batch, horizon * features)`` or ``(batch, horizon, features)``, trained on
      ``windows.look_back(z, look_back, horizon=horizon)``.

    ``refit="each"`` (the default) builds a fresh model at every origin, so each
    origin's forecast is exactly what one train/test split at that origin would give and
    the score does not depend on the order of the origins; it costs a full training per
    origin. ``refit="fine_tune"`` builds and trains once, at the first origin, then
    continues training the same weights for ``fine_tune_epochs`` at each later origin:
    cheaper, but a different procedure (the model has seen each window many times more
    than a fresh one would). A history that does not extend the previous one (a new
    backtest, or an earlier origin) starts again from a fresh model, so fine-tuning never
    trains on values at or after an origin.

    ``refit_every=k`` trains (fresh or fine-tuned, as ``refit`` says) at every k-th
    origin only; in between, the last trained model forecasts from the new, longer
    history (the one-step-ahead protocol of a model retrained every k steps).

    ``targets`` forecasts some features from all of them (``direct`` mode, or a horizon
    of 1); ``normalize=True`` puts the scaling inside the model, as
    :func:`~keras_lstm_patterns.scaling.normalized` does, with statistics from the
    training windows, so raw readings (pressures near 300 kPa) train as they are.

    Args:
        build: a callable returning a new, compiled Keras model (it trains with the
            model's own compile settings, Keras's convention).
        look_back: steps per input window.
        fit_kwargs: keyword arguments of ``model.fit`` (``epochs``, ``batch_size``...);
            ``verbose`` defaults to 0.
        mode: ``"recursive"`` or ``"direct"``.
        refit: ``"each"`` or ``"fine_tune"``.
        refit_every: train at every ``refit_every``-th origin; the others reuse the
            last trained model.
        fine_tune_epochs: epochs at each origin after the first with ``"fine_tune"``;
            default the ``epochs`` of ``fit_kwargs``.
        transform: a :data:`Transform` such as :func:`differencing`; default none.
        targets: the feature positions to forecast (an int or a list); default all.
        normalize: wrap each new model in ``normalized(model, x, y)`` (statistics from
            that origin's training windows), compiled as the model is (a new optimizer
            of the same configuration, the same loss and metrics).
        validation: the last ``validation`` steps of each history are held out as
            ``validation_data`` (for early stopping callbacks); default 0.
        seed: ``keras.utils.set_random_seed(seed)`` before each new model.
        name: the forecaster's name (the backtest's ``model`` column).

    Returns:
        A :class:`ModelForecaster` for :func:`backtest`.

    Raises:
        ValueError: a setting out of range; at an origin, a ``build`` that returns no
            Keras model, an uncompiled or stateful one, or one with the wrong number of
            outputs, or a history too short for one window.
        TypeError: ``compile_kwargs=`` (removed: compile the model ``build`` returns).

    >>> from keras_lstm_patterns import many_to_one
    >>> def build():
    ...     model = many_to_one(4, 1, 2, outputs=1)
    ...     model.compile(optimizer="adam", loss="mse")
    ...     return model
    >>> f = model_forecaster(build, look_back=4, fit_kwargs={"epochs": 1}, seed=0)
    >>> f(np.sin(np.arange(30.0)), 3).shape
    (3,)
    """
    return ModelForecaster(
        build,
        look_back=look_back,
        fit_kwargs=fit_kwargs,
        mode=mode,
        refit=refit,
        refit_every=refit_every,
        fine_tune_epochs=fine_tune_epochs,
        transform=transform,
        targets=targets,
        normalize=normalize,
        validation=validation,
        seed=seed,
        name=name,
    )
