"""`klp windows` on a CSV of several tanks: per-entity windows, time parsing, errors."""

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

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


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_semicolon_file_with_decimal_commas(tmp_path, capsys):
    lines = ["Tank ID;Timestamp;Pressure"]
    whole = write(tmp_path, "whole.csv", "\n".join([*lines, "A;2024-01-01;301"]) + "\n")
    lines += [f"A;2024-01-0{d}T00:00:00;30{d},5" for d in range(1, 7)]
    path = write(tmp_path, "semi.csv", "\n".join(lines) + "\n")
    keys = ["--id", "Tank ID", "--time", "Timestamp", "--look-back", "2"]
    code, _, err = run(capsys, whole, *keys)
    assert code == 2 and err == (
        "klp windows: error: --id: no column 'Tank ID' in whole.csv; columns: "
        'Tank ID;Timestamp;Pressure; the header holds ";": give --sep ";"\n'
    )
    code, _, err = run(capsys, whole, "--look-back", "2")  # no column named at all
    assert code == 2 and 'has no numeric column; the header holds ";": give --sep ";"' in err
    # read with commas, "301,5" splits in two: pandas would take the rest as row labels
    code, _, err = run(capsys, path, "--look-back", "2")
    assert code == 2 and err == (
        "klp windows: error: the rows of semi.csv have more fields than its header (Tank "
        'ID;Timestamp;Pressure); the header holds ";": give --sep ";"\n'
    )
    code, _, err = run(capsys, path, *keys, "--sep", ";")
    assert code == 2 and "(values such as '301,5': give --decimal ',')" in err
    code, _, err = run(capsys, path, *keys, "--sep", ";", "--features", "Pressure")
    assert code == 2 and "--features: column 'Pressure' of semi.csv is not numeric" in err
    assert "give --decimal ','" in err
    code, out, err = run(capsys, path, *keys, "--sep", ";", "--decimal", ",")
    assert code == 0, err
    assert "A: window 0: x=[301.5 302.5] -> y=303.5  (target at Timestamp=2024-01-03" in out
    code, _, err = run(capsys, path, "--look-back", "2", "--sep", ",", "--decimal", ",")
    assert code == 2 and err == (
        "klp windows: error: --sep and --decimal are both ','; a column separator cannot "
        "also mark decimals\n"
    )
    with pytest.raises(SystemExit) as exit_:
        main(["windows", str(path), "--look-back", "2", "--sep", ";;"])
    assert exit_.value.code == 2 and "argument --sep: expected one character" in (
        capsys.readouterr().err
    )


def test_a_column_of_numbers_with_a_marker_is_named(tmp_path, capsys):
    values = ["1", "2", "missing", "4", "5"]
    lines = "".join(f"{t},{v},{t}.5\n" for t, v in enumerate(values))
    path = write(tmp_path, "marker.csv", "t,P,T\n" + lines)
    code, out, err = run(capsys, path, "--time", "t", "--look-back", "1")
    assert code == 0 and "ignored non-numeric columns: P" in out and "features: T" in out
    assert (
        err == "note: column 'P' looks numeric (numbers, and 'missing': give --na-values missing)\n"
    )


def test_tab_separated(tmp_path, capsys):
    path = write(tmp_path, "tabs.tsv", "t\tP\n" + "".join(f"{t}\t{t}.5\n" for t in range(5)))
    code, out, err = run(capsys, path, "--time", "t", "--look-back", "2", "--sep", "\\t")
    assert code == 0, err
    assert "window 0: x=[0.5 1.5] -> y=2.5  (target at t=2)" in out


# Across the end of daylight-saving time in New York: 01:00 local happens twice.
DST = [
    ("2024-11-03T00:00:00-04:00", 1.0),
    ("2024-11-03T01:00:00-04:00", 2.0),
    ("2024-11-03T01:00:00-05:00", 3.0),
    ("2024-11-03T02:00:00-05:00", 4.0),
    ("2024-11-03T03:00:00-05:00", 5.0),
]


