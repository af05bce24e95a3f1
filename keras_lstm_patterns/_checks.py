"""Argument checks shared by every public function, with one message shape.

Every failure reads "`name` must be RULE. Received: name=VALUE", the shape Keras's
``timeseries_dataset_utils`` uses, so a user learns one way to read our errors.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, ParamSpec, TypeVar

import numpy as np
import pandas as pd

from ._errors import ArgumentError, ArgumentTypeError


def fail(
    name: str,
    rule: str,
    value: Any = None,
    *,
    shown: str | None = None,
    error: type[Exception] = ValueError,
) -> NoReturn:
    """Raise the package's one error shape: ``ArgumentError`` (a ``ValueError``), or
    ``ArgumentTypeError`` (also a ``TypeError``) when ``error`` is ``TypeError``."""
    received = shown if shown is not None else f"{name}={value!r}"
    kind = ArgumentTypeError if issubclass(error, TypeError) else ArgumentError
    raise kind(name, rule, received, value)


_P = ParamSpec("_P")
_R = TypeVar("_R")

# The release that renamed or removed the keywords refused by ``old_keywords``.
CHANGED_IN = "0.3.0"


def renamed(new: str, why: str) -> str:
    """The rule for a keyword renamed ``new``, for :func:`old_keywords`."""
    return f"written `{new}`: it was renamed `{new}` in {CHANGED_IN} ({why})"


def removed(instead: str) -> str:
    """The rule for a keyword removed, with what to write ``instead``, for
    :func:`old_keywords`."""
    return f"left out: it was removed in {CHANGED_IN} ({instead})"


# ``steps`` means one thing in the package, the time steps a sample reads; the number
# of steps forecast from one origin is ``horizon`` everywhere.
STEPS_RENAMED = renamed(
    "horizon", "`horizon` counts the steps forecast, `steps` the time steps a sample reads"
)


def old_keywords(**rules: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Refuse keywords a function no longer takes, naming what to write instead.

    ``@old_keywords(steps=renamed("horizon", why))`` makes a call with ``steps=`` raise
    ``ArgumentTypeError`` (a ``TypeError``): "`steps` must be written `horizon`: it was
    renamed `horizon` in 0.3.0 (...). Received: steps=12", before Python binds the
    arguments (so a required new keyword left out does not hide it). The function's
    signature, shown by ``help()``, is its own: the old keywords are not in it.
    """

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(function)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            for name, rule in rules.items():
                if name in kwargs:
                    fail(name, rule, kwargs[name], error=TypeError)
            return function(*args, **kwargs)

        return wrapper

    return decorate


def is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(
    name: str, value: Any, *, low: int = 1, high: int | None = None, context: str = ""
) -> int:
    """Check that ``value`` is an integer in ``[low, high]`` and return it as ``int``."""
    if high is not None and high < low:
        # The range is empty: say what the data allows instead of an impossible rule.
        fail(name, f"at most {high}{context}, which leaves no valid value", value)
    ok = is_int(value) and value >= low and (high is None or value <= high)
    if not ok:
        if high is None:
            rule = "a positive integer" if low == 1 else f"an integer >= {low}"
        else:
            rule = f"between {low} and {high}"
        fail(name, rule + context, value)
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """``True``/``False`` (Python or numpy booleans), nothing else: ``"no"`` is not False."""
    if not isinstance(value, bool | np.bool_):
        fail(name, "True or False", value)
    return bool(value)


def check_real(
    name: str, value: Any, *, optional: bool = False, low: float | None = None
) -> float | None:
    """A finite real number (Python or numpy), not a bool, at least ``low`` when given;
    ``None`` if ``optional``."""
    if value is None and optional:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    if not ok or not np.isfinite(float(value)) or (low is not None and float(value) < low):
        rule = ("None or " if optional else "") + "a finite number"
        fail(name, rule + (f" >= {low:g}" if low is not None else ""), value)
    return float(value)


def check_optional_int(name: str, value: Any, *, low: int = 1) -> int | None:
    if value is None:
        return None
    if not (is_int(value) and value >= low):
        rule = "None or a positive integer" if low == 1 else f"None or an integer >= {low}"
        fail(name, rule, value)
    return int(value)


