"""Real exports to one time grid: tanks, TankIndex, and windows that skip missing steps.

Every repair is checked against pandas (``groupby(id).resample(freq).agg(agg)`` on UTC
times) or a plain loop; every refusal by its message.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keras_lstm_patterns import series, windows
from keras_lstm_patterns.series import TankIndex, tanks

START = pd.Timestamp("2024-03-30 20:00", tz="UTC")


def export(seed=0):
    """A small realistic export: offsets across a DST change (as text), a 30-minute tank,
    a late tank, a gap, empty cells, -999 sentinels; rows shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    hourly = pd.date_range(START, periods=30, freq="h")
    for tank in ["T-01", "T-02"]:
        for k, t in enumerate(hourly):
            if tank == "T-02" and 10 <= k < 14:  # a 4-hour gap
                continue
            rows.append((tank, t, 300 + rng.normal(), 20 + rng.normal()))
    for t in pd.date_range(START, periods=60, freq="30min"):
        rows.append(("T-03", t, 250 + rng.normal(), 15 + rng.normal()))
    for t in hourly[12:]:
        rows.append(("T-04", t, 280 + rng.normal(), 18 + rng.normal()))
    frame = pd.DataFrame(rows, columns=["tank", "time", "P", "T"])
    frame.loc[[5, 40], "P"] = -999.0
    frame.loc[7, "T"] = np.nan
    frame["time"] = frame["time"].dt.tz_convert("Europe/Paris").map(lambda t: t.isoformat())
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def parsed(frame):
    return frame.assign(time=pd.to_datetime(frame["time"], format="ISO8601", utc=True))


def reference_grid(frame, freq, agg, features, na_values=()):
    """pandas as the reference: per tank resample on UTC times, onto the union of spans."""
    f = parsed(frame) if frame["time"].dtype != "datetime64[ns, UTC]" else frame
    f = f.copy()
    for c in features:
        f[c] = f[c].where(~f[c].isin(list(na_values)))
    origin = f["time"].min().normalize()
    parts, observed = {}, {}
    for tank, part in f.groupby("tank"):
        r = part.set_index("time")[features].resample(freq, origin=origin)
        parts[tank] = r.agg(agg)
        observed[tank] = (r.count() > 0).all(axis=1)
    grid = pd.date_range(
        min(p.index.min() for p in parts.values()),
        max(p.index.max() for p in parts.values()),
        freq=freq,
    )
    x = np.stack([parts[t].reindex(grid).to_numpy() for t in sorted(parts)])
    obs = np.stack([observed[t].reindex(grid, fill_value=False).to_numpy() for t in sorted(parts)])
    return x, obs, grid


# --- one time grid, against pandas ------------------------------------------------------


@pytest.mark.parametrize("agg", ["mean", "median", "min", "max", "first", "last"])
@pytest.mark.parametrize("freq", ["h", "30min", "2h"])
def test_grid_equals_pandas_resample(agg, freq):
    frame = parsed(export())
    x, index = tanks(
        frame,
        id="tank",
        time="time",
        features=["P", "T"],
        freq=freq,
        agg=agg,
        na_values=[-999],
        return_index=True,
    )
    rx, robs, grid = reference_grid(frame, freq, agg, ["P", "T"], na_values=[-999])
    np.testing.assert_allclose(x, rx, equal_nan=True)
    np.testing.assert_array_equal(index.observed, robs)
    assert list(index.ids) == ["T-01", "T-02", "T-03", "T-04"]
    assert (index.times[0] == grid).all() and index.times[3] is index.grid
    assert str(index.grid.tz) == "UTC"


def test_observed_is_a_finite_non_sentinel_reading_of_every_feature():
    frame = parsed(export())
    x, index = tanks(
        frame,
        id="tank",
        time="time",
        features=["P", "T"],
        freq="h",
        na_values=-999,
        return_index=True,
    )
    # the reference: a loop over the rows
    expected = np.zeros((*index.observed.shape, 2), dtype=bool)
    grid = list(index.grid)
    for row in frame.itertuples():
        e = list(index.ids).index(row.tank)
        k = grid.index(row.time.floor("h"))
        for f, v in enumerate([row.P, row.T]):
            if np.isfinite(v) and v != -999:
                expected[e, k, f] = True
    np.testing.assert_array_equal(index.observed, expected.all(axis=2))
    # the late tank is missing before it started, the gap is missing
    assert not index.observed[3, :12].any() and index.observed[3, 12:].all()
    assert not index.observed[1, 10:14].any()
    assert np.isnan(x[3, :12]).all()


def test_tz_aware_and_mixed_offsets_become_utc():
    frame = export()
    # a column of datetime objects with mixed offsets (object dtype)
    objects = frame.assign(time=[pd.Timestamp(t).to_pydatetime() for t in frame["time"]])
    assert objects["time"].dtype == object
    paris = parsed(frame).assign(time=lambda f: f["time"].dt.tz_convert("Europe/Paris"))
    a = tanks(parsed(frame), id="tank", time="time", features="P", freq="h")
    b = tanks(objects, id="tank", time="time", features="P", freq="h")
    c, index = tanks(paris, id="tank", time="time", features="P", freq="h", return_index=True)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert index.grid[0] == START and str(index.grid.tz) == "UTC"


def test_iso_text_with_offsets_is_read_as_utc():
    """ISO 8601 text whose stamps carry offsets (mixed across a DST change) names
    instants: tanks reads it as pandas does with format="ISO8601", utc=True."""
    frame = export()
    assert frame["time"].str.endswith("+02:00").any()  # text
    assert frame["time"].str.endswith("+01:00").any()  # offsets mixed
    x, index = tanks(frame, id="tank", time="time", features="P", freq="h", return_index=True)
    reference, _, grid = reference_grid(frame, "h", "mean", ["P"])
    np.testing.assert_array_equal(x, reference)
    assert index.grid.equals(pd.DatetimeIndex(grid, name="time").as_unit(index.grid.unit))
    assert str(index.grid.tz) == "UTC"
    zoned = pd.DataFrame(
        {"id": "a", "t": ["2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00"], "x": [1.0, 2]}
    )
    _, index = tanks(zoned, id="id", time="t", features="x", return_index=True)
    assert list(index.grid) == list(pd.to_datetime(zoned["t"], format="ISO8601", utc=True))