def test_utc_offsets_across_a_dst_change_become_utc(tmp_path, capsys):
    rows = [
        f"{tank},{stamp},{value + 10 * k}" for k, tank in enumerate("AB") for stamp, value in DST
    ]
    path = write(tmp_path, "dst.csv", "tank,ts,P\n" + "\n".join(rows[::-1]) + "\n")
    code, out, err = run(capsys, path, "--id", "tank", "--time", "ts", "--look-back", "3")
    assert code == 0, err  # five distinct hours, evenly spaced in UTC
    assert "times: UTC, converted from the offsets in the file" in out
    assert "entities: 2 (one per 'tank'), 5 steps each" in out
    assert "A: window 0: x=[1. 2. 3.] -> y=4.  (target at ts=2024-11-03 07:00:00+00:00)" in out
    assert "B: window 0: x=[11. 12. 13.] -> y=14." in out
    # the same stamps with --time-format and %z: the same UTC times
    code, out2, err = run(
        capsys, path, "--id", "tank", "--time", "ts", "--look-back", "3",
        "--time-format", "%Y-%m-%dT%H:%M:%S%z",
    )  # fmt: skip
    assert code == 0, err
    assert "A: window 0: x=[1. 2. 3.] -> y=4.  (target at ts=2024-11-03 07:00:00+00:00)" in out2


def test_local_wall_clock_times_repeat_an_hour(tmp_path, capsys):
    rows = [f"A,{stamp[:19]},{value}" for stamp, value in DST]  # offsets cut off
    path = write(tmp_path, "local.csv", "tank,ts,P\n" + "\n".join(rows) + "\n")
    code, _, err = run(capsys, path, "--id", "tank", "--time", "ts", "--look-back", "2")
    assert code == 2 and err.count("\n") == 1 and "2024-11-03 01:00:00" in err


def test_stamps_with_and_without_offsets_are_refused(tmp_path, capsys):
    rows = ["A,2024-11-03T00:00:00-04:00,1", "A,2024-11-03T01:00:00,2", "A,2024-11-03T02:00:00,3"]
    path = write(tmp_path, "mixed.csv", "tank,ts,P\n" + "\n".join(rows) + "\n")
    code, _, err = run(capsys, path, "--id", "tank", "--time", "ts", "--look-back", "1")
    assert code == 2 and err == (
        "klp windows: error: --time: column 'ts' mixes stamps with and without a UTC offset "
        "(row 1: '2024-11-03T01:00:00'); give one layout with --time-format\n"
    )
    rows[1] = "A,3/11/2024 01:00,2"
    path = write(tmp_path, "mixed.csv", "tank,ts,P\n" + "\n".join(rows) + "\n")
    code, _, err = run(capsys, path, "--id", "tank", "--time", "ts", "--look-back", "1")
    assert code == 2 and "mixes ISO 8601 stamps with others (row 1: '3/11/2024 01:00')" in err


@pytest.mark.parametrize(
    ("header", "args", "expected"),
    [
        ("t,P,row", ["--time", "t"], "x: (3, 2, 2)"),  # a real column called row ...
        ("P,row,series", [], "x: (3, 2, 3)"),  # ... and one called series: no clash
        ("t,P,row", ["--time", "t", "--features", "P,t"], "the --time column"),
        ("t,P,row", ["--time", "t", "--id", "row", "--features", "row"], "the --id column"),
        ("t,P,row", ["--time", "t", "--id", "t"], "--id and --time both name 't'"),
    ],
    ids=["row", "series", "features-time", "features-id", "id-is-time"],
)
def test_key_columns_never_clash_with_the_file(tmp_path, capsys, header, args, expected):
    path = write(
        tmp_path, "keys.csv", header + "\n" + "".join(f"{t},{t}.5,{t}\n" for t in range(5))
    )
    code, out, err = run(capsys, path, "--look-back", "2", *args)
    assert ("Traceback" not in err) and ("overlap" not in err)
    assert expected in (out if code == 0 else err), err
    if code == 2:
        assert err.count("\n") == 1
    elif "--time" not in args:
        assert (
            "window 0: x=[[0. 0.5 0. ] [1. 1.5 1. ]] -> y=[2.  2.5 2. ]  (target at row_=2)" in out
        )


