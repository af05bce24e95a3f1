"""The yardsticks a recurrent model must beat, computed the same way as the model's score.

One-step-ahead forecasts use the true past (as a model fed look-back windows does);
``*_rollout`` forecasts see only the history before the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._checks import check_int, fail
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


def _series(series: Any, start: int, need: int) -> np.ndarray:
    y = np.asarray(series, dtype="float64")
    if y.ndim != 1:
        fail("series", "1-D", None, shown=f"series with shape {y.shape}")
    check_int("start", start, low=need, high=len(y) - 1, context=f" (needs {need} past values)")
    return y


def rmse(actual: Any, predicted: Any) -> float:
    """Root mean squared error, in the data's own units.

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

    >>> roc_auc([0.1, 0.2], [0.3, 0.2])
    0.875
    """
    a = np.asarray(normal_scores, dtype="float64")[:, None]
    b = np.asarray(anomaly_scores, dtype="float64")[None, :]
    if a.size == 0 or b.size == 0:
        fail("scores", "non-empty for both classes", None, shown=f"{a.size} and {b.size} scores")
    return float(((b > a).sum() + 0.5 * (b == a).sum()) / (a.size * b.size))


def persistence(series: Any, start: int) -> np.ndarray:
    """One step ahead: ``y_hat[t] = y[t-1]`` for ``t >= start``.

    >>> persistence([1.0, 2.0, 3.0, 4.0], 2)
    array([2., 3.])
    """
    y = _series(series, start, 1)
    return y[start - 1 : -1].copy()


def seasonal_naive(series: Any, start: int, period: int = 12) -> np.ndarray:
    """One step ahead: ``y_hat[t] = y[t - period]``."""
    y = _series(series, start, check_int("period", period))
    return y[start - period : len(y) - period].copy()


def seasonal_random_walk(series: Any, start: int, period: int = 12) -> np.ndarray:
    """One step ahead on logs, no parameters: the last value times last year's same-month change.

    ``log y_hat[t] = log y[t-1] + log y[t-period] - log y[t-period-1]``.
    """
    y = _series(series, start, check_int("period", period) + 1)
    logy = np.log(y)
    t = np.arange(start, len(y))
    return np.exp(logy[t - 1] + logy[t - period] - logy[t - period - 1])


def seasonal_naive_rollout(history: Any, steps: int, period: int = 12) -> np.ndarray:
    """Repeat the last ``period`` values of ``history`` for ``steps`` steps."""
    h = np.asarray(history, dtype="float64")
    period = check_int("period", period, high=len(h))
    steps = check_int("steps", steps)
    return np.resize(h[-period:], steps)


def seasonal_random_walk_rollout(
    history: Any, steps: int, period: int = 12, *, corrections: Any = None
) -> np.ndarray:
    """The seasonal random walk on logs, rolled out ``steps`` ahead on its own forecasts.

    ``corrections`` (``steps`` values, default zeros) are added to each new log value:
    forecasts of what the walk leaves unexplained,
    ``w[t] = log y[t] - log y[t-1] - log y[t-period] + log y[t-period-1]``, integrated
    back to the series.
    """
    h = np.log(np.asarray(history, dtype="float64"))
    period = check_int("period", period, high=len(h) - 1)
    steps = check_int("steps", steps)
    w = np.zeros(steps) if corrections is None else np.asarray(corrections, dtype="float64")
    if w.shape != (steps,):
        fail("corrections", f"{steps} values, one per step", None, shown=f"shape {w.shape}")
    logy = list(h)
    for wt in w:
        logy.append(logy[-1] + logy[-period] - logy[-period - 1] + wt)
    return np.exp(np.array(logy[len(h) :]))


def autoregression_rollout(
    history: Any, order: int, steps: int, *, ridge: float = 0.0
) -> np.ndarray:
    """A linear AR(``order``) with intercept, least squares on ``history``, rolled out.

    ``x[t] = c + a_1 x[t-1] + ... + a_p x[t-p]``, fitted with an optional ridge penalty on
    the ``a`` (not on ``c``), then fed its own forecasts for ``steps`` steps: the linear
    model a recurrent generator should at least match.

    >>> autoregression_rollout([1.0, 2.0, 4.0, 8.0, 16.0, 32.0], 1, 2).round(6).tolist()
    [64.0, 128.0]
    """
    h = np.asarray(history, dtype="float64")
    if h.ndim != 1:
        fail("history", "1-D", None, shown=f"history with shape {h.shape}")
    order = check_int("order", order, high=(len(h) - 1) // 2)
    steps = check_int("steps", steps)
    if not (np.isfinite(ridge) and ridge >= 0):
        fail("ridge", "a finite number >= 0", ridge)
    lags, target = look_back(h, order)  # (windows, order, 1), (windows, 1)
    a = np.c_[lags[:, :, 0], np.ones(len(lags))]
    penalty = ridge * np.diag([1.0] * order + [0.0])
    coef = np.linalg.solve(a.T @ a + penalty, a.T @ target[:, 0])
    out = list(h[-order:])
    for _ in range(steps):
        out.append(float(np.dot(coef[:order], out[-order:]) + coef[order]))
    return np.array(out[order:])


def _check_texts(train: Sequence[str], test: Sequence[str]) -> None:
    if not train or not any(train):
        fail("train", "a non-empty sequence of texts", None, shown="no training text")
    if not test or not any(test):
        fail("test", "a non-empty sequence of texts", None, shown="no test text")


def unigram_bits_per_char(train: Sequence[str], test: Sequence[str], alphabet: str) -> float:
    """Bits per character of ``test`` under character frequencies counted on ``train``
    (add-one smoothing over ``alphabet``, so every test character has a probability).

    >>> round(unigram_bits_per_char(["ab"], ["ab"], "ab"), 3)
    1.0
    """
    _check_texts(train, test)
    index = {c: i for i, c in enumerate(alphabet)}
    counts = np.ones(len(alphabet))
    for text in train:
        np.add.at(counts, [index[c] for c in text], 1)
    logp = np.log2(counts / counts.sum())
    total = sum(-logp[index[c]] for text in test for c in text)
    return float(total / sum(len(t) for t in test))


def bigram_bits_per_char(
    train: Sequence[str], test: Sequence[str], alphabet: str, *, score_first: bool = True
) -> float:
    """Bits per character of ``test`` under ``P(c | previous c)`` counted on ``train``
    (add-one smoothing). Each text's first character is scored by the unigram model, or
    not at all with ``score_first=False`` (as a model that needs one character of context
    scores it)."""
    _check_texts(train, test)
    index = {c: i for i, c in enumerate(alphabet)}
    k = len(alphabet)
    pair = np.ones((k, k))
    uni = np.ones(k)
    for text in train:
        ids = np.array([index[c] for c in text])
        np.add.at(uni, ids, 1)
        np.add.at(pair, (ids[:-1], ids[1:]), 1)
    logp_pair = np.log2(pair / pair.sum(axis=1, keepdims=True))
    logp_uni = np.log2(uni / uni.sum())
    total, n = 0.0, 0
    for text in test:
        ids = np.array([index[c] for c in text])
        total -= logp_pair[ids[:-1], ids[1:]].sum()
        n += len(ids) - 1
        if score_first:
            total -= logp_uni[ids[0]]
            n += 1
    return float(total / n)