def test_text_with_offsets_not_in_iso_suggests_a_line_that_works_when_pasted():
    stamps = pd.date_range("2024-11-03 04:00", periods=4, freq="h", tz="UTC")
    text = stamps.tz_convert("America/New_York").strftime("%d/%m/%Y %H:%M:%S %z")
    frame = pd.DataFrame({"id": "a", "t": text, "x": np.arange(4.0)})
    with pytest.raises(ValueError, match=r'format="%d/%m/%Y %H:%M:%S %z", utc=True') as info:
        tanks(frame, id="id", time="t", features="x")
    assert info.value.name == "time"
    line = info.value.rule.split("Parse it first: ", 1)[1].split(" -- ", 1)[0]
    namespace = {"pd": pd, "frame": frame.copy()}
    exec(line, namespace)  # the suggested line, pasted as it is
    _, index = tanks(namespace["frame"], id="id", time="t", features="x", return_index=True)
    assert list(index.grid) == list(stamps)


@pytest.mark.parametrize(
    "stamps",
    [
        ["2024-11-03T01:00:00", "2024-11-03T02:00:00"],
        ["2024-11-03T01:00:00-04:00", "2024-11-03T02:00:00"],
    ],
    ids=["no-offsets", "some-offsets"],
)
def test_iso_text_without_every_offset_is_still_refused(stamps):
    frame = pd.DataFrame({"id": "a", "t": stamps, "x": [1.0, 2.0]})
    some = stamps[0].endswith("-04:00")
    if some:  # never the utc=True line: it would read the bare local 02:00 as 02:00 UTC
        rule = r"all carry their UTC offset or none does.*frame.loc\[1, 't'\]='2024-11-03T02:00:00'"
    else:
        rule = r"`time` must be a datetime.*Parse it first: frame\['t'\]"
    with pytest.raises(ValueError, match=rule) as info:
        tanks(frame, id="id", time="t", features="x")
    assert info.value.name == "time"
    assert "utc=True" not in str(info.value)


def test_text_without_offsets_keeps_the_day_first_hint():
    frame = pd.DataFrame(
        {"id": ["a", "a"], "t": ["01/06/2024 17:00", "01/06/2024 18:00"], "x": [1.0, 2]}
    )
    with pytest.raises(ValueError, match=r'format="%d/%m/%Y %H:%M"\).*never guessed'):
        tanks(frame, id="id", time="t", features="x")


def test_irregular_spacing_is_refused_naming_tank_stamps_and_fix():
    frame = parsed(export()).query("tank != 'T-03' and tank != 'T-04'")
    with pytest.raises(ValueError) as info:
        tanks(frame, id="tank", time="time", features="P")
    err = info.value
    assert err.name == "freq"
    assert "tank='T-02': 2024-03-31 05:00:00+00:00 followed by 2024-03-31 10:00:00+00:00" in str(
        err
    )
    assert "usual interval is 0 days 01:00:00" in str(err) and "freq='h'" in str(err)


def test_tanks_at_different_intervals_are_refused():
    frame = parsed(export()).query("tank in ['T-01', 'T-03']")
    frame = frame[~((frame["tank"] == "T-01") & frame["P"].isna())]
    with pytest.raises(
        ValueError,
        match=r"`freq` must be given.*tank='T-01' every 0 days 01:00:00 and tank='T-03' every 0 days 00:30:00; e.g. freq='30min'",
    ):
        tanks(frame, id="tank", time="time", features="P")


def test_tanks_over_different_times_are_refused_without_freq():
    frame = pd.DataFrame({"id": list("aabb"), "t": [0, 1, 1, 2], "x": [1.0, 2, 3, 4]})
    with pytest.raises(
        ValueError,
        match=r"`freq` must be given when the tanks cover different times.*id='a' from 0 and id='b' from 1; e.g. freq=1",
    ):
        tanks(frame, id="id", time="t", features="x")
    x = tanks(frame, id="id", time="t", features="x", freq=1)
    np.testing.assert_array_equal(x[..., 0], [[1, 2, np.nan], [np.nan, 3, 4]])


def test_a_repeated_local_hour_says_so():
    frame = parsed(export()).query("tank == 'T-01'").sort_values("time")
    local = frame.assign(time=frame["time"].dt.tz_convert("Europe/London").dt.tz_localize(None))
    # 2024-03-31 01:00 UTC is when London springs forward: no repeat; use the autumn one
    autumn = pd.date_range("2024-10-26 22:00", periods=6, freq="h", tz="UTC")
    wall = autumn.tz_convert("Europe/London").tz_localize(None)
    f = pd.DataFrame({"tank": "A", "time": wall, "P": np.arange(6.0)})
    with pytest.raises(
        ValueError,
        match=r"one row per \(tank, time\).*daylight saving.*utc=True.*tz_localize.*Received: 1 repeated stamp\(s\); tank='A', time=2024-10-27 01:00:00 in rows 2 and 3",
    ):
        tanks(f, id="tank", time="time", features="P")
    assert len(local) == 30
    # read with offsets, the same stamps are one clock
    x = tanks(f.assign(time=autumn), id="tank", time="time", features="P")
    np.testing.assert_array_equal(x[0, :, 0], np.arange(6.0))


def test_ids_differing_by_spaces_or_case_are_refused_with_the_fix():
    frame = parsed(export())
    first = frame.index[:3]
    changes = [str.lower, lambda v: v + " ", lambda v: " " + v.lower()]
    frame.loc[first, "tank"] = [f(v) for f, v in zip(changes, frame.loc[first, "tank"])]
    variants = sorted(frame.loc[first, "tank"])
    with pytest.raises(ValueError) as info:
        tanks(frame, id="tank", time="time", features="P", freq="h")
    assert info.value.name == "id"
    text = str(info.value)
    assert "frame['tank'] = frame['tank'].str.strip().str.upper()" in text
    for v in variants:
        assert repr(v) in text
    fixed = frame.assign(tank=frame["tank"].str.strip().str.upper())
    assert tanks(fixed, id="tank", time="time", features="P", freq="h").shape[0] == 4


