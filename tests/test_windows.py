import itertools

import keras
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_lstm_patterns import windows


def create_dataset(dataset, look_back=1):
    """The classic tutorial's loop, kept as the reference."""
    data_x, data_y = [], []
    for i in range(len(dataset) - look_back - 1):
        data_x.append(dataset[i : (i + look_back), 0])
        data_y.append(dataset[i + look_back, 0])
    return np.array(data_x), np.array(data_y)


def reference_look_back(series, look_back, horizon, stride):
    xs, ys = [], []
    i = 0
    while i + look_back + horizon <= len(series):
        xs.append(series[i : i + look_back])
        ys.append(series[i + look_back : i + look_back + horizon])
        i += stride
    return np.array(xs), np.array(ys)


@pytest.mark.parametrize("features", [1, 3], ids=["univariate", "multivariate"])
@pytest.mark.parametrize(
    ("look", "horizon", "stride"),
    [(1, 1, 1), (3, 1, 1), (3, 4, 1), (5, 2, 3), (19, 1, 1)],
    ids=["lb1", "lb3", "h4", "stride3", "full"],
)
def test_look_back_matches_loop(features, look, horizon, stride):
    rng = np.random.default_rng(0)
    series = rng.normal(size=(20, features))
    x, y = windows.look_back(series, look, horizon=horizon, stride=stride)
    rx, ry = reference_look_back(series, look, horizon, stride)
    np.testing.assert_array_equal(x, rx)
    np.testing.assert_array_equal(y, ry[:, 0] if horizon == 1 else ry)
    assert len(x) == (20 - look - horizon) // stride + 1
    assert np.shares_memory(x, series) and np.shares_memory(y, series)
    assert not x.flags.writeable and not y.flags.writeable


def test_look_back_has_one_more_window_than_tutorial():
    series = np.arange(144.0)[:, None]
    tx, ty = create_dataset(series, 3)
    x, y = windows.look_back(series, 3)
    assert len(x) == len(tx) + 1
    np.testing.assert_array_equal(x[:-1, :, 0], tx)
    np.testing.assert_array_equal(y[:-1, 0], ty)


def test_one_d_series_gets_feature_axis():
    x, y = windows.look_back(np.arange(6.0), 2)
    assert x.shape == (4, 2, 1) and y.shape == (4, 1)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 60),
    features=st.integers(1, 3),
    data=st.data(),
)
def test_look_back_counts_property(n, features, data):
    horizon = data.draw(st.integers(1, n - 1))
    look = data.draw(st.integers(1, n - horizon))
    stride = data.draw(st.integers(1, 5))
    series = np.arange(n * features, dtype=float).reshape(n, features)
    x, y = windows.look_back(series, look, horizon=horizon, stride=stride)
    count = (n - look - horizon) // stride + 1
    assert x.shape == (count, look, features)
    assert y.shape == ((count, features) if horizon == 1 else (count, horizon, features))
    # the last target is never beyond the series, the first target follows the first window
    last = (count - 1) * stride + look + horizon - 1
    assert last <= n - 1
    np.testing.assert_array_equal(x[-1, -1], series[(count - 1) * stride + look - 1])


@pytest.mark.parametrize(("steps", "stride"), [(1, 1), (4, 1), (4, 3), (10, 2), (23, 1)])
@pytest.mark.parametrize("features", [1, 2])
def test_sliding_matches_keras(steps, stride, features):
    data = np.arange(23 * features, dtype="float32").reshape(23, features)
    ds = keras.utils.timeseries_dataset_from_array(
        data, None, sequence_length=steps, sequence_stride=stride, batch_size=7
    )
    expected = np.concatenate([np.asarray(b) for b in ds])
    got = windows.sliding(data, steps, stride=stride)
    np.testing.assert_array_equal(got, expected)
    assert np.shares_memory(got, data)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), data=st.data())
def test_sliding_count_property(n, data):
    steps = data.draw(st.integers(1, n))
    stride = data.draw(st.integers(1, 6))
    got = windows.sliding(np.arange(float(n)), steps, stride=stride)
    starts = list(range(0, n - steps + 1, stride))
    assert got.shape == (len(starts), steps, 1)
    np.testing.assert_array_equal(got[:, 0, 0], starts)