def check_units(name: str, value: Any, *, allow_empty: bool = False) -> tuple[int, ...]:
    """Normalise an int or a sequence of ints to a tuple of positive ints."""
    rule = "a positive integer or a sequence of them"
    if allow_empty:
        rule = "a positive integer or a (possibly empty) sequence of them"
    if is_int(value):
        units: tuple[Any, ...] = (value,)
    elif isinstance(value, np.ndarray) and value.ndim == 1:
        units = tuple(value.tolist())
        if not units and not allow_empty:
            fail(name, rule, value)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        units = tuple(value)
        if not units and not allow_empty:
            fail(name, rule, value)
    else:
        fail(name, rule, value)
    if not all(is_int(u) and u > 0 for u in units):
        fail(name, rule, value)
    return tuple(int(u) for u in units)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        fail(name, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def check_fraction(name: str, value: Any, *, low: float = 0.0, high: float = 1.0) -> float:
    """Check ``low <= value < high`` for a real number."""
    if not (isinstance(value, numbers.Real) and not isinstance(value, bool)):
        fail(name, f"a number in [{low}, {high})", value)
    if not (low <= float(value) < high):
        fail(name, f"a number in [{low}, {high})", value)
    return float(value)


def check_time_index(name: str, series: Any) -> None:
    """Refuse a pandas input whose time index runs backwards or repeats.

    Windows and splits follow row order, so a descending or duplicated
    ``DatetimeIndex``/``PeriodIndex`` would put targets before their inputs or the test
    part before the training part.
    """
    index = getattr(series, "index", None)
    if not isinstance(index, pd.DatetimeIndex | pd.PeriodIndex | pd.TimedeltaIndex):
        return
    if index.is_monotonic_increasing and index.is_unique:
        return
    values = list(index)
    k = next((i for i in range(1, len(values)) if not values[i] > values[i - 1]), len(values) - 1)
    fail(
        name,
        "in time order: its time index must increase strictly (sort it with "
        "`series.sort_index()` and drop repeated stamps first)",
        shown=f"{name} with index[{k - 1}]={values[k - 1]!s} followed by index[{k}]={values[k]!s}",
    )


def check_numeric(
    name: str, arr: np.ndarray, original: Any = None, *, error: type[Exception] = ValueError
) -> None:
    """Real numbers only: no objects, strings, datetimes, bools, complex or masked arrays."""
    if isinstance(original if original is not None else arr, np.ma.MaskedArray):
        fail(
            name,
            "a plain array, not a masked array (its mask would be lost: fill the masked "
            "values, or pad and use `mask_value=`)",
            shown=f"{name} of type MaskedArray",
            error=error,
        )
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        fail(
            name,
            "real numbers (integer or float)",
            shown=f"{name} with dtype {arr.dtype}",
            error=error,
        )


def as_array(name: str, series: Any, *, error: type[Exception] = ValueError) -> np.ndarray:
    """``np.asarray(series)``, refused by name unless it holds real numbers.

    ``error`` is the exception for a value of the wrong kind (``None``, text, a dict,
    strings, objects, complex numbers, a masked array): ``ValueError`` for the windows,
    ``TypeError`` where the package's other functions take arrays.
    """
    if series is None or isinstance(series, str | bytes | dict):
        fail(
            name,
            "an array of real numbers",
            shown=f"{name} of type {type(series).__name__}",
            error=error,
        )
    check_time_index(name, series)
    try:
        arr = np.asarray(series)
    except (TypeError, ValueError):
        fail(
            name,
            "an array of real numbers",
            shown=f"{name} of type {type(series).__name__}",
            error=error,
        )
    check_numeric(name, arr, series, error=error)
    return arr


def as_series(name: str, series: Any) -> np.ndarray:
    """A 1-D or 2-D numeric, finite array as a 2-D ``(time, features)`` view.

    No copy is made when ``series`` already is a numeric ndarray. A pandas input must be
    in time order (see :func:`check_time_index`); a NaN in a frame is named by its row
    label and column.
    """
    arr = as_array(name, series)
    if arr.ndim not in (1, 2):
        fail(
            name,
            "1-D `(time,)` or 2-D `(time, features)`",
            shown=f"{name} with shape {arr.shape}",
        )
    check_finite(name, arr, labels=series)
    return arr[:, None] if arr.ndim == 1 else arr


def _all_finite(arr: np.ndarray) -> bool:
    """True when no value is NaN or inf, in one pass and without allocating a mask.

    A sum of squares (one BLAS dot product) is finite exactly when every value is, unless
    it overflows; only then, or for a non-contiguous array, is the mask computed.
    """
    if arr.flags.c_contiguous:
        flat = arr.reshape(-1)
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(np.dot(flat, flat)):
                return True
    return bool(np.isfinite(arr).all())


def check_finite(name: str, arr: np.ndarray, *, labels: Any = None) -> None:
    """Refuse NaN and inf, naming the first bad value's position.

    With ``labels`` a pandas object, the position is its own row label and column name
    (``frame.loc['2024-01-03', 'pressure']``), not a position after any reordering.
    """
    if arr.size and np.issubdtype(arr.dtype, np.floating) and not _all_finite(arr):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        where = ", ".join(map(str, bad))
        value = arr[bad].item()
        if isinstance(labels, pd.DataFrame | pd.Series) and len(bad) >= 1:
            parts = [repr(labels.index[bad[0]])]
            if isinstance(labels, pd.DataFrame) and len(bad) == 2:
                parts.append(repr(labels.columns[bad[1]]))
            fail(
                name,
                "finite (no NaN or inf)",
                shown=f"{name}.loc[{', '.join(parts)}]={value!r}",
            )
        fail(name, "finite (no NaN or inf)", shown=f"{name}[{where}]={value!r}")


def shape_str(shape: Sequence[Any], names: Sequence[str]) -> str:
    """Write a shape with axis names: ``(batch, steps=5, features=2)``."""
    parts = []
    for n, s in zip(names, shape):
        parts.append(n if s is None else f"{n}={s}")
    return "(" + ", ".join(parts) + ")"