def test_exact_duplicate_rows_are_refused_with_count_labels_and_fix():
    frame = parsed(export())
    doubled = pd.concat([frame, frame.iloc[[4, 9, 9]]])
    with pytest.raises(
        ValueError,
        match=r"drop_duplicates\(\).*Received: 3 exact duplicate row\(s\), row labels 4, 9, 9",
    ):
        tanks(doubled, id="tank", time="time", features="P", freq="h")
    x = tanks(doubled.drop_duplicates(), id="tank", time="time", features="P", freq="h")
    np.testing.assert_array_equal(x, tanks(frame, id="tank", time="time", features="P", freq="h"))


def test_duplicates_drop_matches_pandas_drop_duplicates():
    """duplicates="drop" is frame.drop_duplicates() then the grid; a row that differs in
    one value at the same (id, time) is never dropped (agg combines it)."""
    frame = export()
    near = frame.iloc[[3]].assign(P=frame["P"].iloc[3] + 1.0)  # same tank and time
    doubled = pd.concat([frame, frame.iloc[[4, 9, 9]], near])
    x, index = tanks(
        doubled,
        id="tank",
        time="time",
        features=["P", "T"],
        freq="h",
        duplicates="drop",
        return_index=True,
    )
    reference = doubled.drop_duplicates()
    assert len(reference) == len(frame) + 1
    np.testing.assert_array_equal(
        x, tanks(reference, id="tank", time="time", features=["P", "T"], freq="h")
    )
    assert index.report()["rows"].sum() == len(reference)
    with pytest.raises(
        ValueError,
        match=r'duplicates="drop".*drop_duplicates\(\).*Received: 3 exact duplicate row\(s\)',
    ):
        tanks(doubled, id="tank", time="time", features="P", freq="h")


def test_clean_ids_matches_pandas_strip_upper():
    frame = export()
    messy = frame.assign(
        tank=[
            [" ", "", "\t"][k % 3] + (t.lower() if k % 2 else t) + [" ", ""][k % 2]
            for k, t in enumerate(frame["tank"])
        ]
    )
    assert messy["tank"].nunique() > 4
    x, index = tanks(
        messy,
        id="tank",
        time="time",
        features="P",
        freq="h",
        clean_ids=True,
        return_index=True,
    )
    reference = messy.assign(tank=messy["tank"].str.strip().str.upper())
    y, ref_index = tanks(
        reference, id="tank", time="time", features="P", freq="h", return_index=True
    )
    np.testing.assert_array_equal(x, y)
    assert list(index.ids) == list(ref_index.ids) == ["T-01", "T-02", "T-03", "T-04"]
    assert messy["tank"].iloc[0] == [" ", "", "\t"][0] + frame["tank"].iloc[0] + " "  # unchanged
    with pytest.raises(ValueError, match=r"`id` must be one spelling per tank.*`clean_ids=True`"):
        tanks(messy, id="tank", time="time", features="P", freq="h")


def test_clean_ids_then_duplicates_drop_matches_pandas():
    """Rows that repeat once their ids are cleaned are exact duplicates: both options
    together are strip/upper, then drop_duplicates, then the grid."""
    frame = export()
    again = frame.iloc[:5].assign(tank=lambda f: " " + f["tank"].str.lower())
    both = pd.concat([frame, again])
    x = tanks(
        both,
        id="tank",
        time="time",
        features=["P", "T"],
        freq="h",
        clean_ids=True,
        duplicates="drop",
    )
    reference = both.assign(tank=both["tank"].str.strip().str.upper()).drop_duplicates()
    assert len(reference) == len(frame)
    np.testing.assert_array_equal(
        x, tanks(reference, id="tank", time="time", features=["P", "T"], freq="h")
    )
    numbers = pd.DataFrame({"id": [2, 1, 1], "t": [0, 0, 0], "x": [1.0, 2.0, 2.0]})
    np.testing.assert_array_equal(
        tanks(numbers, id="id", time="t", features="x", clean_ids=True, duplicates="drop"),
        [[[2.0]], [[1.0]]],
    )


def test_sentinels_and_empty_cells_are_missing_and_reported():
    frame = parsed(export())
    x, index = tanks(
        frame, id="tank", time="time", features=["P", "T"], freq="h", return_index=True
    )
    report = index.report()
    assert list(report.columns) == [
        "rows",
        "first",
        "last",
        "interval",
        "steps",
        "missing",
        "filled",
        "longest_gap",
        "sentinels",
    ]
    assert report.loc["T-03", "interval"] == pd.Timedelta("30min")
    assert report.loc["T-02", "longest_gap"] == pd.Timedelta("5h")
    assert report.loc["T-04", "first"] == START + pd.Timedelta("12h")
    assert report.loc["T-04", "steps"] == 18 and report.loc["T-01", "steps"] == 30
    assert report.loc["T-02", "missing"] == 4 + int(np.isnan(x[1]).any(axis=1).sum() - 4)
    # -999 is kept as a reading without na_values: it shows as a sentinel candidate
    n999 = frame.groupby("tank")["P"].apply(lambda s: int((s == -999).sum()))
    for tank, n in n999.items():
        if n >= 2:
            assert f"P: -999 ({n} rows)" in report.loc[tank, "sentinels"]
    _, clean = tanks(
        frame,
        id="tank",
        time="time",
        features=["P", "T"],
        freq="h",
        na_values=[-999],
        return_index=True,
    )
    assert (clean.report()["sentinels"] == "").all()


def test_sentinel_candidates_against_a_loop():
    rng = np.random.default_rng(3)
    v = rng.normal(300, 2, size=(40, 1))
    v[[3, 17, 30]] = -999.0
    v[[5, 6]] = 9999.0
    out = series._sentinel_candidates(v, np.zeros(40, dtype=np.int64), np.array([0]), ["P"])
    assert out == ["P: -999 (3 rows); P: 9999 (2 rows)"]
    plain = rng.normal(size=(40, 1)).round(1)  # ties but no far extreme
    assert series._sentinel_candidates(
        plain, np.zeros(40, dtype=np.int64), np.array([0]), ["P"]
    ) == [""]