def test_next_step():
    seq = np.arange(24.0).reshape(2, 4, 3)
    x, y = windows.next_step(seq)
    np.testing.assert_array_equal(x, seq[:, :-1])
    np.testing.assert_array_equal(y, seq[:, 1:])
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    assert np.shares_memory(x, seq)
    tokens = np.arange(10).reshape(2, 5)
    tx, ty = windows.next_step(tokens)
    assert tx.shape == ty.shape == (2, 4)


def _long_frame(rng, lengths, features=("P", "T")):
    rows = []
    for e, n in enumerate(lengths):
        for t in range(n):
            rows.append({"tank": f"tank{e:02d}", "hour": t, **{f: rng.normal() for f in features}})
    return pd.DataFrame(rows)


def test_tanks_matches_loop_whatever_the_order():
    rng = np.random.default_rng(1)
    frame = _long_frame(rng, [5, 5, 5, 5])
    shuffled = frame.sample(frac=1.0, random_state=3)
    x = windows.tanks(shuffled, id="tank", time="hour", features=["P", "T"])
    assert x.shape == (4, 5, 2)
    for e, tank in enumerate(sorted(frame["tank"].unique())):
        part = frame[frame["tank"] == tank].sort_values("hour")
        np.testing.assert_array_equal(x[e], part[["P", "T"]].to_numpy())


def test_tanks_pad_and_lengths():
    rng = np.random.default_rng(2)
    frame = _long_frame(rng, [3, 5, 1])
    x, lengths = windows.tanks(frame, id="tank", time="hour", features=["P", "T"], pad=-1.0)
    assert x.shape == (3, 5, 2)
    np.testing.assert_array_equal(lengths, [3, 5, 1])
    assert (x[0, 3:] == -1.0).all() and (x[2, 1:] == -1.0).all()
    part = frame[frame["tank"] == "tank00"][["P", "T"]].to_numpy()
    np.testing.assert_array_equal(x[0, :3], part)


def test_stateful_chunks_concatenate_back():
    seq = np.arange(4 * 7 * 2, dtype=float).reshape(4, 7, 2)
    chunks = windows.stateful_chunks(seq, 3)
    assert [c.shape for c in chunks] == [(4, 3, 2), (4, 3, 2), (4, 1, 2)]
    np.testing.assert_array_equal(np.concatenate(chunks, axis=1), seq)
    # row i of batch k+1 continues row i of batch k
    for a, b in itertools.pairwise(chunks):
        assert (b[:, 0, 0] - a[:, -1, 0] == 2).all()
    assert all(np.shares_memory(c, seq) for c in chunks)


