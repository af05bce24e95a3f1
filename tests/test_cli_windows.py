"""`klp windows` on a CSV of several tanks: per-entity windows, time parsing, errors."""

import numpy as np
import pandas as pd
import pytest

from keras_lstm_patterns.cli import main


@pytest.fixture
def sensors(tmp_path):
    """Three tanks, 10 days each, day/month/year text stamps, rows shuffled."""
    rows = []
    for k, tank in enumerate("ABC"):
        for t in range(10):
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=t)
            rows.append((tank, f"{day.day}/{day.month}/{day.year}", 100.0 * k + t, 20.0 + k))
    frame = pd.DataFrame(rows, columns=["tank_id", "timestamp", "pressure", "temperature"])
    path = tmp_path / "sensors.csv"
    frame.sample(frac=1.0, random_state=0).to_csv(path, index=False)
    return path


def run(capsys, *args):
    try:
        code = main(["windows", *map(str, args)])
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_windows_per_tank_in_real_time_order(sensors, capsys):
    code, out, err = run(
        capsys, sensors, "--id", "tank_id", "--time", "timestamp", "--time-format", "%d/%m/%Y",
        "--features", "pressure,temperature", "--target", "pressure", "--look-back", "3",
    )  # fmt: skip
    assert code == 0, err
    assert "entities: 3 (one per 'tank_id'), 10 steps each" in out
    assert "windows: 7 per entity, 21 in all" in out
    assert "x: (21, 3, 2)" in out and "y: (21, 1)" in out and "targets: pressure" in out
    # tank B's first window: days 1-3 (pressures 100, 101, 102), target day 4 = 103
    assert "B: window 0: x=[[100. 21.] [101. 21.] [102. 21.]] -> y=103." in out
    assert "target at timestamp=2024-01-04" in out
    assert "split --train 0.67: steps 0-5 train (9 windows), steps 6-9 test (12 windows" in out


def test_text_times_are_refused_with_the_flag_to_use(sensors, capsys):
    code, _, err = run(
        capsys, sensors, "--id", "tank_id", "--time", "timestamp", "--look-back", "3"
    )
    assert code == 2 and "Traceback" not in err
    assert "`time` must be a datetime" in err and "--time-format '%d/%m/%Y'" in err