# --- fill and limit ---------------------------------------------------------------------


def reference_fill(row, span, how, limit):
    """A loop: runs of NaN inside the span, filled only when at most `limit` long."""
    out = row.copy()
    t = 0
    while t < len(row):
        if span[t] and np.isnan(row[t]):
            s = t
            while t < len(row) and span[t] and np.isnan(row[t]):
                t += 1
            left = s - 1 if s > 0 and span[s - 1] and not np.isnan(row[s - 1]) else None
            right = t if t < len(row) and span[t] and not np.isnan(row[t]) else None
            n = t - s
            if limit is not None and n > limit:
                continue
            if how == "ffill" and left is not None:
                out[s:t] = row[left]
            if how == "interpolate" and left is not None and right is not None:
                out[s:t] = row[left] + (row[right] - row[left]) * np.arange(1, n + 1) / (n + 1)
        else:
            t += 1
    return out


@pytest.mark.parametrize("how", ["ffill", "interpolate"])
@pytest.mark.parametrize("limit", [None, 1, 2, 4])
def test_fill_with_limit_matches_a_loop(how, limit):
    rng = np.random.default_rng(5)
    rows = []
    for tank, (first, last) in {"a": (0, 39), "b": (5, 30), "c": (12, 39)}.items():
        for t in range(first, last + 1):
            if rng.random() < 0.3 and first < t < last:
                continue  # no row: a gap
            rows.append((tank, t, rng.normal() if rng.random() > 0.1 else np.nan))
    frame = pd.DataFrame(rows, columns=["tank", "t", "x"])
    raw, index = tanks(frame, id="tank", time="t", features="x", freq=1, return_index=True)
    got, filled = tanks(
        frame, id="tank", time="t", features="x", freq=1, fill=how, limit=limit, return_index=True
    )
    span = np.zeros(raw.shape[:2], dtype=bool)
    for e, (first, last) in enumerate([(0, 39), (5, 30), (12, 39)]):
        span[e, first : last + 1] = True
    for e in range(3):
        np.testing.assert_allclose(
            got[e, :, 0], reference_fill(raw[e, :, 0], span[e], how, limit), equal_nan=True
        )
    assert np.isnan(got[1, :5]).all() and np.isnan(got[1, 31:]).all()  # nothing outside a span
    np.testing.assert_array_equal(filled.observed, index.observed)  # filled is not observed
    assert (
        filled.report()["filled"] == (~filled.observed & ~np.isnan(got[..., 0]) & span).sum(axis=1)
    ).all()


def test_a_run_longer_than_limit_stays_missing_as_a_whole():
    frame = pd.DataFrame({"id": "a", "t": [0, 1, 5, 6, 8], "x": [0.0, 1, 5, 6, 8]})
    x = tanks(frame, id="id", time="t", features="x", freq=1, fill="interpolate", limit=2)
    np.testing.assert_array_equal(x[0, :, 0], [0, 1, np.nan, np.nan, np.nan, 5, 6, 7, 8])
    x = tanks(frame, id="id", time="t", features="x", freq=1, fill="ffill", limit=3)
    np.testing.assert_array_equal(x[0, :, 0], [0, 1, 1, 1, 1, 5, 6, 6, 8])


# --- argument checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"freq": "ME"}, ValueError, r"`freq` must be a fixed step.*'MS', 'QS', 'YS'"),
        ({"freq": "nonsense"}, ValueError, r"`freq` must be a fixed step"),
        ({"freq": -1}, ValueError, r"`freq` must be a fixed step"),
        ({"agg": "sum"}, ValueError, r"`agg` must be one of 'mean', 'median'"),
        (
            {"freq": "h", "fill": "bfill"},
            ValueError,
            r"`fill` must be one of 'ffill', 'interpolate'",
        ),
        ({"freq": "h", "limit": 2}, ValueError, r"`limit` must be used with `fill`"),
        (
            {"freq": "h", "fill": "ffill", "limit": 0},
            ValueError,
            r"`limit` must be a positive integer",
        ),
        (
            {"freq": "h", "na_values": "-999"},
            ValueError,
            r"`na_values` must be None, a finite number",
        ),
        ({"freq": "h", "na_values": [True]}, ValueError, r"`na_values` must be None"),
        (
            {"duplicates": "keep"},
            ValueError,
            r"`duplicates` must be one of 'raise', 'drop'. Received: duplicates='keep'",
        ),
        ({"clean_ids": "yes"}, ValueError, r"`clean_ids` must be True or False"),
        (
            {"id": ["tank", "time"]},
            TypeError,
            r"`id` must be one column name.*id=\['tank', 'time'\]",
        ),
    ],
    ids=[
        "month-end",
        "alias",
        "negative",
        "agg",
        "fill",
        "limit-alone",
        "limit-0",
        "na-text",
        "na-bool",
        "duplicates-keep",
        "clean-ids-text",
        "id-list",
    ],
)
def test_option_checks(kwargs, error, match):
    args = {"id": "tank", "time": "time", "features": "P"}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        tanks(parsed(export()), **args)


def test_numeric_time_with_a_number_freq_and_timedelta_freq():
    frame = pd.DataFrame({"id": "a", "t": [0.0, 0.5, 1.0, 2.5], "x": [1.0, 3, 5, 7]})
    x, index = tanks(frame, id="id", time="t", features="x", freq=1, return_index=True)
    np.testing.assert_array_equal(x[0, :, 0], [2, 5, 7])
    assert list(index.grid) == [0.0, 1.0, 2.0] and index.freq == 1
    with pytest.raises(ValueError, match=r"`freq` must be a positive number for a numeric time"):
        tanks(frame, id="id", time="t", features="x", freq="h")
    f = parsed(export())
    a = tanks(f, id="tank", time="time", features="P", freq=pd.Timedelta("1h"))
    np.testing.assert_array_equal(a, tanks(f, id="tank", time="time", features="P", freq="h"))


