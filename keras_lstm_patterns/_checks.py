"""Argument checks shared by every public function, with one message shape.

Every failure reads "`name` must be RULE. Received: name=VALUE", the shape Keras's
``timeseries_dataset_utils`` uses, so a user learns one way to read our errors.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np


def fail(name: str, rule: str, value: Any, *, shown: str | None = None) -> None:
    """Raise the package's one ``ValueError`` shape."""
    received = shown if shown is not None else f"{name}={value!r}"
    raise ValueError(f"`{name}` must be {rule}. Received: {received}")


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


def as_series(name: str, series: Any) -> np.ndarray:
    """A 1-D or 2-D numeric, finite array as a 2-D ``(time, features)`` view.

    No copy is made when ``series`` already is a numeric ndarray.
    """
    try:
        arr = np.asarray(series)
    except (TypeError, ValueError):
        fail(
            name,
            "a numeric array",
            type(series).__name__,
            shown=f"{name} of type {type(series).__name__}",
        )
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        fail(name, "numeric", arr.dtype, shown=f"{name} with dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        fail(
            name,
            "1-D `(time,)` or 2-D `(time, features)`",
            arr.shape,
            shown=f"{name} with shape {arr.shape}",
        )
    check_finite(name, arr)
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


def check_finite(name: str, arr: np.ndarray) -> None:
    if arr.size and np.issubdtype(arr.dtype, np.floating) and not _all_finite(arr):
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = ", ".join(str(int(i)) for i in bad)
        fail(
            name,
            "finite (no NaN or inf)",
            None,
            shown=f"{name}[{where}]={arr[tuple(bad)].item()!r}",
        )


def shape_str(shape: Sequence[Any], names: Sequence[str]) -> str:
    """Write a shape with axis names: ``(batch, steps=5, features=2)``."""
    parts = []
    for n, s in zip(names, shape):
        parts.append(n if s is None else f"{n}={s}")
    return "(" + ", ".join(parts) + ")"