def test_split_is_chronological():
    a, b = windows.split(np.arange(144.0))
    assert (len(a), len(b)) == (96, 48)
    np.testing.assert_array_equal(np.concatenate([a, b]), np.arange(144.0))
    a, b = windows.split(np.arange(10.0), train=7)
    assert (len(a), len(b)) == (7, 3)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: windows.look_back(np.arange(144.0), 200),
            r"`look_back` must be between 1 and 143 for a series of length 144.*Received: look_back=200",
        ),
        (lambda: windows.look_back(np.arange(144.0), 0), r"`look_back` must be between 1 and 143"),
        (
            lambda: windows.look_back(np.arange(10.0), 3, horizon=0),
            r"`horizon` must be between 1 and 9.*horizon=0",
        ),
        (
            lambda: windows.look_back(np.arange(10.0), 3, stride=0),
            r"`stride` must be a positive integer. Received: stride=0",
        ),
        (lambda: windows.look_back(np.arange(10.0), 2.5), r"`look_back` must be between"),
        (
            lambda: windows.look_back(np.array([1.0, np.nan, 3.0]), 1),
            r"`series` must be finite.*series\[1\]=nan",
        ),
        (
            lambda: windows.look_back(np.array([1.0, np.inf, 3.0]), 1),
            r"`series` must be finite.*inf",
        ),
        (
            lambda: windows.look_back(np.zeros((3, 4, 5, 1)), 1),
            r"`series` must be 1-D .*shape \(3, 4, 5, 1\)",
        ),
        (lambda: windows.look_back(np.array(["a", "b"]), 1), r"`series` must be real numbers"),
        (
            lambda: windows.sliding(np.arange(5.0), 6),
            r"`steps` must be between 1 and 5 for a series of length 5",
        ),
        (
            lambda: windows.sliding(np.arange(5.0), 2, stride=-1),
            r"`stride` must be a positive integer",
        ),
        (lambda: windows.next_step(np.zeros((2, 1, 3))), r"`sequences` must be at least 2 steps"),
        (lambda: windows.next_step(np.zeros(5)), r"`sequences` must be 3-D"),
        (
            lambda: windows.stateful_chunks(np.zeros((2, 5, 1)), 6),
            r"`chunk` must be between 1 and 5 for sequences of 5 steps",
        ),
        (lambda: windows.stateful_chunks(np.zeros((2, 5)), 2), r"`sequences` must be 3-D"),
        (lambda: windows.split(np.arange(10.0), train=1.5), r"`train` must be a fraction"),
        (lambda: windows.split(np.arange(10.0), train=10), r"`train` must be between 1 and 9"),
    ],
    ids=lambda v: "" if callable(v) else v[:30],
)
def test_array_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_tanks_errors():
    frame = pd.DataFrame(
        {"id": [0, 0, 1], "t": [0, 1, 0], "x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]}
    )
    with pytest.raises(
        ValueError, match=r"`pad` must be a number when entities have unequal lengths.*from 1 to 2"
    ):
        windows.tanks(frame, id="id", time="t", features="x")
    with pytest.raises(
        ValueError, match=r"`features` must be a column name of `frame`.*missing columns 'y'"
    ):
        windows.tanks(frame, id="id", time="t", features=["x", "y"])
    with pytest.raises(
        ValueError, match=r"`time` must be a column name of `frame`.*missing columns 'hour'"
    ):
        windows.tanks(frame, id="id", time="hour", features=["x"])
    with pytest.raises(ValueError, match=r"`features` must be numeric columns.*'s' with dtype"):
        windows.tanks(frame, id="id", time="t", features=["x", "s"], pad=0.0)
    dup = pd.concat([frame, frame.iloc[:1]])
    with pytest.raises(ValueError, match=r"`frame` must be one row per \(id, t\).*id=0, t=0"):
        windows.tanks(dup, id="id", time="t", features="x", pad=0.0)
    inf = frame.assign(x=[1.0, np.inf, 3.0])  # an empty cell (NaN) is a missing step now
    with pytest.raises(ValueError, match=r"`frame` must be finite.*frame.loc\[1, 'x'\]=inf"):
        windows.tanks(inf, id="id", time="t", features="x", pad=0.0)
    with pytest.raises(ValueError, match=r"`frame` must be a pandas.DataFrame"):
        windows.tanks(np.zeros((2, 2)), id="id", time="t", features="x")


def test_huge_finite_values_are_accepted():
    """The fast finite check overflows here and must fall back to the exact one."""
    series = np.array([1e200, -1e200, 3.0, 1e300])
    x, _ = windows.look_back(series, 2)
    assert x.shape == (2, 2, 1)
    column = np.arange(12.0).reshape(6, 2)[:, 1]  # not contiguous
    assert windows.sliding(column, 3).shape == (4, 3, 1)
    with pytest.raises(ValueError, match=r"series\[2, 1\]=-inf"):
        windows.sliding(np.array([[1.0, 2], [3, 4], [5, -np.inf]]), 2)


@pytest.mark.parametrize("horizon", [1, 3])
def test_window_dataset_matches_look_back(horizon):
    series = np.random.default_rng(0).normal(size=(103, 2))
    ds = windows.WindowDataset(series, 7, horizon=horizon, batch_size=16)
    x = np.concatenate([ds[i][0] for i in range(len(ds))])
    y = np.concatenate([ds[i][1] for i in range(len(ds))])
    rx, ry = windows.look_back(series, 7, horizon=horizon)
    np.testing.assert_array_equal(x, rx)
    np.testing.assert_array_equal(y, ry)


@pytest.mark.parametrize(("stride", "horizon"), [(1, 1), (3, 1), (7, 2), (100, 1)])
def test_window_dataset_stride_matches_strided_look_back(stride, horizon):
    series = np.random.default_rng(1).normal(size=(101, 3))
    ds = windows.WindowDataset(series, 7, horizon=horizon, batch_size=5, stride=stride)
    x = np.concatenate([ds[i][0] for i in range(len(ds))])
    y = np.concatenate([ds[i][1] for i in range(len(ds))])
    rx, ry = windows.look_back(series, 7, horizon=horizon)
    np.testing.assert_array_equal(x, rx[::stride])
    np.testing.assert_array_equal(y, ry[::stride])
    assert ds.count == len(rx[::stride])


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("num_shards", [2, 3, 7])
def test_window_dataset_shards_are_disjoint_and_cover_every_window(shuffle, num_shards):
    series = np.arange(60.0)
    starts = []
    for index in range(num_shards):
        ds = windows.WindowDataset(
            series,
            4,
            batch_size=3,
            shuffle=shuffle,
            seed=5,
            num_shards=num_shards,
            shard_index=index,
        )
        starts.append([int(v) for i in range(len(ds)) for v in ds[i][0][:, 0, 0]])
        assert abs(ds.count - 56 / num_shards) < 1
    every = sorted(s for shard in starts for s in shard)
    assert every == list(range(56))


def test_window_dataset_shuffle_is_a_permutation_of_whole_windows():
    series = np.arange(50.0)
    ds = windows.WindowDataset(series, 5, batch_size=8, shuffle=True, seed=1)
    for _ in range(2):
        xs = np.concatenate([ds[i][0] for i in range(len(ds))])[:, :, 0]
        starts = xs[:, 0].astype(int)
        assert sorted(starts) == list(range(45))  # every window once
        np.testing.assert_array_equal(xs, starts[:, None] + np.arange(5))  # values in order
        ds.on_epoch_end()


def test_window_dataset_tanks_never_cross_entities():
    tanks = (
        np.stack([np.full((12, 1), float(e)) for e in range(3)])
        + np.arange(12.0)[None, :, None] / 100
    )
    ds = windows.WindowDataset(tanks, 4, batch_size=5, shuffle=True, seed=0)
    x = np.concatenate([ds[i][0] for i in range(len(ds))])
    y = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert len(x) == 3 * (12 - 4)
    assert (np.floor(x[:, :, 0]).std(axis=1) == 0).all()  # one entity per window
    np.testing.assert_array_equal(np.floor(y[:, 0]), np.floor(x[:, 0, 0]))


def test_window_dataset_from_memmap_in_fit(tmp_path):
    from keras_lstm_patterns import many_to_one

    mm = np.lib.format.open_memmap(tmp_path / "s.npy", mode="w+", dtype="float32", shape=(500,))
    mm[:] = np.sin(np.arange(500) / 10)
    ds = windows.WindowDataset(np.load(tmp_path / "s.npy", mmap_mode="r"), 16, batch_size=64)
    model = many_to_one(16, 1, 4, outputs=1)
    model.compile(optimizer="adam", loss="mse", run_eagerly=True)
    hist = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][0])