def test_without_id_the_ignored_columns_are_named(sensors, capsys):
    code, out, err = run(capsys, sensors, "--look-back", "2")
    assert code == 0, err
    assert "ignored non-numeric columns: tank_id, timestamp" in out
    assert "entities: 1, 30 steps each; features: pressure, temperature" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--look-back", "3", "--show", "-1"], "argument --show: expected an integer >= 0"),
        (["--look-back", "0"], "argument --look-back: expected a positive integer"),
        (["--look-back", "3", "--column", "timestamp"], "column 'timestamp' of sensors.csv is not"),
        (["--look-back", "3", "--id", "tank_id"], "--id needs --time"),
        (["--look-back", "3", "--features", "pressure", "--target", "temperature"], "--target"),
        (["--look-back", "3", "--id", "nope", "--time", "timestamp"], "no column 'nope'"),
        (["--look-back", "3", "--train", "2"], "argument --train: expected a fraction"),
        (
            ["--look-back", "3", "--id", "tank_id", "--time", "timestamp", "--time-format", "%Y"],
            "column 'timestamp' does not match --time-format '%Y'",
        ),
    ],
    ids=["show", "look-back", "text-column", "id-no-time", "target", "id", "train", "format"],
)
def test_windows_usage_errors(sensors, capsys, args, message):
    code, _, err = run(capsys, sensors, *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_nan_is_named_by_csv_row_and_column(tmp_path, capsys):
    path = tmp_path / "gaps.csv"
    pd.DataFrame({"P": [1.0, 2.0, np.nan, 4.0, 5.0]}).to_csv(path, index=False)
    code, _, err = run(capsys, path, "--look-back", "2")
    assert code == 2 and err == (
        "klp windows: error: --missing: the file has no 'P' at row=2 (1 missing value in "
        "all); give --missing drop to keep only the windows whose steps are all present, or "
        "fill short gaps with --freq, --fill and --limit\n"
    )
    code, out, err = run(capsys, path, "--look-back", "1", "--missing", "drop")
    assert code == 0, err  # windows 0-1 -> 2 and 1-2 -> 3 touch the missing row 2
    assert "windows: 2 in all, never across two entities; 2 of 4 dropped" in out
    assert "x: (2, 1, 1)" in out and "first kept window: x=[1.] -> y=2." in out


def test_binary_file_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "blob.csv"
    path.write_bytes(bytes(range(256)) * 4)
    code, _, err = run(capsys, path, "--look-back", "2")
    assert code == 2 and "could not be read as a CSV text file" in err


def test_one_series_warns_when_text_columns_may_name_entities(sensors, capsys):
    code, _, err = run(capsys, sensors, "--look-back", "2")
    assert code == 0
    assert "note: without --id and --time the whole file is one series, in file row order" in err


def test_time_without_id_on_several_tanks_asks_for_id(sensors, capsys):
    args = [sensors, "--time", "timestamp", "--time-format", "%d/%m/%Y", "--look-back", "2"]
    code, _, err = run(capsys, *args)
    assert code == 2 and "'timestamp' repeats within the file" in err and "--id" in err


def test_the_suggested_time_format_has_the_stamps_layout(tmp_path, capsys):
    path = tmp_path / "hours.csv"
    pd.DataFrame(
        {"tank": ["A"] * 3, "ts": ["01/06/2024 17:00", "01/06/2024 18:00", "01/06/2024 19:00"],
         "P": [1.0, 2.0, 3.0]}
    ).to_csv(path, index=False)  # fmt: skip
    code, _, err = run(capsys, path, "--id", "tank", "--time", "ts", "--look-back", "1")
    assert code == 2 and "--time-format '%d/%m/%Y %H:%M'" in err
    code, out, err = run(
        capsys, path, "--id", "tank", "--time", "ts", "--time-format", "%d/%m/%Y %H:%M",
        "--look-back", "1",
    )  # fmt: skip
    assert code == 0, err
    assert "target at ts=2024-06-01 18:00:00" in out


def test_unequal_lengths_say_what_to_do(sensors, tmp_path, capsys):
    frame = pd.read_csv(sensors)
    short = frame.drop(frame.index[(frame["tank_id"] == "B")][:2])
    path = tmp_path / "short.csv"
    short.to_csv(path, index=False)
    args = [path, "--id", "tank_id", "--time", "timestamp", "--time-format", "%d/%m/%Y"]
    code, _, err = run(capsys, *args, "--look-back", "2")
    assert code == 2 and "`freq` must be given when readings are not evenly spaced" in err
    assert err.endswith("(option --freq)\n") and err.count("\n") == 1
    code, out, err = run(capsys, *args, "--look-back", "2", "--freq", "D", "--missing", "drop")
    assert code == 0, err
    assert "entities: 3 (one per 'tank_id'), 10 steps each on one time grid (--freq D)" in out


@pytest.fixture
def no_keras(monkeypatch):
    """Keras and TensorFlow cannot be imported, and the package's data modules are
    imported afresh: whatever `klp windows` runs must not need Keras."""
    import sys

    import keras_lstm_patterns as package

    for name in ("keras", "tensorflow", "jax", "torch"):
        monkeypatch.setitem(sys.modules, name, None)  # `import keras` raises ImportError
    for name in ("windows", "series", "streaming"):
        monkeypatch.delitem(sys.modules, f"keras_lstm_patterns.{name}", raising=False)
        monkeypatch.delitem(package.__dict__, name, raising=False)  # no lazy import
    return sys.modules


@pytest.mark.parametrize(
    "args",
    [
        ["--look-back", "3", "--features", "nope"],
        ["--look-back", "3", "--id", "tank_id", "--time", "timestamp"],
        [
            "--look-back",
            "99",
            "--time",
            "timestamp",
            "--time-format",
            "%d/%m/%Y",
            "--id",
            "tank_id",
        ],
        ["--look-back", "3", "--id", "tank_id", "--time", "timestamp", "--time-format", "%d/%m/%Y"],
    ],
    ids=["column", "text-time", "look-back", "success"],
)
def test_windows_imports_no_keras(sensors, capsys, no_keras, args):
    code, out, err = run(capsys, sensors, *args)
    assert code == (0 if "%d/%m/%Y" in args and "99" not in args else 2), err
    assert err.count("\n") == (0 if code == 0 else 1) and "Traceback" not in err
    assert ("x: (21, 3, 2)" in out) == (code == 0)
    assert no_keras["keras"] is None and no_keras["tensorflow"] is None
