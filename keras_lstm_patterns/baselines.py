"""The yardsticks a recurrent model must beat, computed the same way as the model's score.

One-step-ahead forecasts use the true past (as a model fed look-back windows does);
``*_rollout`` forecasts see only the history before the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._checks import (
    STEPS_RENAMED,
    as_array,
    check_finite,
    check_int,
    check_real,
    fail,
    old_keywords,
)
from .windows import look_back

__all__ = [
    "autoregression_rollout",
    "bigram_bits_per_char",
    "persistence",
    "rmse",
    "roc_auc",
    "seasonal_naive",
    "seasonal_naive_rollout",
    "seasonal_random_walk",
    "seasonal_random_walk_rollout",
    "unigram_bits_per_char",
]


# A rollout is held in memory and built step by step: a horizon of at most this many steps.
MAX_HORIZON = 10**7


def _values(
    name: str, values: Any, *, ndims: tuple[int, ...] = (1,), positive: bool = False
) -> np.ndarray:
    """``values`` as a float64 array of finite real numbers with one of ``ndims`` axes
    (and all above 0 when ``positive``: the log-based baselines), refused by name."""
    raw = as_array(name, values, error=TypeError)
    arr = raw.astype("float64")
    if arr.ndim not in ndims:
        axes = " or ".join(("1-D `(time,)`", "2-D `(time, features)`")[n - 1] for n in ndims)
        fail(name, axes, None, shown=f"{name} with shape {arr.shape}")
    check_finite(name, arr)
    if positive and arr.size and not (arr > 0).all():
        bad = tuple(int(i) for i in np.argwhere(arr <= 0)[0])
        fail(
            name,
            "above 0 (the walk works on logs)",
            None,
            shown=f"{name}[{', '.join(map(str, bad))}]={arr[bad].item()!r}",
        )
    return arr


def _series(series: Any, start: int, need: int, *, positive: bool = False) -> np.ndarray:
    y = _values("series", series, positive=positive)
    check_int("start", start, low=need, high=len(y) - 1, context=f" (needs {need} past values)")
    return y


def rmse(actual: Any, predicted: Any) -> float:
    """Root mean squared error, in the data's own units.

    ``sqrt(mean((actual - predicted) ** 2))`` over every element, so a 2-D pair gives one
    number for all its columns.

    Args:
        actual: the true values, any array-like of real numbers.
        predicted: the forecasts, of the same shape as ``actual`` (no broadcasting).

    Returns:
        The error as a Python ``float`` (0 or more, in the units of ``actual``). NaN in
        either input, or two empty inputs, give ``nan`` (numpy warns for the empty case).

    Raises:
        ValueError: ``predicted`` does not have the shape of ``actual`` (an
            ``ArgumentError`` naming ``predicted``). Values that numpy cannot convert to
            float64 raise numpy's own ``ValueError``/``TypeError``; finiteness is not
            checked.

    >>> rmse([1.0, 2.0], [1.0, 4.0])
    1.4142135623730951
    """
    a, p = np.asarray(actual, dtype="float64"), np.asarray(predicted, dtype="float64")
    if a.shape != p.shape:
        fail("predicted", f"the shape of actual {a.shape}", None, shown=f"shape {p.shape}")
    return float(np.sqrt(np.mean((a - p) ** 2)))


def roc_auc(normal_scores: Any, anomaly_scores: Any) -> float:
    """Area under the ROC curve: the chance that an anomaly scores above a normal sample
    (ties count half), the Mann-Whitney statistic.

    Every normal score is compared with every anomaly score: no threshold is chosen.
    A higher score must mean "more anomalous".

    Args:
        normal_scores: 1-D array-like of the scores of the normal samples.
        anomaly_scores: 1-D array-like of the scores of the anomalous samples.

    Returns:
        The AUC as a Python ``float`` in [0, 1]: 1 when every anomaly scores above every
        normal sample, 0.5 for scores that do not separate them.

    Raises:
        ValueError: either input is not 1-D, is empty, or holds NaN or inf (an
            ``ArgumentError`` naming it; a score of one sample per row is 1-D).
        TypeError: either input is not numbers (an ``ArgumentTypeError``).

    >>> roc_auc([0.1, 0.2], [0.3, 0.2])
    0.875
    """
    a = _scores("normal_scores", normal_scores)[:, None]
    b = _scores("anomaly_scores", anomaly_scores)[None, :]
    return float(((b > a).sum() + 0.5 * (b == a).sum()) / (a.size * b.size))


def _scores(name: str, scores: Any) -> np.ndarray:
    """One score per sample: 1-D, non-empty, finite, as float64."""
    arr = _values(name, scores)
    if arr.size == 0:
        fail(name, "1-D and non-empty, one score per sample", shown=f"{name} of shape {arr.shape}")
    return arr


def persistence(series: Any, start: int) -> np.ndarray:
    """One step ahead: ``y_hat[t] = y[t-1]`` for ``t >= start``.

    The last observed value is the forecast (the naive, random-walk forecast), computed
    from the true past at every step.

    Args:
        series: a 1-D ``(time,)`` array-like (or pandas ``Series`` in time order) of
            finite real numbers.
        start: the first time step forecast, between 1 and ``len(series) - 1``.

    Returns:
        A float64 array ``(len(series) - start,)``: the forecasts of
        ``series[start:]``, in the series' units (a copy).

    Raises:
        TypeError: ``series`` is not an array of real numbers (``None``, text, strings,
            objects, ...; an ``ArgumentTypeError`` naming it).
        ValueError: ``series`` is not 1-D, holds NaN or inf, or has a decreasing or
            repeated pandas time index; ``start`` is not an integer in range (each an
            ``ArgumentError`` naming it).

    >>> persistence([1.0, 2.0, 3.0, 4.0], 2)
    array([2., 3.])
    """
    y = _series(series, start, 1)
    return y[start - 1 : -1].copy()


def seasonal_naive(series: Any, start: int, period: int = 12) -> np.ndarray:
    """One step ahead: ``y_hat[t] = y[t - period]``.

    The value one season earlier is the forecast, computed from the true past at every
    step.

    Args:
        series: a 1-D ``(time,)`` array-like (or pandas ``Series`` in time order) of
            finite real numbers.
        start: the first time step forecast, between ``period`` and
            ``len(series) - 1``.
        period: the season's length in steps, a positive integer (12 for monthly data
            with a yearly season).

    Returns:
        A float64 array ``(len(series) - start,)``: the forecasts of
        ``series[start:]``, in the series' units (a copy).

    Raises:
        TypeError: ``series`` is not an array of real numbers (an ``ArgumentTypeError``
            naming it).
        ValueError: ``period`` is not a positive integer; ``series`` is not 1-D, holds
            NaN or inf, or has a decreasing or repeated pandas time index; ``start`` is
            not an integer in range, or no ``start`` is possible as the series is too
            short for ``period`` (each an ``ArgumentError`` naming the argument).

    >>> seasonal_naive([1.0, 2.0, 3.0, 4.0, 5.0], 3, period=2)
    array([2., 3.])
    """
    y = _series(series, start, check_int("period", period))
    return y[start - period : len(y) - period].copy()


def seasonal_random_walk(series: Any, start: int, period: int = 12) -> np.ndarray:
    """One step ahead on logs, no parameters: the last value times last year's same-month change.

    ``log y_hat[t] = log y[t-1] + log y[t-period] - log y[t-period-1]``, computed from
    the true past at every step.

    Args:
        series: a 1-D ``(time,)`` array-like (or pandas ``Series`` in time order) of
            finite real numbers, all above 0.
        start: the first time step forecast, between ``period + 1`` and
            ``len(series) - 1``.
        period: the season's length in steps, a positive integer.

    Returns:
        A float64 array ``(len(series) - start,)``: the forecasts of
        ``series[start:]``, in the series' units.

    Raises:
        TypeError: ``series`` is not an array of real numbers (an ``ArgumentTypeError``
            naming it).
        ValueError: ``period`` is not a positive integer; ``series`` is not 1-D, holds
            NaN, inf or a value at or below 0, or has a decreasing or repeated pandas time
            index; ``start`` is not an integer in range, or no ``start`` is possible as
            the series is too short for ``period`` (each an ``ArgumentError`` naming the
            argument).

    >>> np.round(seasonal_random_walk([1.0, 2.0, 2.0, 4.0, 4.0, 8.0], 3, period=2), 6)
    array([4., 4., 8.])
    """
    y = _series(series, start, check_int("period", period) + 1, positive=True)
    logy = np.log(y)
    t = np.arange(start, len(y))
    return np.exp(logy[t - 1] + logy[t - period] - logy[t - period - 1])


@old_keywords(steps=STEPS_RENAMED)
def seasonal_naive_rollout(history: Any, horizon: int, period: int = 12) -> np.ndarray:
    """Repeat the last ``period`` values of ``history`` for ``horizon`` steps.

    A 2-D history ``(time, features)`` gives ``(horizon, features)``: the last ``period``
    rows, repeated. (``horizon`` was called ``steps`` before 0.3.0; ``steps=`` is refused
    with a ``TypeError`` naming it.)

    Args:
        history: the values before the forecast origin, ``(time,)`` or
            ``(time, features)`` array-like of finite real numbers.
        horizon: how many steps to forecast, between 1 and 10,000,000.
        period: the season's length in steps, between 1 and ``len(history)``.

    Returns:
        A float64 array ``(horizon,)`` for a 1-D history, ``(horizon, features)`` for a
        2-D one, in the history's units (a new array).

    Raises:
        TypeError: ``history`` is not an array of real numbers, or ``steps=`` was passed
            (each an ``ArgumentTypeError`` naming it).
        ValueError: ``history`` is not 1-D or 2-D, holds NaN or inf, or has a decreasing
            or repeated pandas time index; ``period`` or ``horizon`` is not an integer in
            range (each an ``ArgumentError`` naming the argument).

    >>> seasonal_naive_rollout([[1, 10], [2, 20], [3, 30]], 3, period=2).tolist()
    [[2.0, 20.0], [3.0, 30.0], [2.0, 20.0]]
    """
    h = _values("history", history, ndims=(1, 2))
    period = check_int("period", period, high=len(h), context=f" for {len(h)} history steps")
    horizon = check_int("horizon", horizon, high=MAX_HORIZON)
    return h[-period:][np.arange(horizon) % period]


@old_keywords(steps=STEPS_RENAMED)
def seasonal_random_walk_rollout(
    history: Any, horizon: int, period: int = 12, *, corrections: Any = None
) -> np.ndarray:
    """The seasonal random walk on logs, rolled out ``horizon`` steps ahead on its own
    forecasts (``horizon`` was called ``steps`` before 0.3.0).

    ``corrections`` (``horizon`` values, default zeros) are added to each new log value:
    forecasts of what the walk leaves unexplained,
    ``w[t] = log y[t] - log y[t-1] - log y[t-period] + log y[t-period-1]``, integrated
    back to the series.

    Args:
        history: the values before the forecast origin, a 1-D ``(time,)`` array-like of
            finite real numbers, all above 0.
        horizon: how many steps to forecast, between 1 and 10,000,000.
        period: the season's length in steps, between 1 and ``len(history) - 1``.
        corrections: ``None`` (no corrections) or ``horizon`` finite real numbers, in log
            units, added to the log forecast of each step in turn.

    Returns:
        A float64 array ``(horizon,)`` of forecasts, in the history's units (above 0;
        ``inf`` if the log forecasts overflow).

    Raises:
        TypeError: ``history`` or ``corrections`` is not an array of real numbers, or
            ``steps=`` was passed (each an ``ArgumentTypeError`` naming it).
        ValueError: ``history`` is not 1-D, holds NaN, inf or a value at or below 0, or
            has a decreasing or repeated pandas time index; ``period`` or ``horizon`` is
            not an integer in range; ``corrections`` holds NaN or inf or is not
            ``horizon`` values (each an ``ArgumentError`` naming the argument).

    >>> np.round(seasonal_random_walk_rollout([1.0, 2.0, 2.0, 4.0], 2, period=2), 6)
    array([4., 8.])
    """
    h = np.log(_values("history", history, positive=True))
    period = check_int("period", period, high=len(h) - 1, context=f" for {len(h)} history steps")
    horizon = check_int("horizon", horizon, high=MAX_HORIZON)
    w = np.zeros(horizon) if corrections is None else _values("corrections", corrections)
    if w.shape != (horizon,):
        fail("corrections", f"{horizon} values, one per step", None, shown=f"shape {w.shape}")
    logy = list(h)
    for wt in w:
        logy.append(logy[-1] + logy[-period] - logy[-period - 1] + wt)
    return np.exp(np.array(logy[len(h) :]))


@old_keywords(steps=STEPS_RENAMED)
def autoregression_rollout(
    history: Any, order: int, horizon: int, *, ridge: float = 0.0
) -> np.ndarray:
    """A linear AR(``order``) with intercept, least squares on ``history``, rolled out.

    ``x[t] = c + a_1 x[t-1] + ... + a_p x[t-p]``, fitted with an optional ridge penalty on
    the ``a`` (not on ``c``), then fed its own forecasts for ``horizon`` steps (called
    ``steps`` before 0.3.0): the linear model a recurrent generator should at least
    match. When several fits are equally good (a constant or collinear history), the one
    with the smallest coefficients is used.

    Args:
        history: the values to fit and roll out from, a 1-D ``(time,)`` array-like of
            finite real numbers.
        order: how many past values each forecast reads (``p``), between 1 and
            ``(len(history) - 1) // 2``, so that the fit has at least as many windows as
            coefficients.
        horizon: how many steps to forecast, between 1 and 10,000,000.
        ridge: the penalty weight on the squared lag coefficients, a finite number
            ``>= 0`` (0: plain least squares).

    Returns:
        A float64 array ``(horizon,)`` of forecasts, in the history's units.

    Raises:
        TypeError: ``history`` is not an array of real numbers, or ``steps=`` was passed
            (each an ``ArgumentTypeError`` naming it).
        ValueError: ``history`` is not 1-D, holds NaN or inf, or has a decreasing or
            repeated pandas time index; ``order`` or ``horizon`` is not an integer in
            range; ``ridge`` is not a finite number ``>= 0`` (of any type: each an
            ``ArgumentError`` naming the argument).
        numpy.linalg.LinAlgError: the fit does not converge, as when the squares of a
            history of huge values (around 1e154 and above) overflow.

    >>> autoregression_rollout([1.0, 2.0, 4.0, 8.0, 16.0, 32.0], 1, 2).round(6).tolist()
    [64.0, 128.0]
    """
    h = _values("history", history)
    order = check_int("order", order, high=(len(h) - 1) // 2)
    horizon = check_int("horizon", horizon, high=MAX_HORIZON)
    ridge = check_real("ridge", ridge, low=0)
    lags, target = look_back(h, order)  # (windows, order, 1), (windows, 1)
    a = np.c_[lags[:, :, 0], np.ones(len(lags))]
    penalty = float(ridge) * np.diag([1.0] * order + [0.0])
    # least squares with the smallest coefficients among the best fits: a constant or
    # otherwise collinear history has many, where a plain solve would fail
    coef = np.linalg.lstsq(a.T @ a + penalty, a.T @ target[:, 0], rcond=None)[0]
    out = list(h[-order:])
    for _ in range(horizon):
        out.append(float(np.dot(coef[:order], out[-order:]) + coef[order]))
    return np.array(out[order:])


def _check_texts(train: Sequence[str], test: Sequence[str], alphabet: str) -> dict[str, int]:
    """Check the texts and the alphabet; return the index of each character."""
    if not isinstance(alphabet, str) or not alphabet:
        fail(
            "alphabet",
            "a non-empty str of distinct characters",
            alphabet,
            shown=f"alphabet of type {type(alphabet).__name__}",
            error=TypeError,
        )
    if len(set(alphabet)) != len(alphabet):
        repeated = sorted({c for c in alphabet if alphabet.count(c) > 1})
        fail("alphabet", "distinct characters", alphabet, shown=f"alphabet repeating {repeated}")
    index = {c: i for i, c in enumerate(alphabet)}
    for name, texts in (("train", train), ("test", test)):
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            fail(
                name,
                "a sequence of texts (a list of str)",
                texts,
                shown=f"{name} of type {type(texts).__name__}",
                error=TypeError,
            )
        for k, text in enumerate(texts):
            if not isinstance(text, str):
                fail(
                    f"{name}[{k}]",
                    "a str",
                    text,
                    shown=f"{name}[{k}] of type {type(text).__name__}",
                    error=TypeError,
                )
            for pos, c in enumerate(text):
                if c not in index:
                    fail(
                        name,
                        f"texts of characters in `alphabet` ({alphabet!r})",
                        None,
                        shown=f"{name}[{k}][{pos}]={c!r}",
                    )
        if not any(texts):
            fail(
                name,
                "a non-empty sequence of texts",
                None,
                shown=f"no {'training' if name == 'train' else 'test'} text",
            )
    return index


def unigram_bits_per_char(train: Sequence[str], test: Sequence[str], alphabet: str) -> float:
    """Bits per character of ``test`` under character frequencies counted on ``train``
    (add-one smoothing over ``alphabet``, so every test character has a probability).

    Args:
        train: the training texts, a sequence (list or tuple) of ``str`` whose characters
            are all in ``alphabet``, not all empty.
        test: the texts to score, of the same kind as ``train``.
        alphabet: the characters that can occur, a non-empty ``str`` of distinct
            characters; smoothing gives each one a count of one to start.

    Returns:
        The mean of ``-log2 P(c)`` over every character of ``test``, as a Python
        ``float`` (0 or more; ``log2(len(alphabet))`` for uniform frequencies).

    Raises:
        TypeError: ``alphabet`` is not a ``str`` or is empty; ``train`` or ``test`` is a
            ``str`` or not a sequence; one of their texts is not a ``str`` (each an ``ArgumentTypeError`` naming it).
        ValueError: ``alphabet`` repeats a character; a text holds a character outside
            ``alphabet``; every text of ``train`` or of ``test`` is empty (each an
            ``ArgumentError`` naming the argument).

    >>> round(unigram_bits_per_char(["ab"], ["ab"], "ab"), 3)
    1.0
    """
    index = _check_texts(train, test, alphabet)
    counts = np.ones(len(alphabet))
    for text in train:
        np.add.at(counts, np.array([index[c] for c in text], dtype=int), 1)
    logp = np.log2(counts / counts.sum())
    total = sum(-logp[index[c]] for text in test for c in text)
    return float(total / sum(len(t) for t in test))


def bigram_bits_per_char(
    train: Sequence[str], test: Sequence[str], alphabet: str, *, score_first: bool = True
) -> float:
    """Bits per character of ``test`` under ``P(c | previous c)`` counted on ``train``
    (add-one smoothing). Each text's first character is scored by the unigram model, or
    not at all with ``score_first=False`` (as a model that needs one character of context
    scores it). Empty texts score nothing.

    Pairs are counted within each text, never across two texts.

    Args:
        train: the training texts, a sequence (list or tuple) of ``str`` whose characters
            are all in ``alphabet``, not all empty.
        test: the texts to score, of the same kind as ``train``.
        alphabet: the characters that can occur, a non-empty ``str`` of distinct
            characters; smoothing gives each one, and each pair, a count of one to
            start.
        score_first: score each test text's first character with the unigram model
            (``True``) or leave it out (``False``); a Python or numpy bool.

    Returns:
        The mean of ``-log2 P`` over the scored characters of ``test``, as a Python
        ``float`` (0 or more).

    Raises:
        TypeError: ``alphabet`` is not a ``str`` or is empty; ``train`` or ``test`` is a
            ``str`` or not a sequence; one of their texts is not a ``str``; ``score_first`` is not a
            bool (each an ``ArgumentTypeError`` naming it).
        ValueError: ``alphabet`` repeats a character; a text holds a character outside
            ``alphabet``; every text of ``train`` or of ``test`` is empty; with
            ``score_first=False``, no text of ``test`` has two or more characters, so
            nothing is scored (each an ``ArgumentError`` naming the argument).

    >>> round(bigram_bits_per_char(["abab"], ["ab", ""], "ab"), 3)
    0.708
    """
    index = _check_texts(train, test, alphabet)
    if not isinstance(score_first, bool | np.bool_):
        fail(
            "score_first",
            "True or False",
            score_first,
            shown=f"score_first of type {type(score_first).__name__}",
            error=TypeError,
        )
    k = len(alphabet)
    pair = np.ones((k, k))
    uni = np.ones(k)
    for text in train:
        ids = np.array([index[c] for c in text], dtype=int)
        np.add.at(uni, ids, 1)
        np.add.at(pair, (ids[:-1], ids[1:]), 1)
    logp_pair = np.log2(pair / pair.sum(axis=1, keepdims=True))
    logp_uni = np.log2(uni / uni.sum())
    total, n = 0.0, 0
    for text in test:
        if not text:
            continue
        ids = np.array([index[c] for c in text], dtype=int)
        total -= logp_pair[ids[:-1], ids[1:]].sum()
        n += len(ids) - 1
        if score_first:
            total -= logp_uni[ids[0]]
            n += 1
    if n == 0:
        fail(
            "test",
            "at least one character to score (with score_first=False, a text of two or more)",
            None,
            shown=f"test texts of lengths {[len(t) for t in test]}",
        )
    return float(total / n)