def test_window_dataset_releases_memmap_pages_without_changing_batches(tmp_path):
    values = np.random.default_rng(2).normal(size=(4000, 2)).astype("float32")
    np.save(tmp_path / "s.npy", values)
    mm = np.load(tmp_path / "s.npy", mmap_mode="r")
    ds = windows.WindowDataset(mm, 9, batch_size=50, shuffle=True, seed=3)
    assert ds._mapping is not None
    assert windows.WindowDataset(values, 9, batch_size=50)._mapping is None
    first = [ds[i] for i in range(len(ds))]  # crosses several release points
    ds.release()
    again = [ds[i] for i in range(len(ds))]
    for (x1, y1), (x2, y2) in zip(first, again):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    rx, _ = windows.look_back(values, 9)
    np.testing.assert_array_equal(first[0][0], rx[ds.positions(0)])


def test_window_dataset_errors():
    with pytest.raises(
        ValueError, match=r"`look_back` must be between 1 and 9 for series of length 10"
    ):
        windows.WindowDataset(np.arange(10.0), 10, batch_size=2)
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer"):
        windows.WindowDataset(np.arange(10.0), 2, batch_size=0)
    with pytest.raises(ValueError, match=r"`shard_index` must be between 0 and 1"):
        windows.WindowDataset(np.arange(10.0), 2, batch_size=2, num_shards=2, shard_index=2)
    with pytest.raises(ValueError, match=r"`num_shards` must be at most the number of windows"):
        windows.WindowDataset(np.arange(10.0), 2, batch_size=2, num_shards=20)
    with pytest.raises(ValueError, match=r"`stride` must be a positive integer"):
        windows.WindowDataset(np.arange(10.0), 2, batch_size=2, stride=0)
    with pytest.raises(
        ValueError, match=r"`series` must be finite.*missing=.drop.*series\[2\]=nan"
    ):
        windows.WindowDataset(np.array([1.0, 2.0, np.nan, 4.0, 5.0]), 2, batch_size=2)


