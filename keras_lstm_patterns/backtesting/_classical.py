"""Forecasters of the baselines and of classical models fitted at each origin.

The baselines (:mod:`keras_lstm_patterns.baselines`) and the statsmodels models
(SARIMA, exponential smoothing; the optional ``classical`` extra:
``pip install keras_lstm_patterns[classical]``) are written for one 1-D series; each
factory here wraps one as a :data:`Forecaster` that runs it on every entity and feature
of a history. This module imports no Keras.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import baselines
from .._checks import check_int, check_real, fail, is_int
from .._errors import ArgumentError
from ..series import as_tanks, from_tanks
from ._evaluation import Forecaster


def _named(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    fn.__name__ = fn.__qualname__ = name
    return fn


def _filled(h: np.ndarray) -> np.ndarray:
    """A 1-D history with its missing steps (NaN) forward-filled and leading ones dropped:
    the last known value stands until the next one, as a reading does."""
    known = ~np.isnan(h)
    if known.all():
        return h
    last = np.maximum.accumulate(np.where(known, np.arange(len(h)), -1))
    return h[last[last >= 0]]


def _columnwise(one: Callable[[np.ndarray, int], Any], name: str) -> Forecaster:
    """A forecaster applying a 1-D ``one(history, horizon)`` to every entity and feature.

    Missing steps (NaN) of the history are forward-filled first (leading ones dropped);
    an entity or feature with no known value forecasts NaN, which :func:`backtest`
    accepts only where nothing is scored.
    """

    def forecaster(history: np.ndarray, horizon: int) -> np.ndarray:
        cube, ndim = as_tanks(history, name="history", allow_nan=True)
        out = np.full((cube.shape[0], horizon, cube.shape[2]), np.nan)
        for e in range(cube.shape[0]):
            for f in range(cube.shape[2]):
                h = _filled(cube[e, :, f].astype("float64"))
                if len(h):
                    try:
                        out[e, :, f] = one(h, horizon)
                    except ArgumentError as err:
                        err.entity = e  # for backtest's message: which entity's history
                        raise
        return from_tanks(out, ndim)

    return _named(forecaster, name)


def _positive(h: np.ndarray, why: str) -> np.ndarray:
    """``h`` itself, refused by name unless every known value is above 0 (for logs)."""
    if (h <= 0).any():
        fail("history", f"positive {why}", None, shown=f"min {float(np.nanmin(h))!r}")
    return h


def persistence_forecaster() -> Forecaster:
    """Repeat the last value: ``y_hat[o + k] = y[o - 1]``.

    Each entity and feature is forecast on its own; missing steps (NaN) of the history
    are forward-filled, and a column with no known value forecasts NaN.

    Returns:
        A :data:`Forecaster` named ``persistence``: ``forecaster(history, horizon)``
        takes a history ``(T,)``, ``(T, features)`` or ``(entities, T, features)`` and
        returns float64 forecasts of the same form, with ``horizon`` steps in place of
        ``T``.

    Raises:
        ValueError: at a call, the history is not real numbers with 1 to 3 axes, or
            holds inf (an ``ArgumentError`` naming ``history``). Nothing when made, and
            ``horizon`` is not checked (a negative one fails in numpy).

    >>> persistence_forecaster()(np.array([1.0, 3.0]), 2)
    array([3., 3.])
    """
    return _columnwise(lambda h, n: np.full(n, h[-1]), "persistence")


def seasonal_naive_forecaster(period: int = 12) -> Forecaster:
    """Repeat the last ``period`` values (``baselines.seasonal_naive_rollout``).

    Each entity and feature is forecast on its own; missing steps (NaN) of the history
    are forward-filled, and a column with no known value forecasts NaN.

    Args:
        period: the season length in steps, a positive integer (12 for monthly data
            with a yearly season); at most the history's length at a call.

    Returns:
        A :data:`Forecaster` named ``seasonal naive (period)``: ``forecaster(history,
        horizon)`` takes a history ``(T,)``, ``(T, features)`` or ``(entities, T,
        features)`` and returns float64 forecasts of the same form, with ``horizon``
        steps in place of ``T``.

    Raises:
        ValueError: ``period`` is not a positive integer (an ``ArgumentError`` naming
            it). At a call: the history is not real numbers with 1 to 3 axes, or holds
            inf (naming ``history``); or, with the entity in ``err.entity``, ``period``
            is longer than the history or ``horizon`` is not a positive integer (naming
            them).

    >>> seasonal_naive_forecaster(2)(np.array([1.0, 2.0, 3.0]), 3)
    array([2., 3., 2.])
    """
    period = check_int("period", period)
    return _columnwise(
        lambda h, n: baselines.seasonal_naive_rollout(h, n, period), f"seasonal naive ({period})"
    )


def drift_forecaster() -> Forecaster:
    """The last value plus the average change of the history per step (the random walk
    with drift): ``y_hat[o - 1 + k] = y[o - 1] + k (y[o - 1] - y[0]) / (o - 1)``.

    Each entity and feature is forecast on its own; missing steps (NaN) of the history
    are forward-filled (leading ones dropped, so ``y[0]`` is the first known value), and a
    column with no known value forecasts NaN.

    Returns:
        A :data:`Forecaster` named ``drift``: ``forecaster(history, horizon)`` takes a
        history ``(T,)``, ``(T, features)`` or ``(entities, T, features)`` and returns
        float64 forecasts of the same form, with ``horizon`` steps in place of ``T``.

    Raises:
        ValueError: at a call, the history is not real numbers with 1 to 3 axes, or
            holds inf (an ``ArgumentError`` naming ``history``), or a column has fewer
            than 2 known values (the same, with the entity in ``err.entity``). Nothing
            when made, and ``horizon`` is not checked.

    >>> drift_forecaster()(np.array([1.0, 2.0, 4.0]), 2)
    array([5.5, 7. ])
    """

    def one(h: np.ndarray, n: int) -> np.ndarray:
        if len(h) < 2:
            fail("history", "at least 2 values long for the drift", None, shown=f"{len(h)} value")
        return h[-1] + np.arange(1, n + 1) * (h[-1] - h[0]) / (len(h) - 1)

    return _columnwise(one, "drift")


def autoregression_forecaster(order: int, *, ridge: float = 0.0) -> Forecaster:
    """A linear AR(``order``) with intercept, least squares on the history, rolled out
    (``baselines.autoregression_rollout``).

    The model is fitted anew on each column (entity and feature) of every history it is
    given; missing steps (NaN) are forward-filled first, and a column with no known value
    forecasts NaN.

    Args:
        order: the number of lags ``p``, a positive integer; at a call at most
            ``(len(history) - 1) // 2``, so that there are more windows than coefficients.
        ridge: the ridge penalty on the lag coefficients (not on the intercept), a
            finite number >= 0; 0 is plain least squares.

    Returns:
        A :data:`Forecaster` named ``AR(order)``: ``forecaster(history, horizon)`` takes
        a history ``(T,)``, ``(T, features)`` or ``(entities, T, features)`` and returns
        float64 forecasts of the same form, with ``horizon`` steps in place of ``T``.

    Raises:
        ValueError: ``order`` is not a positive integer (an ``ArgumentError`` naming
            it). At a call: the history is not real numbers with 1 to 3 axes, or holds
            inf (naming ``history``); or, with the entity in ``err.entity``, ``order``
            is too large for the history or ``horizon`` is not a positive integer
            (naming them). ``ridge`` that is not a finite number >= 0 is refused when
            the forecaster is made.

    >>> autoregression_forecaster(1)(2.0 ** np.arange(6), 2).round(6)
    array([ 64., 128.])
    """
    order = check_int("order", order)
    ridge = check_real("ridge", ridge, low=0)
    return _columnwise(
        lambda h, n: baselines.autoregression_rollout(h, order, n, ridge=ridge), f"AR({order})"
    )


def seasonal_random_walk_forecaster(
    period: int = 12, *, ar_order: int | None = None, ridge: float = 0.0
) -> Forecaster:
    """The seasonal random walk on logs rolled out (``baselines.seasonal_random_walk_rollout``):
    the last value times last year's same-step changes, for positive series.

    With ``ar_order``, a linear AR of what the walk leaves unexplained,
    ``w[t] = log y[t] - log y[t-1] - log y[t-period] + log y[t-period-1]``, is fitted on
    the history and its rollout corrects the walk (the airline recipes' linear models).

    Each entity and feature is forecast on its own; missing steps (NaN) of the history
    are forward-filled, and a column with no known value forecasts NaN.

    Args:
        period: the season length in steps, a positive integer; at a call at most the
            history's length less 1.
        ar_order: the number of lags of the AR on ``w``, a positive integer, or
            ``None`` for the plain walk. ``w`` has ``period + 1`` fewer values than the
            history, and the AR needs ``ar_order <= (len(w) - 1) // 2``.
        ridge: the ridge penalty of that AR, a finite number >= 0; unused (and not
            checked) without ``ar_order``.

    Returns:
        A :data:`Forecaster` named ``seasonal random walk (period)`` (plus " +
        AR(ar_order) on w" with ``ar_order``): ``forecaster(history, horizon)`` takes a
        history ``(T,)``, ``(T, features)`` or ``(entities, T, features)`` and returns
        float64 forecasts of the same form, with ``horizon`` steps in place of ``T``.

    Raises:
        ValueError: ``period`` or ``ar_order`` is not a positive integer (an
            ``ArgumentError`` naming it). At a call: the history is not real numbers
            with 1 to 3 axes, or holds inf (naming ``history``); or, with the entity in
            ``err.entity``, a known value is not above 0 (naming ``history``),
            ``period`` is too long for the history, ``horizon`` is not a positive
            integer, or with ``ar_order`` the history is too short for the AR (naming
            ``ar_order``). With ``ar_order``, ``ridge`` that is not a finite number
            >= 0 is refused when the forecaster is made.

    >>> seasonal_random_walk_forecaster(2)(np.array([1.0, 2.0, 2.0, 4.0]), 2)
    array([4., 8.])
    """
    period = check_int("period", period)
    ar_order = None if ar_order is None else check_int("ar_order", ar_order)
    if ar_order is not None:
        ridge = check_real("ridge", ridge, low=0)

    def one(h: np.ndarray, n: int) -> np.ndarray:
        _positive(h, "(the walk runs on logs)")
        corrections = None
        if ar_order is not None:
            logy = np.log(h)
            w = logy[period + 1 :] - logy[period:-1] - logy[1:-period] + logy[: -period - 1]
            check_int(
                "ar_order",
                ar_order,
                high=(len(w) - 1) // 2,
                context=f" for a history of {len(h)} values with period {period} (an AR "
                f"of order p reads 2p + 1 of its {len(w)} seasonal differences)",
            )
            corrections = baselines.autoregression_rollout(w, ar_order, n, ridge=ridge)
        return baselines.seasonal_random_walk_rollout(h, n, period, corrections=corrections)

    name = f"seasonal random walk ({period})"
    return _columnwise(one, name if ar_order is None else f"{name} + AR({ar_order}) on w")


def _statsmodels(what: str) -> Any:
    try:
        import statsmodels.tsa.api as tsa
    except ImportError:
        raise ImportError(
            f"{what} needs statsmodels: pip install keras_lstm_patterns[classical]"
        ) from None
    return tsa


def _orders(name: str, value: Any, form: str) -> tuple[int, ...]:
    """A statsmodels order such as ``(p, d, q)``: that many non-negative integers."""
    size = form.count(",") + 1
    ok = (
        isinstance(value, tuple | list)
        and len(value) == size
        and all(is_int(v) and v >= 0 for v in value)
    )
    if not ok:
        fail(name, f"{size} non-negative integers {form}", value)
    return tuple(int(v) for v in value)


def _quiet_fit(fit: Callable[[], Any]) -> Any:
    """Run a statsmodels fit without its optimiser warnings (convergence, starting
    parameters): at dozens of origins they are noise, and the forecasts are checked."""
    from statsmodels.tools import sm_exceptions

    with warnings.catch_warnings():
        for category in (sm_exceptions.ConvergenceWarning, sm_exceptions.ValueWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("ignore", category=UserWarning, module="statsmodels")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="statsmodels")
        warnings.simplefilter("ignore", sm_exceptions.EstimationWarning)
        return fit()


def _log_or_not(h: np.ndarray, log: bool) -> np.ndarray:
    return np.log(_positive(h, "when log=True")) if log else h


def sarima_forecaster(
    order: tuple[int, int, int] = (0, 1, 1),
    seasonal_order: tuple[int, int, int, int] = (0, 1, 1, 12),
    *,
    log: bool = True,
    trend: str | None = None,
) -> Forecaster:
    """A SARIMA fitted by maximum likelihood at each origin (statsmodels' ``SARIMAX``).

    The default is the airline model of Box and Jenkins, ``(0,1,1)(0,1,1)12`` on logs;
    forecasts on logs are mapped back with ``exp`` (the median forecast). Needs the
    ``classical`` extra.

    The model is fitted anew on each column (entity and feature) of every history it is
    given, with statsmodels' optimiser warnings silenced; missing steps (NaN) are
    forward-filled first, and a column with no known value forecasts NaN. A history needs
    at least ``d + D*s + max(p, q, P*s, Q*s) + 1`` values (26 for the airline model).

    Args:
        order: ``(p, d, q)``: AR lags, differences, MA lags; non-negative integers (a
            tuple or list).
        seasonal_order: ``(P, D, Q, s)``: seasonal AR lags, seasonal differences,
            seasonal MA lags and the season length ``s`` in steps; non-negative integers
            (statsmodels refuses ``s`` = 1, and ``s`` = 0 with seasonal terms).
        log: fit on ``log(y)`` (positive series) and return ``exp`` of its forecasts.
        trend: statsmodels' ``trend`` (``None``, ``"c"``, ``"t"``, ``"ct"``).

    Returns:
        A :data:`Forecaster` named ``SARIMA(p,d,q)(P,D,Q)s`` (plus " on logs" when
        ``log``): ``forecaster(history, horizon)`` takes a history ``(T,)``, ``(T,
        features)`` or ``(entities, T, features)`` and returns float64 forecasts of the
        same form, with ``horizon`` steps in place of ``T``.

    Raises:
        ValueError: ``order`` is not 3, or ``seasonal_order`` not 4, non-negative
            integers (an ``ArgumentError`` naming it). At a call: the history is not
            real numbers with 1 to 3 axes, or holds inf (naming ``history``); or, with
            the entity in ``err.entity``, a column is shorter than the minimum above or,
            with ``log``, has a value not above 0 (naming ``history``). statsmodels
            raises its own plain ``ValueError`` for a ``trend`` or ``s`` it refuses (not
            checked here).
        ImportError: statsmodels is not installed (the ``classical`` extra).

    >>> y = np.array([1.0, 2.0, 4.0, 3.0, 1.1, 2.2, 4.4, 3.3, 1.2, 2.4, 4.8, 3.6])
    >>> f = sarima_forecaster((0, 0, 0), (0, 1, 0, 4))  # a seasonal random walk on logs
    >>> f.__name__
    'SARIMA(0,0,0)(0,1,0)4 on logs'
    >>> np.round(f(y, 4), 3)
    array([1.2, 2.4, 4.8, 3.6])
    """
    order = _orders("order", order, "(p, d, q)")
    seasonal_order = _orders("seasonal_order", seasonal_order, "(P, D, Q, s)")
    tsa = _statsmodels("sarima_forecaster")
    p, d, q = order
    sp, sd, sq, s = seasonal_order
    # After differencing (d + D*s values), the longest lag the model reads (p, q, P*s or
    # Q*s) must lie inside the series, with one value to spare. statsmodels wants more for
    # its starting parameters (3 * q and 3 * Q*s lags): with fewer it warns, starts from
    # zeros and still maximises the likelihood. Measured on the airline model (log
    # passengers, statsmodels 0.14): 48 values fit MA coefficients -0.55 and -0.86, 50
    # values -0.55 and -0.92, and both forecasts stay within 7% of the next 6 months.
    minimum = d + sd * s + max(p, q, sp * s, sq * s) + 1

    def one(h: np.ndarray, n: int) -> np.ndarray:
        if len(h) < minimum:
            fail(
                "history",
                f"at least {minimum} values long for SARIMA{order}{seasonal_order} "
                f"(d + D*s = {d + sd * s} values go to differencing, and its longest lag "
                f"needs {minimum - d - sd * s} more)",
                None,
                shown=f"a history of {len(h)} values",
            )
        z = _log_or_not(h, log)
        model = tsa.SARIMAX(z, order=order, seasonal_order=seasonal_order, trend=trend)
        out = np.asarray(_quiet_fit(lambda: model.fit(disp=False)).forecast(n))
        return np.exp(out) if log else out

    name = f"SARIMA({p},{d},{q})({sp},{sd},{sq}){s}" + (" on logs" if log else "")
    return _columnwise(one, name)


def ets_forecaster(
    period: int | None = 12,
    *,
    trend: str | None = "add",
    seasonal: str | None = "add",
    damped: bool = False,
    log: bool = True,
) -> Forecaster:
    """Exponential smoothing (Holt-Winters) fitted at each origin (statsmodels'
    ``ExponentialSmoothing``). Needs the ``classical`` extra.

    The model is fitted anew on each column (entity and feature) of every history it is
    given, with statsmodels' optimiser warnings silenced; missing steps (NaN) are
    forward-filled first, and a column with no known value forecasts NaN.

    Args:
        period: the season length in steps, an integer >= 2 (``None`` with
            ``seasonal=None``, where it is unused). statsmodels' default
            initialisation needs two full seasons of history.
        trend: ``"add"``, ``"mul"`` or ``None``.
        seasonal: ``"add"``, ``"mul"`` or ``None``.
        damped: a damped trend (needs a ``trend``).
        log: fit on ``log(y)`` (positive series) and return ``exp`` of its forecasts;
            additive seasonality on logs is multiplicative on ``y``.

    Returns:
        A :data:`Forecaster` named ``ETS(trend,seasonal[,damped])`` (plus " on logs"
        when ``log``): ``forecaster(history, horizon)`` takes a history ``(T,)``, ``(T,
        features)`` or ``(entities, T, features)`` and returns float64 forecasts of the
        same form, with ``horizon`` steps in place of ``T``.

    Raises:
        ValueError: ``seasonal`` is set and ``period`` is not an integer >= 2 (an
            ``ArgumentError`` naming it). At a call: the history is not real numbers
            with 1 to 3 axes, or holds inf (naming ``history``); or with ``log`` a value
            not above 0 (the same, with the entity in ``err.entity``). statsmodels
            raises its own plain ``ValueError`` for a ``trend`` or ``seasonal`` it does
            not know, ``damped`` without a trend, or a history shorter than two seasons
            (not checked here).
        ImportError: statsmodels is not installed (the ``classical`` extra).

    >>> f = ets_forecaster(None, seasonal=None, log=False)  # Holt's linear trend
    >>> f.__name__
    'ETS(add,None)'
    >>> np.round(f(np.arange(1.0, 11.0), 2), 3)
    array([11., 12.])
    """
    tsa = _statsmodels("ets_forecaster")
    if seasonal is not None:
        period = check_int("period", period, low=2)

    def one(h: np.ndarray, n: int) -> np.ndarray:
        z = _log_or_not(h, log)
        model = tsa.ExponentialSmoothing(
            z,
            trend=trend,
            seasonal=seasonal,
            seasonal_periods=period if seasonal else None,
            damped_trend=damped,
        )
        out = np.asarray(_quiet_fit(model.fit).forecast(n))
        return np.exp(out) if log else out

    parts = [str(trend), str(seasonal)] + (["damped"] if damped else [])
    return _columnwise(one, f"ETS({','.join(parts)})" + (" on logs" if log else ""))