def test_na_values_and_sentinels(tmp_path, capsys):
    values = ["1", "2", "-999", "4", "5", "missing", "7", "8"]
    path = write(tmp_path, "na.csv", "t,P\n" + "".join(f"{t},{v}\n" for t, v in enumerate(values)))
    code, _, err = run(capsys, path, "--time", "t", "--look-back", "1")
    assert code == 2 and err == (
        "klp windows: error: na.csv has no numeric column (numbers, and 'missing': give "
        "--na-values missing); name them with --features\n"
    )
    code, _, err = run(capsys, path, "--time", "t", "--look-back", "1", "--na-values=-999,missing")
    assert code == 2 and "--missing: the file has no 'P' at t=2 (2 missing values in all)" in err
    code, out, err = run(
        capsys, path, "--time", "t", "--look-back", "1", "--na-values=-999,missing",
        "--missing", "drop",
    )  # fmt: skip
    assert code == 0, err  # kept: 0->1, 3->4, 6->7; dropped: the four touching t=2 or t=5
    assert "windows: 3 in all, never across two entities; 4 of 7 dropped" in out
    # the option given twice: both values count, the same as the list
    again = run(
        capsys, path, "--time", "t", "--look-back", "1", "--na-values=-999",
        "--na-values", "missing", "--missing", "drop",
    )  # fmt: skip
    assert again[0] == 0 and again[1] == out


def test_the_grid_agrees_with_pandas_resample(tmp_path, capsys):
    """A half-hourly tank and an hourly one with a gap, on one hourly grid."""
    start = pd.Timestamp("2024-01-01", tz="UTC")
    a = [(start + pd.Timedelta(minutes=30 * i), 300.0 + i) for i in range(20)]
    b = [(start + pd.Timedelta(hours=i), 200.0 + 2 * i) for i in range(10) if i not in (4, 5)]
    rows = [("A", t, v) for t, v in a] + [("B", t, v) for t, v in b]
    frame = pd.DataFrame(rows, columns=["tank", "ts", "P"])
    path = tmp_path / "grid.csv"
    frame.assign(ts=frame["ts"].map(pd.Timestamp.isoformat)).sample(
        frac=1.0, random_state=1
    ).to_csv(path, index=False)
    code, _, err = run(capsys, path, "--id", "tank", "--time", "ts", "--look-back", "2")
    assert code == 2 and "(option --freq)" in err
    args = ["--id", "tank", "--time", "ts", "--look-back", "2", "--freq", "h", "--missing", "drop"]
    code, out, err = run(capsys, path, *args)
    assert code == 0, err
    # reference: pandas' resample on the union of the spans, then a plain window loop
    grid = frame.set_index("ts").groupby("tank")["P"].resample("h").mean().unstack(0)
    kept = {}
    for tank in grid:
        values = grid[tank].to_numpy()
        kept[tank] = [i for i in range(len(values) - 2) if not np.isnan(values[i : i + 3]).any()]
    total = sum(map(len, kept.values()))
    assert f"windows: {total} in all" in out
    assert f"per entity: A {len(kept['A'])}, B {len(kept['B'])}" in out
    first = grid["A"].to_numpy()[:3]  # the half-hourly tank: means of two readings
    assert f"A: first kept window: x=[{first[0]} {first[1]}] -> y={first[2]}" in out
    assert list(first) == [300.5, 302.5, 304.5]
    code, out, err = run(capsys, path, *args, "--fill", "interpolate", "--limit", "2")
    assert code == 0, err
    # reference: the short gap interpolated; windows whose target was filled dropped
    filled = grid.interpolate(limit=2, limit_area="inside")
    counts = {
        tank: sum(
            not filled[tank].iloc[i : i + 3].isna().any() and grid[tank].notna().iloc[i + 2]
            for i in range(len(grid) - 2)
        )
        for tank in grid
    }
    assert counts == {"A": 8, "B": 6}  # B's hours 4 and 5 filled, never targets
    assert f"per entity: A {counts['A']}, B {counts['B']}" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fill", "ffill"], "--fill works on a time grid: give --freq too"),
        (["--freq", "h", "--limit", "2"], "--limit caps what --fill fills"),
        (["--clean-ids"], "--clean-ids cleans the --id column: give --id too"),
        (["--freq", "fortnightly"], "(option --freq)"),
        (["--freq", "h", "--agg", "median_of_means"], "(option --agg)"),
    ],
    ids=["fill", "limit", "clean-ids", "freq", "agg"],
)
def test_grid_options_are_checked(tmp_path, capsys, args, message):
    path = write(
        tmp_path, "g.csv", "t,P\n" + "".join(f"2024-01-01T0{t}:00,{t}\n" for t in range(6))
    )
    code, _, err = run(capsys, path, "--time", "t", "--look-back", "2", *args)
    assert code == 2 and message in err and err.count("\n") == 1, err