def test_window_dataset_refuses_nan_in_a_memmap_batch_by_batch(tmp_path):
    mm = np.lib.format.open_memmap(tmp_path / "s.npy", mode="w+", dtype="float64", shape=(5,))
    mm[:] = [1.0, 2.0, np.nan, 4.0, 5.0]
    mm.flush()
    ds = windows.WindowDataset(np.load(tmp_path / "s.npy", mmap_mode="r"), 2, batch_size=2)
    with pytest.raises(ValueError, match=r"`series \(batch 0\)` must be finite.*missing="):
        ds[0]


# --- tanks: time handling, errors named by the frame's own labels, the index back -------


def tank_frame(n_tanks=3, steps=12, seed=0):
    """A long frame of several tanks, rows shuffled, daily datetime stamps."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_tanks):
        for t in range(steps):
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=t)
            rows.append((f"T{k}", day, 100.0 * k + t, 20.0 + k + 0.1 * t))
    frame = pd.DataFrame(rows, columns=["tank_id", "timestamp", "pressure", "temperature"])
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def test_tanks_orders_by_real_time_not_text():
    frame = tank_frame()
    x, index = windows.tanks(
        frame,
        id="tank_id",
        time="timestamp",
        features=["pressure", "temperature"],
        return_index=True,
    )
    assert x.shape == (3, 12, 2)
    np.testing.assert_array_equal(x[1, :, 0], 100.0 + np.arange(12))  # days 1..12 in order
    assert list(index.ids) == ["T0", "T1", "T2"]
    assert list(index.times[2]) == list(pd.date_range("2024-01-01", periods=12))
    np.testing.assert_array_equal(index.lengths, [12, 12, 12])


def test_tanks_refuses_text_times_with_the_parse_hint():
    frame = tank_frame()
    frame["timestamp"] = frame["timestamp"].dt.strftime("%-m/%-d/%Y")  # "1/10/2024" < "1/2/2024"
    with pytest.raises(
        ValueError,
        match=r"`time` must be a datetime, numeric or pandas Period column.*pd.to_datetime"
        r".*never guessed.*dtype (object|str)",
    ):
        windows.tanks(frame, id="tank_id", time="timestamp", features="pressure")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="%m/%d/%Y")
    x = windows.tanks(frame, id="tank_id", time="timestamp", features="pressure")
    np.testing.assert_array_equal(x[0, :, 0], np.arange(12.0))


def test_tanks_accepts_periods_and_numbers():
    frame = tank_frame()
    periods = frame.assign(timestamp=frame["timestamp"].dt.to_period("D"))
    numbers = frame.assign(timestamp=(frame["timestamp"] - pd.Timestamp("2024")).dt.days)
    for f in (periods, numbers):
        x = windows.tanks(f, id="tank_id", time="timestamp", features=["pressure"])
        np.testing.assert_array_equal(x[2, :, 0], 200.0 + np.arange(12))


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        (lambda f: f.set_index(f.index + 1000), {}, None, None),
        (
            lambda f: f.assign(pressure=f["pressure"].where(f.index != 7, -np.inf)),
            {},
            ValueError,
            r"`frame` must be finite.*frame.loc\[7, 'pressure'\]=-inf",
        ),
        (
            lambda f: f.assign(timestamp=f["timestamp"].where(f.index != 5)),
            {},
            ValueError,
            r"`time` must be a column with no missing values.*frame.loc\[5, 'timestamp'\]=NaT",
        ),
        (
            lambda f: f.assign(tank_id=f["tank_id"].where(f.index != 3)),
            {},
            ValueError,
            r"`id` must be a column with no missing values.*frame.loc\[3, 'tank_id'\]",
        ),
        (
            lambda f: pd.concat([f, f.iloc[[4]]]),
            {},
            ValueError,
            r"`frame` must be one row per \(tank_id, timestamp\).*tank_id='T\d', timestamp=",
        ),
        (lambda f: f.iloc[:0], {}, ValueError, r"`frame` must be a frame with at least one row"),
        (
            lambda f: f.set_axis(["tank_id", "timestamp", "pressure", "pressure"], axis=1),
            {},
            ValueError,
            r"`frame` must be a frame whose column names are unique.*'pressure'",
        ),
        (lambda f: f, {"features": None}, TypeError, r"`features` must be a column name"),
        (lambda f: f, {"features": 3}, ValueError, r"`features` must be .*missing columns 3"),
        (lambda f: f, {"pad": float("nan")}, ValueError, r"`pad` must be None or a finite"),
        (lambda f: f, {"pad": True}, ValueError, r"`pad` must be None or a finite"),
        (lambda f: f, {"return_index": "yes"}, ValueError, r"`return_index` must be True or"),
    ],
    ids=[
        "row-labels-ok",
        "inf-value",
        "missing-time",
        "missing-id",
        "duplicate",
        "empty",
        "dup-columns",
        "features-none",
        "features-int",
        "pad-nan",
        "pad-bool",
        "index-str",
    ],
)
def test_tanks_checks(change, kwargs, error, match):
    frame = change(tank_frame())
    args = {"id": "tank_id", "time": "timestamp", "features": ["pressure", "temperature"]}
    args.update(kwargs)
    if error is None:
        assert windows.tanks(frame, **args).shape == (3, 12, 2)
        return
    with pytest.raises(error, match=match):
        windows.tanks(frame, **args)


def test_tanks_accepts_numpy_scalar_pad_and_int_column_names():
    frame = pd.DataFrame({0: ["a", "a", "b"], 1: [0, 1, 0], 2: [1.0, 2.0, 3.0]})
    x, index = windows.tanks(frame, id=0, time=1, features=2, pad=np.float32(-1), return_index=True)
    np.testing.assert_array_equal(x[:, :, 0], [[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_array_equal(index.lengths, [2, 1])


def test_window_rows_join_predictions_back_to_id_and_time():
    frame = tank_frame(steps=10)
    x, index = windows.tanks(
        frame,
        id="tank_id",
        time="timestamp",
        features=["pressure", "temperature"],
        return_index=True,
    )
    _, test = windows.split(x, 6, look_back=3)
    _, ty = windows.look_back(test, 3, targets=0)
    rows = index.window_rows(3, offset=6 - 3)
    assert len(rows) == len(ty) == 3 * 4
    # each row's (id, time) is the original row whose pressure is the target
    joined = rows.merge(frame, on=["tank_id", "timestamp"])
    np.testing.assert_array_equal(joined["pressure"].to_numpy(), ty[:, 0])
    assert rows["timestamp"].min() == pd.Timestamp("2024-01-07")  # first test step
    rows3 = index.window_rows(3, horizon=2)
    _, y3 = windows.look_back(x, 3, horizon=2, targets=0)
    joined3 = rows3.merge(frame, on=["tank_id", "timestamp"])
    np.testing.assert_array_equal(joined3["pressure"].to_numpy(), y3.reshape(-1))
    assert list(rows3["ahead"][:4]) == [1, 2, 1, 2]


# --- tanks everywhere: look_back, split and WindowDataset on (entities, T, F) ------------


def reference_tank_windows(arr, look, horizon, stride, targets):
    xs, ys = [], []
    for entity in arr:
        rx, ry = reference_look_back(entity, look, horizon, stride)
        xs.append(rx)
        ys.append(ry[..., targets])
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize(
    ("look", "horizon", "stride", "targets"),
    [(3, 1, 1, None), (4, 2, 1, 0), (2, 1, 3, [1, 0]), (5, 3, 2, (0, 1))],
    ids=["all", "h2-first", "stride-swapped", "h3-both"],
)
def test_look_back_on_tanks_never_crosses_entities(look, horizon, stride, targets):
    arr = np.random.default_rng(0).normal(size=(4, 17, 2))
    x, y = windows.look_back(arr, look, horizon=horizon, stride=stride, targets=targets)
    cols = slice(None) if targets is None else ([targets] if is_scalar(targets) else list(targets))
    rx, ry = reference_tank_windows(arr, look, horizon, stride, cols)
    np.testing.assert_array_equal(x, rx)
    np.testing.assert_array_equal(y, ry[:, 0] if horizon == 1 else ry)
    assert not x.flags.writeable and not y.flags.writeable
    per_entity = (17 - look - horizon) // stride + 1
    assert len(x) == 4 * per_entity
    assert x.nbytes == 4 * per_entity * look * 2 * 8  # the one copy a 3-D input makes


def is_scalar(v):
    return np.ndim(v) == 0


def test_look_back_targets_by_name_and_views():
    frame = pd.DataFrame({"P": np.arange(10.0), "T": np.arange(10.0) * 10, "Q": -np.arange(10.0)})
    x, y = windows.look_back(frame, 3, targets="T")
    assert x.shape == (7, 3, 3) and y.shape == (7, 1)
    np.testing.assert_array_equal(y[:, 0], frame["T"].to_numpy()[3:])
    arr = frame.to_numpy()
    x, y = windows.look_back(arr, 3, targets=[1, 2])
    assert np.shares_memory(y, arr)  # consecutive targets stay a view
    x, y = windows.look_back(arr, 3, targets=[2, 0])
    np.testing.assert_array_equal(y, arr[3:][:, [2, 0]])
    assert not y.flags.writeable


@pytest.mark.parametrize(
    ("targets", "match"),
    [
        (2, r"`targets` must be a column position in \[0, 2\)"),
        ([], r"`targets` must be a column position"),
        ("P", r"`targets` must be a column position in \[0, 2\) or a sequence"),
        ([0, 0], r"`targets` must be distinct columns"),
        (True, r"`targets` must be a column position"),
    ],
)
def test_look_back_targets_errors(targets, match):
    with pytest.raises(ValueError, match=match):
        windows.look_back(np.zeros((2, 10, 2)), 3, targets=targets)


def test_window_dataset_targets_match_look_back():
    arr = np.random.default_rng(2).normal(size=(3, 30, 2))
    ds = windows.WindowDataset(arr, 5, horizon=2, batch_size=7, targets=1)
    y = np.concatenate([ds[i][1] for i in range(len(ds))])
    _, ry = windows.look_back(arr, 5, horizon=2, targets=1)
    np.testing.assert_array_equal(y, ry)


def test_split_tanks_along_time_read_only():
    arr = np.arange(3 * 200 * 2, dtype=float).reshape(3, 200, 2)
    tr, te = windows.split(arr, 0.8)
    assert tr.shape == (3, 160, 2) and te.shape == (3, 40, 2)
    np.testing.assert_array_equal(np.concatenate([tr, te], axis=1), arr)
    with pytest.raises(ValueError, match="read-only"):
        tr[0] = -1
    assert arr[0, 0, 0] == 0.0
    flat = np.arange(10.0)
    _, b = windows.split(flat, 6, look_back=2)
    np.testing.assert_array_equal(b, [4.0, 5, 6, 7, 8, 9])
    with pytest.raises(ValueError, match="read-only"):
        b[0] = 1.0
    # no test target is a training step: the first test window's target is step 6
    _, y = windows.look_back(b, 2)
    assert y[0, 0] == 6.0
    with pytest.raises(ValueError, match=r"`look_back` must be between 0 and 6 for 6 training"):
        windows.split(flat, 6, look_back=7)


# --- pandas time order, dtypes, and the other argument checks ---------------------------


@pytest.mark.parametrize(
    "index",
    [
        pd.date_range("2024-01-01", periods=6)[::-1],
        pd.DatetimeIndex(
            ["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
        ),
        pd.period_range("2024-01", periods=6, freq="M")[[0, 2, 1, 3, 4, 5]],
    ],
    ids=["descending", "duplicated", "periods-out-of-order"],
)
def test_pandas_time_index_must_increase(index):
    series = pd.Series(np.arange(6.0), index=index)
    for call in (
        lambda: windows.look_back(series, 2),
        lambda: windows.sliding(series, 2),
        lambda: windows.split(series, 3),
        lambda: windows.WindowDataset(series, 2, batch_size=2),
    ):
        with pytest.raises(ValueError, match=r"`series` must be in time order.*followed by"):
            call()
    ok = pd.Series(np.arange(6.0), index=pd.date_range("2024-01-01", periods=6))
    assert windows.look_back(ok, 2)[0].shape == (4, 2, 1)


@pytest.mark.parametrize(
    "bad",
    [
        np.arange(6.0) + 1j,
        np.ma.masked_array(np.arange(6.0), mask=[0, 1, 0, 0, 0, 0]),
        np.array(["a"] * 6),
        np.arange(6).astype("datetime64[D]"),
        np.array([True, False] * 3),
    ],
    ids=["complex", "masked", "strings", "datetimes", "bools"],
)
def test_windowing_refuses_what_is_not_real_numbers(bad):
    calls = [
        lambda: windows.look_back(bad, 2),
        lambda: windows.sliding(bad, 2),
        lambda: windows.next_step(bad.reshape(1, 6, 1)),
        lambda: windows.stateful_chunks(bad.reshape(1, 6, 1), 2),
        lambda: windows.WindowDataset(bad, 2, batch_size=2),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"`(series|sequences)` must be"):
            call()


def test_more_named_errors():
    with pytest.raises(ValueError, match=r"`sequences` must be finite.*sequences\[0, 1, 0\]=nan"):
        windows.stateful_chunks(np.array([[[1.0], [np.nan]]]), 1)
    with pytest.raises(ValueError, match=r"`series` must be at least 2 steps long"):
        windows.look_back(np.array([]), 1)
    x, _ = windows.look_back(np.arange(10.0), 3, stride=2**62)  # one window, no overflow
    assert x.shape == (1, 3, 1)
    ds = windows.WindowDataset(np.arange(20.0), 3, batch_size=4)
    with pytest.raises(TypeError, match=r"`index` must be an integer batch number"):
        ds[1.5]
    for kwargs, match in [
        ({"shuffle": "no"}, r"`shuffle` must be True or False"),
        ({"seed": -1}, r"`seed` must be None or an integer >= 0"),
        ({"seed": "abc"}, r"`seed` must be None or an integer >= 0"),
    ]:
        with pytest.raises(ValueError, match=match):
            windows.WindowDataset(np.arange(20.0), 3, batch_size=4, **kwargs)
    assert windows.WindowDataset(np.arange(20.0), 3, batch_size=4, shuffle=np.bool_(True)).shuffle
    with pytest.raises(ValueError, match=r"`series` must be `\(time,\)`"):
        windows.WindowDataset(np.array([]), 1, batch_size=2)
    with pytest.raises(ValueError, match=r"`series` must be at least one entity"):
        windows.WindowDataset(np.zeros((0, 10, 2)), 1, batch_size=2)


# --- modules by concept: windows imports no Keras ----------------------------------------


def test_windows_imports_no_keras():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, pandas as pd\n"
        "import keras_lstm_patterns.windows as w\n"
        "w.look_back(np.arange(10.0), 3)\n"
        "w.look_back(np.zeros((2, 6, 1)), 2)\n"
        "f = pd.DataFrame({'id': ['a', 'a', 'b', 'b'], 't': [0, 1, 0, 1], 'x': [1.0, 2, 3, 4]})\n"
        "w.tanks(f, id='id', time='t', features='x', return_index=True)\n"
        "w.split(np.arange(10.0))\n"
        "assert 'keras' not in sys.modules, 'windows loaded keras'\n"
        "assert 'WindowDataset' in dir(w)  # offered, loaded on first use\n"
        "assert 'keras_lstm_patterns.streaming' not in sys.modules\n"
        "print('ok')\n"
    )  # that first use is test_the_moved_names_are_the_same_objects, in this process
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_the_moved_names_are_the_same_objects():
    from keras_lstm_patterns import series, streaming

    assert windows.tanks is series.tanks and windows.TankIndex is series.TankIndex
    assert windows.split is series.split and windows.window_count is series.window_count
    assert windows.WindowDataset is streaming.WindowDataset
    assert "WindowDataset" in dir(windows)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        windows.nope  # noqa: B018


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    look=st.integers(1, 10),
    horizon=st.integers(1, 5),
    stride=st.integers(1, 6),
)
def test_window_count_matches_a_loop(n, look, horizon, stride):
    starts = [s for s in range(0, n, stride) if s + look + horizon <= n]
    assert windows.window_count(n, look, horizon=horizon, stride=stride) == len(starts)


def test_look_back_on_a_clean_series_allocates_nothing_proportional_to_it():
    import tracemalloc

    series = np.random.default_rng(0).normal(size=(200_000, 1))
    for kwargs in ({}, {"missing": "drop"}):
        tracemalloc.start()
        x, y = windows.look_back(series, 32, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert np.shares_memory(x, series) and np.shares_memory(y, series)
        assert peak < 64 * 1024, peak  # the series is 1.6 MB; a mask would be 200 KB
