"""Real data sets shipped with the package (no download at run time).

The CSV files live in the repository's ``data/`` folder and inside the wheel as
package data; ``data/SOURCES.md`` records where each came from.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from ._checks import check_choice

__all__ = ["load_airline", "load_basic_motions", "load_japanese_vowels", "load_sunspots"]


def data_dir() -> Path:
    """The folder that holds the CSV files: package data in a wheel, ``data/`` in a checkout."""
    packaged = Path(str(resources.files("keras_lstm_patterns"))) / "data"
    if (packaged / "airline.csv").is_file():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "data"
    if (checkout / "airline.csv").is_file():
        return checkout
    raise FileNotFoundError(
        f"The data files were not found in {packaged} nor in {checkout}; "
        "reinstall keras_lstm_patterns."
    )


def load_airline() -> pd.Series:
    """Monthly international airline passengers (thousands), 1949-01 to 1960-12.

    Returns:
        A float ``Series`` of 144 values indexed by month (``DatetimeIndex``).

    Raises:
        FileNotFoundError: the data files are neither in the installed package nor in
            the checkout's ``data/`` folder (reinstall the package).

    >>> load_airline().shape
    (144,)
    """
    frame = pd.read_csv(data_dir() / "airline.csv")
    index = pd.DatetimeIndex(pd.to_datetime(frame["Date"], format="%Y-%m"), name="month")
    return pd.Series(frame["Passengers"].to_numpy(dtype="float64"), index=index, name="passengers")


def load_sunspots() -> pd.Series:
    """Yearly sunspot activity, 1700 to 2008.

    Returns:
        A float ``Series`` of 309 values indexed by year (an integer index).

    Raises:
        FileNotFoundError: the data files are neither in the installed package nor in
            the checkout's ``data/`` folder (reinstall the package).

    >>> load_sunspots().shape
    (309,)
    """
    frame = pd.read_csv(data_dir() / "sunspots.csv")
    index = pd.Index(frame["YEAR"].astype(int), name="year")
    return pd.Series(frame["SUNACTIVITY"].to_numpy(dtype="float64"), index=index, name="sunspots")


def _load_long(stem: str, split: str) -> pd.DataFrame:
    check_choice("split", split, ("train", "test"))
    return pd.read_csv(data_dir() / f"{stem}_{split}.csv")


def load_japanese_vowels(split: str = "train") -> pd.DataFrame:
    """JapaneseVowels (UCI), nine speakers saying /ae/: 12 LPC features, lengths 7-29.

    Long ("tank") layout, one row per sample and step: ``sample, step, f1..f12, label``
    with ``label`` the speaker 1-9. Train has 270 samples, test 370. Turn it into
    ``(samples, steps, 12)`` with ``windows.tanks(frame, id="sample", time="step",
    features=[...], pad=0.0)``.

    Args:
        split: ``"train"`` or ``"test"``.

    Returns:
        A ``pandas.DataFrame`` with columns ``sample``, ``step`` (integers from 0),
        ``f1`` to ``f12`` (floats) and ``label`` (integer 1-9): 4274 rows for
        ``"train"``, 5687 for ``"test"``.

    Raises:
        ValueError: ``split`` is not ``"train"`` or ``"test"`` (an ``ArgumentError``
            naming it).
        FileNotFoundError: the data files are neither in the installed package nor in
            the checkout's ``data/`` folder (reinstall the package).

    >>> load_japanese_vowels("test")["sample"].nunique()
    370
    """
    return _load_long("japanese_vowels", split)


def load_basic_motions(split: str = "train") -> pd.DataFrame:
    """BasicMotions: accelerometer and gyroscope (6 features), 100 steps, 4 activities.

    Long layout ``sample, step, f1..f6, label``; 40 train and 40 test samples, labels
    ``Standing``, ``Running``, ``Walking``, ``Badminton``.

    Args:
        split: ``"train"`` or ``"test"``.

    Returns:
        A ``pandas.DataFrame`` with columns ``sample``, ``step`` (integers from 0),
        ``f1`` to ``f6`` (floats) and ``label`` (a string): 4000 rows (40 samples of 100
        steps) for either split.

    Raises:
        ValueError: ``split`` is not ``"train"`` or ``"test"`` (an ``ArgumentError``
            naming it).
        FileNotFoundError: the data files are neither in the installed package nor in
            the checkout's ``data/`` folder (reinstall the package).

    >>> load_basic_motions()["label"].nunique()
    4
    """
    return _load_long("basic_motions", split)