# --- generated CSV files: the command against a plain reference --------------------------

FILES = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
OFFSETS = ["-05:00", "-04:00", "+00:00", "+01:00", "+05:30"]


def klp_windows(path, *args):
    """`klp windows` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["windows", str(path), *map(str, args)])
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def stamp(hours: float, offset: str) -> str:
    """The UTC instant 2024-03-01 + hours, written in local time with ``offset``."""
    utc = pd.Timestamp("2024-03-01", tz="UTC") + pd.Timedelta(hours=hours)
    return utc.tz_convert(offset.replace("+00:00", "UTC")).isoformat()


def reference_windows(grid, look_back, horizon, stride, targets, observed=None):
    """Per entity, the starts of the windows whose inputs and target steps are all
    present (and, with ``observed``, whose target steps were observed): a plain loop."""
    kept = []
    for e, values in enumerate(grid):
        starts = []
        for s in range(0, values.shape[0] - look_back - horizon + 1, stride):
            inputs = values[s : s + look_back]
            ahead = values[s + look_back : s + look_back + horizon][:, targets]
            ok = not np.isnan(inputs).any() and not np.isnan(ahead).any()
            if ok and observed is not None:
                ok = observed[e, s + look_back : s + look_back + horizon].all()
            if ok:
                starts.append(s)
        kept.append(starts)
    return kept


@st.composite
def regular_files(draw):
    """Tanks on one hourly clock, stamps written with random UTC offsets, some values
    empty, rows shuffled; and window sizes that may not fit."""
    tanks = draw(st.integers(1, 3))
    steps = draw(st.integers(2, 9))
    features = draw(st.integers(1, 2))
    cells = st.one_of(st.none(), st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: round(v, 3)))
    values = draw(
        st.lists(st.lists(cells, min_size=features, max_size=features), min_size=tanks * steps,
                 max_size=tanks * steps)
    )  # fmt: skip
    offsets = draw(
        st.lists(st.sampled_from(OFFSETS), min_size=tanks * steps, max_size=tanks * steps)
    )
    order = draw(st.permutations(range(tanks * steps)))
    look_back = draw(st.integers(1, 10))
    horizon = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    target = draw(st.integers(0, features - 1))
    return tanks, steps, features, values, offsets, order, look_back, horizon, stride, target


@FILES
@given(case=regular_files())
def test_generated_files_match_a_plain_loop(tmp_path, case):
    tanks, steps, features, values, offsets, order, look_back, horizon, stride, target = case
    names = [f"f{j}" for j in range(features)]
    rows = []
    for k in range(tanks * steps):
        tank, hour = divmod(k, steps)
        cells = ["" if v is None else repr(v) for v in values[k]]
        rows.append(",".join([f"T{tank}", stamp(hour, offsets[k]), *cells]))
    path = tmp_path / "generated.csv"
    path.write_text("\n".join(["tank,time," + ",".join(names)] + [rows[i] for i in order]) + "\n")
    code, out, err = klp_windows(
        path, "--id", "tank", "--time", "time", "--look-back", look_back, "--horizon", horizon,
        "--stride", stride, "--target", names[target], "--missing", "drop",
    )  # fmt: skip
    event(f"exit {code}, {'no window fits' if look_back + horizon > steps else 'fits'}")
    grid = np.array(
        [[[np.nan if v is None else v for v in values[t * steps + h]] for h in range(steps)]
         for t in range(tanks)]
    )  # fmt: skip
    if look_back + horizon > steps:
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
        assert "look_back" in err or "horizon" in err
        return
    kept = reference_windows(grid, look_back, horizon, stride, [target])
    total = sum(map(len, kept))
    if code == 2:  # every window dropped: refused, on one line naming the argument
        assert total == 0 and err.count("\n") == 1 and "Traceback" not in err, err
        return
    assert code == 0, err
    y_shape = f"({total}, 1)" if horizon == 1 else f"({total}, {horizon}, 1)"
    assert f"x: ({total}, {look_back}, {features})" in out and f"y: {y_shape}" in out
    assert "per entity: " + ", ".join(f"T{t} {len(s)}" for t, s in enumerate(kept)) in out
    for t, starts in enumerate(kept):  # the first kept window's target time, in UTC
        if starts:
            when = pd.Timestamp(stamp(starts[0] + look_back, "+00:00"))
            assert f"T{t}: first kept window: x=" in out
            assert f"(target at time={when})" in out


@st.composite
def irregular_files(draw):
    """Tanks logging at random half-hours with gaps and repeated readings, on an hourly
    grid; maybe a -999 sentinel."""
    tanks = draw(st.integers(1, 3))
    readings = []
    for tank in range(tanks):
        slots = draw(st.lists(st.integers(0, 23), min_size=1, max_size=14, unique=True))
        for slot in slots:
            value = draw(st.sampled_from([-999.0, 1.0, 2.5, 4.0, 10.0]))
            readings.append((f"T{tank}", slot, value, draw(st.sampled_from(OFFSETS))))
    look_back = draw(st.integers(1, 4))
    return readings, look_back


@FILES
@given(case=irregular_files())
def test_generated_irregular_files_on_one_grid_match_pandas(tmp_path, case):
    readings, look_back = case
    path = tmp_path / "irregular.csv"
    lines = [f"{t},{stamp(slot / 2, off)},{v}" for t, slot, v, off in readings]
    path.write_text("tank,time,P\n" + "\n".join(lines) + "\n")
    args = ["--id", "tank", "--time", "time", "--freq", "h", "--look-back", look_back]
    code, out, err = klp_windows(path, *args, "--na-values", "-999", "--missing", "drop")
    event(f"exit {code}")
    # reference: pandas' resample of the non-sentinel readings, on the union of the spans
    frame = pd.DataFrame(readings, columns=["tank", "slot", "P", "offset"])
    frame["time"] = pd.Timestamp("2024-03-01", tz="UTC") + pd.to_timedelta(
        frame["slot"] * 30, "min"
    )
    frame["P"] = frame["P"].where(frame["P"] != -999.0)
    hours = frame["time"].dt.floor("h")
    span = pd.date_range(hours.min(), hours.max(), freq="h")
    grid = np.stack(
        [
            part.set_index("time")["P"].resample("h").mean().reindex(span).to_numpy()[:, None]
            for _, part in frame.groupby("tank")
        ]
    )
    if look_back + 1 > len(span):
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
        assert "look_back" in err or "time grid" in err or "steps" in err
        return
    kept = reference_windows(grid, look_back, 1, 1, [0])
    total = sum(map(len, kept))
    if code == 2:
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert total == 0 or np.isnan(grid).all(axis=(1, 2)).any(), err
        return
    assert code == 0, err
    assert f"x: ({total}, {look_back}, 1)" in out
    assert f"entities: {grid.shape[0]} (one per 'tank'), {len(span)} steps each" in out


def test_year_month_stamps_are_read_as_iso(capsys):
    """`1949-01` is ISO 8601 (a month): read without --time-format, never day-first."""
    root = Path(__file__).resolve().parent.parent
    code, _, err = run(capsys, root / "data" / "airline.csv", "--time", "Date", "--look-back", "3")
    assert "--time-format" not in err and "%d/%m/%Y" not in err
    assert code == 0 or "(option --freq)" in err  # parsed: only the spacing is in question


def test_monthly_series_by_time(capsys):
    """Monthly stamps ("1949-01") are a regular calendar grid, as in 0.1."""
    root = Path(__file__).resolve().parent.parent
    code, out, err = run(
        capsys, root / "data" / "airline.csv", "--time", "Date", "--look-back", "12"
    )
    assert code == 0, err
    assert "entities: 1, 144 steps each" in out and "x: (132, 12, 1)" in out
    assert "-> y=115.  (target at Date=1950-01-01" in out
    code, out, err = run(
        capsys, root / "data" / "airline.csv", "--time", "Date", "--look-back", "3"
    )
    assert code == 0, err
    assert "window 0: x=[112. 118. 132.] -> y=129.  (target at Date=1949-04-01" in out


def test_clean_ids_and_drop_duplicates_are_the_options_of_tanks(tmp_path, capsys):
    """--clean-ids and --drop-duplicates are tanks(clean_ids=True, duplicates="drop"):
    the same windows as the file cleaned by pandas (strip/upper, then drop_duplicates)."""
    stamps = pd.date_range("2024-11-03 02:00", periods=8, freq="h", tz="UTC")
    local = stamps.tz_convert("America/New_York").map(lambda t: t.isoformat())
    rows = [
        (tank, t, 100.0 * k + i)
        for k, tank in enumerate(["T-01", "T-02"])
        for i, t in enumerate(local)
    ]
    clean = pd.DataFrame(rows, columns=["tank_id", "timestamp", "pressure"])
    messy = clean.assign(
        tank_id=[
            [" t-01", "T-01 "][i % 2] if t == "T-01" else t for i, t in enumerate(clean["tank_id"])
        ]
    )
    messy = pd.concat([messy, messy.iloc[[2, 11]], clean.iloc[[3]]])  # 3 duplicates
    reference = messy.assign(tank_id=messy["tank_id"].str.strip().str.upper()).drop_duplicates()
    assert len(reference) == len(clean)
    options = ["--id", "tank_id", "--time", "timestamp", "--look-back", "3"]
    code, expected, err = klp_windows(
        write(tmp_path, "ref.csv", reference.to_csv(index=False)), *options
    )
    assert code == 0, err
    path = write(tmp_path, "messy.csv", messy.to_csv(index=False))
    code, out, err = klp_windows(path, *options, "--clean-ids", "--drop-duplicates")
    assert code == 0, err
    assert "(3 exact duplicates dropped)" in out
    assert out.split("\n", 1)[1] == expected.split("\n", 1)[1]  # all but the file line
    code, _, err = klp_windows(path, *options)
    assert code == 2 and "clean_ids=True" in err and "On the command line: --clean-ids." in err
    code, _, err = klp_windows(path, *options, "--clean-ids")
    assert code == 2 and 'duplicates="drop"' in err and "--drop-duplicates." in err


def test_a_grid_with_sentinels_does_not_look_padded(tmp_path, capsys):
    """Two hourly tanks, -999 sentinels, --missing drop: a tank ending in two equal whole
    readings is not padding; the command passes the index, so no warning."""
    pressures = {
        "A": [300, 301, -999, 302, 303, 305, 305],
        "B": [200.5, 201.5, 202.5, -999, 203.5, 204.5, 205.5],
    }
    lines = ["tank,time,P"] + [
        f"{tank},2024-01-01T0{h}:00:00+00:00,{p}"
        for tank, values in pressures.items()
        for h, p in enumerate(values)
    ]
    path = write(tmp_path, "two.csv", "\n".join(lines) + "\n")
    code, out, err = klp_windows(
        path, "--id", "tank", "--time", "time", "--freq", "h", "--na-values", "-999",
        "--missing", "drop", "--look-back", "2",
    )  # fmt: skip
    assert code == 0, err
    assert "looks padded" not in err and "warning" not in err
    assert "windows: 4 in all" in out