def test_issue_22_item_9_complex_features_and_true_vs_1_ids():
    frame = pd.DataFrame({"id": [True, True, 1, 1], "t": [0, 1, 0, 1], "x": [1.0, 2, 3, 4]})
    with pytest.raises(
        ValueError, match=r"`id` must be a column of one kind of value.*bool \(True\), number \(1\)"
    ):
        tanks(frame, id="id", time="t", features="x")
    with pytest.raises(
        ValueError, match=r"`features` must be numeric columns.*'x' with dtype complex128"
    ):
        tanks(frame.assign(id="a", x=frame["x"] + 1j, t=range(4)), id="id", time="t", features="x")
    ok = tanks(frame.assign(id=frame["id"].astype(str)), id="id", time="t", features="x")
    assert ok.shape == (2, 2, 1)


def test_issue_22_item_11_multiindex_columns_and_id_lists():
    frame = pd.DataFrame(
        {("m", "tank"): ["a", "a", "b", "b"], ("m", "t"): [0, 1, 0, 1], ("v", "P"): [1.0, 2, 3, 4]}
    )
    x, index = tanks(
        frame, id=("m", "tank"), time=("m", "t"), features=[("v", "P")], return_index=True
    )
    np.testing.assert_array_equal(x[..., 0], [[1, 2], [3, 4]])
    assert index.id == ("m", "tank")
    with pytest.raises(ValueError, match=r"missing columns 'tank'"):
        tanks(frame, id="tank", time=("m", "t"), features=[("v", "P")])
    with pytest.raises(TypeError, match=r"`id` must be one column name"):
        tanks(frame, id=[("m", "tank"), ("m", "t")], time=("m", "t"), features=[("v", "P")])


def test_issue_22_item_12_non_unique_index_labels_name_one_value():
    frame = pd.DataFrame(
        {"id": ["a", "a", None], "t": [0, 1, 2], "x": [1.0, 2, 3]}, index=[7, 7, 7]
    )
    with pytest.raises(ValueError) as info:
        tanks(frame, id="id", time="t", features="x")
    assert str(info.value).endswith(("frame.loc[7, 'id']=None", "frame.loc[7, 'id']=nan"))
    frame = pd.DataFrame(
        {"id": ["a", "a", "a"], "t": [0.0, np.nan, 2], "x": [1.0, 2, 3]}, index=[7, 7, 7]
    )
    with pytest.raises(ValueError) as info:
        tanks(frame, id="id", time="t", features="x")
    assert str(info.value).endswith("Received: frame.loc[7, 't']=nan")
    frame = pd.DataFrame({"id": ["a", "a"], "t": [0, 1], "x": [1.0, np.inf]}, index=[7, 7])
    with pytest.raises(ValueError) as info:
        tanks(frame, id="id", time="t", features="x")
    assert str(info.value).endswith("Received: frame.loc[7, 'x']=inf")
    assert "\n" not in str(info.value)


def test_empty_cells_are_missing_steps_without_freq():
    frame = pd.DataFrame({"id": "a", "t": [0, 1, 2, 3], "x": [1.0, np.nan, 3, 4]})
    x, index = tanks(frame, id="id", time="t", features="x", return_index=True)
    assert np.isnan(x[0, 1, 0]) and index.observed.tolist() == [[True, False, True, True]]
    with pytest.raises(
        ValueError, match=r"`series` must be finite.*missing=\"drop\".*series\[0, 1, 0\]=nan"
    ):
        windows.look_back(x, 1)


# --- windows that never learn from or score a missing step --------------------------------


def gappy_tanks():
    frame = parsed(export())
    return tanks(
        frame,
        id="tank",
        time="time",
        features=["P", "T"],
        freq="h",
        na_values=[-999],
        fill="interpolate",
        limit=1,
        return_index=True,
    )


def reference_kept(x, observed, look, horizon, stride, targets):
    keep = []
    for e in range(x.shape[0]):
        s = 0
        while s + look + horizon <= x.shape[1]:
            inputs = x[e, s : s + look]
            target = x[e, s + look : s + look + horizon][:, targets]
            ok = not np.isnan(inputs).any() and not np.isnan(target).any()
            if observed is not None:
                ok = ok and observed[e, s + look : s + look + horizon].all()
            keep.append((e, s, ok))
            s += stride
    return keep


