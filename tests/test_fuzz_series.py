"""Generated irregular exports: random intervals, gaps, UTC offsets and duplicates.

Each generated frame either becomes the grid pandas computes (``groupby(id).resample``
on UTC times) with ``observed`` = "a finite, non-sentinel reading of every feature in
that step", or is refused with a ValueError naming the argument.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_lstm_patterns import windows
from keras_lstm_patterns._errors import ArgumentError
from keras_lstm_patterns.series import AGGS, tanks

from .test_series import reference_fill  # the one loop both files check fill against

BASE = pd.Timestamp("2024-10-26 18:00", tz="UTC")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def exports(draw):
    """A shuffled long frame: 1-4 tanks, each with its own start, interval (15, 30 or 60
    minutes, sometimes changing), gaps, empty cells, -999 sentinels, stamps written with
    random UTC offsets, plus exact duplicate rows and repeated stamps."""
    rows = []
    for k in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, 40)) * 15
        minutes = start
        for _ in range(draw(st.integers(1, 14))):
            step = draw(st.sampled_from([15, 30, 60, 60, 60, 180]))
            minutes += step
            p = draw(st.one_of(st.floats(-50, 50), st.just(-999.0), st.just(np.nan)))
            t = draw(st.floats(0, 30))
            rows.append([f"T{k}", minutes, p, t])
    frame = pd.DataFrame(rows, columns=["tank", "minute", "P", "T"])
    if draw(st.booleans()):  # repeated stamps with other values
        extra = frame.sample(n=min(2, len(frame)), random_state=draw(st.integers(0, 99)))
        frame = pd.concat([frame, extra.assign(P=extra["P"] + 1.0)])
    exact = draw(st.integers(0, 2))
    if exact:
        frame = pd.concat([frame, frame.iloc[:exact]])
    offsets = draw(
        st.lists(st.sampled_from([-5, 0, 1, 2, 9]), min_size=len(frame), max_size=len(frame))
    )
    stamps = BASE + pd.to_timedelta(frame["minute"].to_numpy(), "min")
    frame["time"] = [
        s.tz_convert(f"Etc/GMT{-o:+d}" if o else "UTC").isoformat() for s, o in zip(stamps, offsets)
    ]
    seed = draw(st.integers(0, 2**16))
    return frame.drop(columns="minute").sample(frac=1.0, random_state=seed).reset_index(drop=True)


def reference(parsed, freq, agg):
    f = parsed.copy()
    for c in ("P", "T"):
        f[c] = f[c].where(f[c] != -999.0)
    origin = f["time"].min().normalize()
    parts, obs = {}, {}
    for tank, part in f.groupby("tank"):
        r = part.set_index("time")[["P", "T"]].resample(freq, origin=origin)
        parts[tank] = r.agg(agg)
        obs[tank] = (r.count() > 0).all(axis=1)
    lo = min(p.index.min() for p in parts.values())
    hi = max(p.index.max() for p in parts.values())
    grid = pd.date_range(lo, hi, freq=freq)
    x = np.stack([parts[t].reindex(grid).to_numpy() for t in sorted(parts)])
    o = np.stack([obs[t].reindex(grid, fill_value=False).to_numpy() for t in sorted(parts)])
    return x, o, grid


@SETTINGS
@given(frame=exports(), freq=st.sampled_from(["h", "30min", "2h"]), agg=st.sampled_from(AGGS))
def test_generated_exports_on_one_grid_match_pandas(frame, freq, agg):
    parsed = frame.assign(time=pd.to_datetime(frame["time"], format="ISO8601", utc=True))
    args = {"id": "tank", "time": "time", "features": ["P", "T"], "freq": freq, "agg": agg}
    if parsed.duplicated().any():
        with pytest.raises(
            ArgumentError, match=r"exact duplicate row.*drop_duplicates\(\)"
        ) as info:
            tanks(parsed, na_values=[-999], **args)
        assert info.value.name == "frame"
        parsed = parsed.drop_duplicates()
    x, index = tanks(parsed, na_values=[-999], return_index=True, **args)
    rx, ro, grid = reference(parsed, freq, agg)
    np.testing.assert_allclose(x, rx, equal_nan=True)
    np.testing.assert_array_equal(index.observed, ro)
    assert (index.grid == grid).all()
    report = index.report()
    assert (report["missing"] <= report["steps"]).all()
    assert report["rows"].sum() == len(parsed)


@SETTINGS
@given(frame=exports())
def test_generated_exports_without_freq_are_regular_or_refused_by_name(frame):
    parsed = frame.assign(time=pd.to_datetime(frame["time"], format="ISO8601", utc=True))
    try:
        x = tanks(parsed, id="tank", time="time", features="P")
    except ArgumentError as err:
        assert err.name in {"freq", "pad", "frame"}
        assert str(err).startswith(f"`{err.name}` must be")
        return
    # accepted: every tank evenly spaced, at one interval, over the same times
    stamps = parsed.sort_values("time").groupby("tank")["time"].apply(list)
    assert len({tuple(v) for v in stamps}) == 1
    steps = np.diff(pd.DatetimeIndex(stamps.iloc[0]).as_unit("ns").asi8)
    assert len(set(steps.tolist())) <= 1
    assert x.shape == (len(stamps), len(stamps.iloc[0]), 1)


@SETTINGS
@given(
    frame=exports(),
    how=st.sampled_from(["ffill", "interpolate"]),
    limit=st.one_of(st.none(), st.integers(1, 4)),
)
def test_generated_fill_matches_a_loop_and_never_leaves_a_span(frame, how, limit):
    parsed = frame.assign(time=pd.to_datetime(frame["time"], format="ISO8601", utc=True))
    parsed = parsed.drop_duplicates()
    args = {"id": "tank", "time": "time", "features": ["P", "T"], "freq": "30min"}
    raw, index = tanks(parsed, na_values=-999, return_index=True, **args)
    got = tanks(parsed, na_values=-999, fill=how, limit=limit, **args)
    first = parsed.groupby("tank")["time"].min().dt.floor("30min")
    last = parsed.groupby("tank")["time"].max().dt.floor("30min")
    grid = index.grid.as_unit("ns").asi8[None, :]
    first = pd.DatetimeIndex(first).as_unit("ns").asi8[:, None]
    last = pd.DatetimeIndex(last).as_unit("ns").asi8[:, None]
    span = (grid >= first) & (grid <= last)
    for e in range(raw.shape[0]):
        for f in range(2):
            expected = reference_fill(raw[e, :, f], span[e], how, limit)
            np.testing.assert_allclose(got[e, :, f], expected, equal_nan=True)
    assert np.isnan(got[~span]).all()


@SETTINGS
@given(
    frame=exports(),
    look=st.integers(1, 4),
    horizon=st.integers(1, 3),
    stride=st.integers(1, 3),
    use_observed=st.booleans(),
)
def test_generated_windows_skip_missing_steps_and_rows_join_back(
    frame, look, horizon, stride, use_observed
):
    parsed = frame.assign(time=pd.to_datetime(frame["time"], format="ISO8601", utc=True))
    parsed = parsed.drop_duplicates()
    x, index = tanks(
        parsed,
        id="tank",
        time="time",
        features=["P", "T"],
        freq="h",
        na_values=[-999],
        fill="ffill",
        limit=1,
        return_index=True,
    )
    if x.shape[1] < look + horizon:
        return
    observed = index.observed if use_observed else None
    wx, wy = windows.look_back(
        x, look, horizon=horizon, stride=stride, targets=0, missing="drop", observed=observed
    )
    rows = index.window_rows(
        look, horizon=horizon, stride=stride, targets=0, missing="drop", observed=use_observed
    )
    assert len(rows) == len(wx) * horizon
    assert not np.isnan(wx).any() and not np.isnan(wy).any()
    # each row names the step whose pressure is the target
    positions = {t: k for k, t in enumerate(index.grid)}
    ids = {t: e for e, t in enumerate(index.ids)}
    flat = np.asarray(wy).reshape(-1)
    for r, row in enumerate(rows.itertuples(index=False)):
        e, k = ids[row.tank], positions[row.time]
        assert flat[r] == x[e, k, 0]
        if use_observed:
            assert index.observed[e, k]
    if np.isnan(x).any():
        with pytest.raises(ArgumentError, match=r"`series` must be finite.*missing=\"drop\""):
            windows.look_back(x, look, horizon=horizon, stride=stride)
