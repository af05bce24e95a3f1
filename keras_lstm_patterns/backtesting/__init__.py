"""Rolling-origin backtests: score a forecaster at many origins, beside classical models.

One train/test split scores a model on one stretch of months, chosen once. A backtest
forecasts from many origins: at each origin the forecaster sees only the history
before it and returns the next ``horizon`` values, which are compared with what came
(darts' ``historical_forecasts``/``backtest``, statsforecast's ``cross_validation``).

A *forecaster* is any callable ``forecaster(history, horizon) -> values``. The
history is a fresh read-only copy of ``series[:origin]`` (for a tank array
``series[:, :origin]``): a forecaster cannot read a value at or after its origin, so
:func:`backtest` cannot leak the future by construction. The factories below make
forecasters of the baselines (:mod:`keras_lstm_patterns.baselines`), of classical
models fitted at each origin (SARIMA and exponential smoothing, with the optional
``statsmodels``: ``pip install keras_lstm_patterns[classical]``), and of a Keras model
trained at each origin (:func:`model_forecaster`).

The package is split by job: ``_evaluation`` (:func:`backtest`, :func:`score`,
:func:`conformal`; no Keras), ``_classical`` (the baseline and statsmodels forecasters;
no Keras) and ``_keras`` (:class:`ModelForecaster` and :func:`differencing`; Keras is
imported when a model is built). Import every name from here.

>>> import numpy as np
>>> frame = backtest(persistence_forecaster(), np.arange(10.0), horizon=2, origins=3)
>>> frame[["origin", "step", "actual", "forecast"]].head(3)
   origin  step  actual  forecast
0       4     1     4.0       3.0
1       4     2     5.0       3.0
2       6     1     6.0       5.0
>>> float(score(frame, np.arange(10.0)).loc[("persistence", "all"), "mase"])
1.5
"""

from ._classical import autoregression_forecaster as autoregression_forecaster
from ._classical import drift_forecaster as drift_forecaster
from ._classical import ets_forecaster as ets_forecaster
from ._classical import persistence_forecaster as persistence_forecaster
from ._classical import sarima_forecaster as sarima_forecaster
from ._classical import seasonal_naive_forecaster as seasonal_naive_forecaster
from ._classical import seasonal_random_walk_forecaster as seasonal_random_walk_forecaster
from ._evaluation import Forecaster as Forecaster
from ._evaluation import backtest as backtest
from ._evaluation import conformal as conformal
from ._evaluation import score as score
from ._keras import ModelForecaster as ModelForecaster
from ._keras import Transform as Transform
from ._keras import differencing as differencing
from ._keras import model_forecaster as model_forecaster

__all__ = [
    "Forecaster",
    "ModelForecaster",
    "Transform",
    "autoregression_forecaster",
    "backtest",
    "conformal",
    "differencing",
    "drift_forecaster",
    "ets_forecaster",
    "model_forecaster",
    "persistence_forecaster",
    "sarima_forecaster",
    "score",
    "seasonal_naive_forecaster",
    "seasonal_random_walk_forecaster",
]