@pytest.mark.parametrize("use_observed", [False, True], ids=["present", "observed"])
@pytest.mark.parametrize(
    ("look", "horizon", "stride", "targets"), [(3, 1, 1, [0]), (4, 2, 2, [1]), (2, 3, 1, [0, 1])]
)
def test_missing_drop_keeps_exactly_the_complete_windows_and_rows_join_back(
    use_observed, look, horizon, stride, targets
):
    x, index = gappy_tanks()
    assert (
        np.isnan(x).any() and (~index.observed & ~np.isnan(x).any(axis=2)).any()
    )  # filled steps exist
    observed = index.observed if use_observed else None
    got_x, got_y = windows.look_back(
        x, look, horizon=horizon, stride=stride, targets=targets, missing="drop", observed=observed
    )
    ref = reference_kept(x, observed, look, horizon, stride, targets)
    kept = [(e, s) for e, s, ok in ref if ok]
    assert len(got_x) == len(kept) and 0 < len(kept) < len(ref)
    for e, s in kept[:: max(1, len(kept) // 25)]:
        j = kept.index((e, s))
        np.testing.assert_array_equal(got_x[j], x[e, s : s + look])
    assert not np.isnan(got_x).any() and not np.isnan(got_y).any()
    rows = index.window_rows(
        look, horizon=horizon, stride=stride, targets=targets, missing="drop", observed=use_observed
    )
    assert len(rows) == len(kept) * horizon
    # each row's (id, time) is the step whose value is the target
    grid = list(index.grid)
    flat = got_y.reshape(len(kept), horizon, -1)
    for r, row in enumerate(rows.head(40).itertuples(index=False)):
        e, k = list(index.ids).index(row.tank), grid.index(row.time)
        np.testing.assert_array_equal(flat[r // horizon, r % horizon], x[e, k, targets])


def test_drop_on_a_clean_2d_series_stays_a_view():
    s = np.arange(20.0).reshape(10, 2)
    x, y = windows.look_back(s, 3, missing="drop")
    assert np.shares_memory(x, s) and np.shares_memory(y, s)
    gap = s.copy()
    gap[4, 1] = np.nan
    x, y = windows.look_back(gap, 3, missing="drop", targets=0)
    # windows starting at 0, 1 (target 4 column 0 is fine, input has no NaN? start 1: inputs 1..3) kept
    starts = [
        s0
        for s0 in range(7)
        if not np.isnan(gap[s0 : s0 + 3]).any() and not np.isnan(gap[s0 + 3, 0])
    ]
    np.testing.assert_array_equal(x[:, 0, 0], gap[starts, 0])
    assert not np.shares_memory(x, gap)


def test_window_rows_train_and_test_parts_of_a_split():
    x, index = gappy_tanks()
    cut, look = 20, 3
    train, test = windows.split(x, cut, look_back=look)
    tx, _ = windows.look_back(train, look, missing="drop", observed=index.observed[:, :cut])
    rows = index.window_rows(look, end=cut, missing="drop", observed=True)
    assert len(rows) == len(tx)
    vx, _ = windows.look_back(test, look, missing="drop", observed=index.observed[:, cut - look :])
    rows = index.window_rows(look, offset=cut - look, missing="drop", observed=True)
    assert len(rows) == len(vx) and rows["time"].min() >= index.grid[cut]


def test_observed_mask_checks():
    x, index = gappy_tanks()
    with pytest.raises(
        ValueError,
        match=r"`observed` must be a bool array of shape \(4, 20\).*observed\[:, start:end\].*\(4, 30\)",
    ):
        windows.look_back(x[:, :20], 3, missing="drop", observed=index.observed)
    with pytest.raises(ValueError, match=r"`missing` must be one of 'raise', 'drop'"):
        windows.look_back(x, 3, missing="skip")
    with pytest.raises(ValueError, match=r"`series` must be finite.*missing=\"drop\""):
        windows.look_back(x, 3)
    x2, _ = windows.look_back(x, 3, missing="drop", observed=index)  # the index itself
    assert len(x2) == len(windows.look_back(x, 3, missing="drop", observed=index.observed)[0])


def test_padded_arrays_are_refused_and_lookalikes_warn():
    frame = pd.DataFrame({"id": list("aaabb"), "t": [0, 1, 2, 0, 1], "x": [1.0, 2, 3, 4, 5]})
    x, _ = tanks(frame, id="id", time="t", features="x", pad=0.0)
    for call in (
        lambda: windows.look_back(x, 1),
        lambda: windows.look_back(windows.split(x, 2)[0], 1),  # a view of it
        lambda: windows.WindowDataset(x, 1, batch_size=2),
    ):
        with pytest.raises(ValueError, match=r"`series` must be an array without padding.*pad=0.0"):
            call()
    _, index = tanks(frame, id="id", time="t", features="x", pad=0.0, return_index=True)
    with pytest.raises(ValueError, match=r"without padding"):
        windows.look_back(x.copy(), 1, observed=index)
    looks = np.random.default_rng(1).normal(size=(3, 6, 2))
    looks[1, 4:] = -1.0
    with pytest.warns(
        UserWarning, match=r"`series` looks padded: entity 1 ends in steps that all equal -1.0"
    ):
        windows.look_back(looks, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        windows.look_back(np.zeros((3, 20, 2)), 5)  # every entity alike: not padding
        windows.look_back(np.random.default_rng(0).normal(size=(3, 20, 2)), 5)


def test_window_dataset_drops_the_same_windows_as_look_back():
    x, index = gappy_tanks()
    ds = windows.WindowDataset(
        x, 4, horizon=2, batch_size=7, targets=0, missing="drop", observed=index.observed
    )
    gx = np.concatenate([ds[i][0] for i in range(len(ds))])
    gy = np.concatenate([ds[i][1] for i in range(len(ds))])
    rx, ry = windows.look_back(x, 4, horizon=2, targets=0, missing="drop", observed=index.observed)
    np.testing.assert_array_equal(gx, rx)
    np.testing.assert_array_equal(gy, ry)
    shuffled = windows.WindowDataset(x, 4, batch_size=5, shuffle=True, seed=2, missing="drop")
    sx = np.concatenate([shuffled[i][0] for i in range(len(shuffled))])
    rx, _ = windows.look_back(x, 4, missing="drop")
    assert sorted(map(bytes, sx)) == sorted(map(bytes, rx))
    with pytest.raises(ValueError, match=r"`series` must be finite.*missing=\"drop\""):
        windows.WindowDataset(x, 4, batch_size=5)
    with pytest.raises(
        ValueError, match=r"at least one window whose inputs and targets are all present.*0 of"
    ):
        windows.WindowDataset(np.full(10, np.nan), 2, batch_size=2, missing="drop")


# --- issue 22: shuffle beyond int64, split shapes, targets, sizes ---------------------------


def test_shuffle_is_exact_at_1e10_windows_without_allocating():
    from keras_lstm_patterns.streaming import affine_order

    huge = np.lib.stride_tricks.as_strided(
        np.zeros(1), shape=(10_000, 1_000_001, 1), strides=(0, 0, 0)
    )
    ds = windows.WindowDataset(huge, 1, batch_size=64, shuffle=True, seed=7)
    n = ds.total
    assert n == 10**10
    a, c = ds._affine
    assert np.gcd(a, n) == 1
    for i in (0, 1, len(ds) // 2, len(ds) - 1):
        k = range(i * 64, min(ds.count, (i + 1) * 64))
        expected = [(a * v + c) % n for v in k]  # Python's unbounded integers
        np.testing.assert_array_equal(ds.positions(i), expected)
        assert ds[i][0].shape[0] == len(expected)
    # the int64 formula this replaces is wrong here (it wraps around)
    k = np.arange(len(ds) // 2 * 64, len(ds) // 2 * 64 + 64, dtype=np.int64)
    with np.errstate(over="ignore"):
        assert not np.array_equal((a * k + c) % n, [(a * int(v) + c) % n for v in k])
    # and a permutation at a size that can be enumerated (every window once)
    assert sorted(affine_order(np.arange(1000), 7, 3, 1000)) == list(range(1000))


def test_issue_22_item_5_split_nested_lists_and_4d():
    nested = np.arange(20.0).reshape(2, 10, 1).tolist()
    a, b = windows.split(nested, 0.6)
    assert a.shape == (2, 6, 1) and b.shape == (2, 4, 1)
    np.testing.assert_array_equal(a[1, :, 0], np.arange(10.0, 16.0))
    with pytest.raises(
        ValueError, match=r"`series` must be 1-D or 2-D .* or 3-D.*shape \(2, 3, 4, 5\)"
    ):
        windows.split(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"`series` must be 1-D or 2-D.*shape \(\)"):
        windows.split(np.array(5.0))
    a, b = windows.split([[1, 2], [3, 4], [5, 6]], 2)  # a 2-D list still splits its rows
    assert a == [[1, 2], [3, 4]] and b == [[5, 6]]


def test_issue_22_item_6_integer_column_labels_are_names_first():
    frame = pd.DataFrame({1: np.arange(6.0), 0: np.arange(6.0) * 10})
    _, y = windows.look_back(frame, 2, targets=0)
    np.testing.assert_array_equal(y[:, 0], frame[0].to_numpy()[2:])
    frame = pd.DataFrame({10: np.arange(6.0), 20: np.arange(6.0) * 10})
    _, y = windows.look_back(frame, 2, targets=20)
    np.testing.assert_array_equal(y[:, 0], frame[20].to_numpy()[2:])
    with pytest.raises(
        ValueError,
        match=r"`targets` must be column names of `series` \(10, 20\); its column labels are integers",
    ):
        windows.look_back(frame, 2, targets=0)
    named = pd.DataFrame({"P": np.arange(6.0), "T": np.arange(6.0)})
    assert windows.look_back(named, 2, targets=1)[1].shape == (4, 1)  # positions still work


def test_issue_22_item_11_sizes():
    with pytest.raises(
        ValueError, match=r"`series` must be at least one entity and one feature.*\(0, 10, 1\)"
    ):
        windows.look_back(np.zeros((0, 10, 1)), 2)
    frame = pd.DataFrame({"id": "a", "t": range(6), "x": np.arange(6.0)})
    _, index = tanks(frame, id="id", time="t", features="x", return_index=True)
    with pytest.raises(TypeError, match=r"`offset` must be an integer step. Received: offset=None"):
        index.window_rows(2, offset=None)
    with pytest.raises(
        ValueError,
        match=r"`offset` must be between 0 and 4 for tanks of 6 steps. Received: offset=5",
    ):
        index.window_rows(2, offset=5)
    with pytest.raises(ValueError, match=r"`look_back` must be between 1 and 1 for 2 steps"):
        index.window_rows(2, offset=4)


def test_window_rows_vectorised_matches_the_per_entity_loop():
    rng = np.random.default_rng(4)
    rows = [(f"T{e}", t, rng.normal()) for e in range(7) for t in range(12)]
    frame = pd.DataFrame(rows, columns=["tank", "t", "x"])
    _, index = tanks(frame, id="tank", time="t", features="x", return_index=True)
    for look, horizon, stride, offset in [(3, 1, 1, 0), (2, 3, 2, 4), (1, 1, 5, 1)]:
        got = index.window_rows(look, horizon=horizon, stride=stride, offset=offset)
        steps = 12 - offset
        count = (steps - look - horizon) // stride + 1
        expected = []
        for e, ident in enumerate(index.ids):  # the loop the vectorised code replaces
            for i in range(count):
                for h in range(horizon):
                    expected.append((ident, index.times[e][offset + look + i * stride + h], h + 1))
        assert list(got["tank"]) == [r[0] for r in expected]
        assert list(got["t"]) == [r[1] for r in expected]
        if horizon > 1:
            assert list(got["ahead"]) == [r[2] for r in expected]


def test_window_rows_of_a_hand_built_index_with_unequal_lengths():
    index = TankIndex(
        np.array(["a", "b"]),
        (pd.Index([0, 1, 2, 3]), pd.Index([10, 11])),
        np.array([4, 2]),
        id="id",
        time="t",
    )
    rows = index.window_rows(1)
    assert list(rows["t"][:3]) == [1, 2, 3]
    assert rows["t"][3] == 11 and pd.isna(rows["t"][4]) and pd.isna(rows["t"][5])
    with pytest.raises(ValueError, match=r"`index` must be an index made by `tanks"):
        index.report()


def test_repeated_stamps_with_freq_are_combined_unless_a_local_hour_repeats():
    stamps = pd.to_datetime(["2024-05-01 10:00", "2024-05-01 10:00", "2024-05-01 11:00"], utc=True)
    frame = pd.DataFrame({"tank": "A", "time": stamps, "P": [1.0, 3.0, 5.0]})
    with pytest.raises(ValueError, match=r"one row per \(tank, time\).*`freq=` combines"):
        tanks(frame, id="tank", time="time", features="P")
    x = tanks(frame, id="tank", time="time", features="P", freq="h")
    ref = frame.set_index("time")["P"].resample("h").mean().to_numpy()
    np.testing.assert_array_equal(x[0, :, 0], ref)  # as pandas' resample does
    autumn = pd.date_range("2024-10-26 22:00", periods=6, freq="h", tz="UTC")
    wall = autumn.tz_convert("Europe/London").tz_localize(None)  # 01:00 twice
    naive = pd.DataFrame({"tank": "A", "time": wall, "P": np.arange(6.0)})
    with pytest.raises(ValueError, match=r"daylight saving.*time=2024-10-27 01:00:00"):
        tanks(naive, id="tank", time="time", features="P", freq="h")


def test_the_grid_keeps_the_frames_time_resolution_so_rows_merge_back():
    frame = parsed(export())
    frame["time"] = frame["time"].dt.as_unit("us")
    _, index = tanks(frame, id="tank", time="time", features="P", freq="h", return_index=True)
    assert index.grid.unit == "us"
    rows = index.window_rows(2, missing="drop", targets=0)
    joined = rows.merge(frame.drop_duplicates(["tank", "time"]), on=["tank", "time"], how="left")
    assert len(joined) == len(rows)


# --- calendar months, the month layout, padding look-alikes ------------------------------


@pytest.mark.parametrize("freq", ["MS", "QS", "YS", "QS-FEB"], ids=str)
def test_calendar_starts_match_pandas_resample(freq):
    """Months differ in length, yet a month (quarter, year) start grid is regular: the
    grid equals pandas' resample(freq) per tank on the union of spans."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2023-11-20", "2025-02-10", freq="D", tz="UTC")
    frame = pd.DataFrame({"tank": "A", "t": days, "P": rng.normal(size=len(days))})
    late = frame.iloc[200:].assign(tank="B", P=lambda f: f["P"] + 10)
    both = pd.concat([frame, late])
    x, index = tanks(both, id="tank", time="t", features="P", freq=freq, return_index=True)
    parts = {k: p.set_index("t")["P"].resample(freq).mean() for k, p in both.groupby("tank")}
    grid = parts["A"].index
    np.testing.assert_allclose(x[0, :, 0], parts["A"].to_numpy())
    np.testing.assert_allclose(x[1, :, 0], parts["B"].reindex(grid).to_numpy())
    assert list(index.grid) == list(grid)
    assert index.observed[1].sum() == len(parts["B"])


def test_month_start_stamps_are_regular_without_freq():
    air = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "airline.csv")
    air = air.assign(Date=pd.to_datetime(air["Date"], format="%Y-%m"), id="air")
    x, index = tanks(air, id="id", time="Date", features="Passengers", return_index=True)
    np.testing.assert_array_equal(x[0, :, 0], air["Passengers"].to_numpy(dtype=float))
    assert list(index.grid) == list(air["Date"])
    np.testing.assert_array_equal(
        x, tanks(air, id="id", time="Date", features="Passengers", freq="MS")
    )
    report = index.report()
    assert report.loc["air", "interval"] == pd.offsets.MonthBegin()
    gap = air.drop(index=[5, 6])  # two months missing: refused, the fix named
    with pytest.raises(
        ValueError,
        match=r"`freq` must be given when readings are not evenly spaced.*"
        r"1949-05-01 00:00:00 followed by 1949-08-01 00:00:00.*freq='MS'",
    ):
        tanks(gap, id="id", time="Date", features="Passengers")
    yearly = pd.DataFrame(
        {"id": "a", "t": pd.date_range("2000-01-01", periods=5, freq="YS"), "x": np.arange(5.0)}
    )
    assert tanks(yearly, id="id", time="t", features="x").shape == (1, 5, 1)


def test_year_month_text_suggests_the_year_month_layout():
    assert series._time_format("1949-01") == "%Y-%m"
    assert series._time_format("1949/1") == "%Y/%m"
    frame = pd.DataFrame({"id": "a", "t": ["1949/01", "1949/02"], "x": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r'format="%Y/%m"\)'):
        tanks(frame, id="id", time="t", features="x")


def test_a_grid_with_its_index_never_warns_looks_padded():
    """Two hourly tanks, -999 sentinels as na_values: a tank whose last two readings are
    one whole number is a reading, not padding, when the index comes with the array."""
    stamps = pd.date_range("2024-01-01", periods=7, freq="h", tz="UTC")
    frame = pd.DataFrame(
        {
            "tank": ["A"] * 7 + ["B"] * 7,
            "time": list(stamps) * 2,
            "P": [
                300,
                301,
                -999,
                302,
                303,
                305,
                305,
                200.5,
                201.5,
                202.5,
                -999,
                203.5,
                204.5,
                205.5,
            ],
        }
    )
    x, index = tanks(
        frame, id="tank", time="time", features="P", freq="h", na_values=[-999], return_index=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, _ = windows.look_back(x, 2, missing="drop", observed=index)
        b, _ = windows.look_back(x, 2, missing="drop", observed=index.observed)
    assert len(a) == len(b) == 4  # 5 windows per tank, 3 touch its missing step
    with pytest.warns(UserWarning, match=r"`series` looks padded: entity 0 ends in steps"):
        windows.look_back(x, 2, missing="drop")  # without the index it cannot tell


def test_window_count_refuses_sizes_it_cannot_count():
    """Was: a stride of 0 raised ZeroDivisionError, negative or fractional sizes counted."""
    assert series.window_count(144, 3) == 141 and series.window_count(0, 3) == 0
    assert series.window_count(10, 3, horizon=0, stride=7) == 2  # starts 0 and 7
    for kwargs, name in [
        ({"stride": 0}, "stride"),
        ({"horizon": -1}, "horizon"),
        ({"look_back": 0}, "look_back"),
        ({"look_back": 2.5}, "look_back"),
        ({"steps": -5}, "steps"),
    ]:
        args = {"steps": 20, "look_back": 3, **kwargs}
        with pytest.raises(ValueError, match=f"`{name}` must be") as err:
            series.window_count(**args)
        assert err.value.name == name


def test_from_tanks_never_drops_an_entity_or_a_feature():
    """Was: for ndim 1 or 2 every entity but the first was dropped without a word."""
    one = np.arange(10.0).reshape(1, 5, 2)
    np.testing.assert_array_equal(series.from_tanks(one, 2), one[0])
    np.testing.assert_array_equal(series.from_tanks(one[..., :1], 1), np.arange(0.0, 10.0, 2))
    two = np.zeros((2, 5, 1))
    assert series.from_tanks(two, 3) is two
    for arr, ndim, message in [
        (two, 2, r"\(1, steps, features\).*Received: arr.shape=\(2, 5, 1\)"),
        (one, 1, r"\(1, steps, 1\).*Received: arr.shape=\(1, 5, 2\)"),
        (np.zeros(5), 3, r"3-D"),
        (one, 4, r"`ndim` must be 1, 2 or 3"),
    ]:
        with pytest.raises(ValueError, match=message):
            series.from_tanks(arr, ndim)
