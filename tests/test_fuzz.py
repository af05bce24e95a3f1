"""Property-based fuzzing of the public functions.

Each call gets messy arguments (None, strings, dicts, NaN, inf, negative, huge or float
counts, wrong ranks, complex and boolean arrays). The only outcomes allowed are a result
that matches a plain reference, or a ``ValueError``/``TypeError`` whose message is the
package's one form: "`arg` must RULE. Received: ...". Any other exception (KeyError,
IndexError, OverflowError, LinAlgError, an error from inside numpy or the graph) fails.

``WindowDataset``'s batch index may also raise ``IndexError`` past the last batch, as
every Python sequence does.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from keras_lstm_patterns import (
    baselines,
    explain,
    many_to_many,
    many_to_one,
    one_to_many,
    stateful,
    stateful_generator,
    windows,
)

NAMED = re.compile(r"`[^`]+` must .+\. Received: ", re.S)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def attempt(fn, *args, **kwargs):
    """``(True, result)``, or ``(False, error)`` for a named ValueError/TypeError only."""
    try:
        result = fn(*args, **kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        assert NAMED.match(message), f"{type(err).__name__} not in the named form: {message}"
        event(f"refused: {message.split('`')[1]}")
        return False, err
    event("result")
    return True, result


# --- strategies ----------------------------------------------------------------------

junk = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just({}),
    st.just([1, "a"]),
    st.just(2**62),
    st.just(np.float32(2.0)),
)
counts = st.one_of(st.integers(-2, 7), st.sampled_from([0.5, 2.0, 2**31, 2**62]), junk)
# valid values drawn often enough that results, not only refusals, are checked
small_counts = st.one_of(st.integers(1, 4), st.integers(1, 4), counts)
special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1.0, 1e300])


@st.composite
def arrays(draw, shapes):
    """A float array of one of ``shapes``, sometimes with a special value, sometimes of a
    strange dtype (complex, bool, str, object)."""
    shape = draw(st.sampled_from(shapes))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    arr = rng.normal(size=shape)
    if arr.size and draw(st.booleans()):
        arr.flat[draw(st.integers(0, arr.size - 1))] = draw(special)
    kind = draw(st.sampled_from(["float32", "float64", "int", "complex", "bool", "str", "list"]))
    if kind == "int":
        return arr.round().clip(-5, 5).astype(int) if np.isfinite(arr).all() else arr
    if kind == "complex":
        return arr.astype(complex)
    if kind == "bool":
        return arr > 0
    if kind == "str":
        return arr.astype(str)
    if kind == "list":
        return arr.tolist()
    with np.errstate(over="ignore"):  # 1e300 becomes inf in float32, on purpose
        return arr.astype(kind)


@st.composite
def good(draw, shape):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return rng.normal(size=shape).astype(draw(st.sampled_from(["float32", "float64"])))


def messy(shapes):
    """Often a valid array of ``shapes[0]``, else anything."""
    return st.one_of(good(shapes[0]), good(shapes[0]), arrays(shapes), junk)


def finite_float(value) -> bool:
    arr = np.asarray(value)
    return bool(np.issubdtype(arr.dtype, np.number) and np.isfinite(arr).all())


# --- the stateful toolkit -------------------------------------------------------------


@pytest.fixture(scope="module")
def gen():
    keras.utils.set_random_seed(0)
    return stateful_generator(2, batch_size=2, units=(3,))


def states_of(model):
    return [[s.copy() for s in layer] for layer in stateful.get_states(model)]


def same_states(a, b):
    return all(np.array_equal(x, y) for la, lb in zip(a, b) for x, y in zip(la, lb))


@FUZZ
@given(first=messy([(2, 1, 2), (1, 1, 2), (2, 2, 2), (2, 1, 3), (2,), ()]), steps=small_counts)
def test_generate(gen, first, steps):
    ok, out = attempt(stateful.generate, gen, first, steps)
    if ok:
        assert out.shape == (2, steps, 2) and np.isfinite(out).all()


@FUZZ
@given(history=messy([(2, 3, 2), (2, 0, 2), (2, 1, 2), (3, 3, 2), (2, 3)]), steps=small_counts)
def test_forecast(gen, history, steps):
    ok, out = attempt(stateful.forecast, gen, history, steps)
    if ok:
        assert out.shape == (2, steps, 2) and np.isfinite(out).all()


@FUZZ
@given(
    sequences=messy([(2, 5, 2), (4, 3, 2), (3, 5, 2), (2, 0, 2), (0, 5, 2), (2, 5)]),
    chunk=small_counts,
)
def test_predict_chunks(gen, sequences, chunk):
    ok, out = attempt(stateful.predict_chunks, gen, sequences, chunk)
    if ok:  # the reference: each group whole, in one call
        arr = np.asarray(sequences, dtype="float32")
        whole = stateful.predict_chunks(gen, arr, arr.shape[1])
        np.testing.assert_allclose(out, whole, atol=1e-5)


@FUZZ
@given(
    states=st.one_of(
        junk,
        st.lists(st.lists(messy([(2, 3), (2, 2), (3, 3)]), min_size=2, max_size=3), max_size=2),
        st.lists(
            st.lists(messy([(2, 3), (2, 2), (3, 3)]), min_size=2, max_size=2),
            min_size=1,
            max_size=1,
        ),
    )
)
def test_set_states_writes_all_or_nothing(gen, states):
    stateful.reset_states(gen)
    gen(np.ones((2, 2, 2), "float32"))
    before = states_of(gen)
    ok, _ = attempt(stateful.set_states, gen, states)
    after = states_of(gen)
    if ok:
        want = [[np.asarray(v, dtype="float32") for v in layer] for layer in states]
        assert same_states(after, want)
    else:
        assert same_states(after, before)


@FUZZ
@given(model=junk)
def test_reset_states(model):
    ok, _ = attempt(stateful.reset_states, model)
    assert not ok


@FUZZ
@given(every=st.one_of(st.none(), small_counts))
def test_reset_states_callback(every):
    ok, cb = attempt(stateful.ResetStates, every=every)
    if ok:
        assert cb.every == every or (every is None and cb.every is None)


# --- factories and explain -------------------------------------------------------------


@FUZZ
@given(
    factory=st.sampled_from([many_to_one, many_to_many, one_to_many]),
    steps=st.one_of(st.just(None), small_counts),
    features=small_counts,
    units=st.one_of(small_counts, st.lists(st.integers(-1, 4), max_size=3), st.just([3, 2])),
    outputs=st.one_of(st.none(), small_counts),
    cell=st.one_of(st.sampled_from(["lstm", "gru", "simple"]), junk),
)
def test_factories(factory, steps, features, units, outputs, cell):
    ok, model = attempt(factory, steps, features, units, outputs=outputs, cell=cell)
    if ok:
        last = outputs if outputs is not None else (units if np.ndim(units) == 0 else units[-1])
        assert model.output_shape[-1] == last


@FUZZ
@given(
    name=st.one_of(
        st.sampled_from(
            ["many_to_one", "generate", "forecast", "seq2seq_autoencoder", "next_token"]
        ),
        junk,
    ),
    steps=st.one_of(st.none(), small_counts),
    units=st.one_of(st.none(), small_counts),
)
def test_explain(name, steps, units):
    ok, text = attempt(explain, name, steps=steps, units=units)
    if ok:
        assert text.splitlines()[0].startswith(name.replace("_", "-") + ":")


# --- baselines ---------------------------------------------------------------------------


@FUZZ
@given(
    history=messy([(12,), (5,), (1,), (0,), (12, 2)]),
    order=small_counts,
    steps=small_counts,
    ridge=st.one_of(st.just(0.0), st.floats(0, 10), st.floats(allow_nan=True), junk),
)
def test_autoregression_rollout(history, order, steps, ridge):
    ok, out = attempt(baselines.autoregression_rollout, history, order, steps, ridge=ridge)
    if ok:
        assert out.shape == (steps,) and np.isfinite(out).all()


@FUZZ
@given(history=messy([(12,), (3,), (0,), (6, 2)]), steps=small_counts, period=small_counts)
def test_seasonal_naive_rollout(history, steps, period):
    ok, out = attempt(baselines.seasonal_naive_rollout, history, steps, period=period)
    if ok:
        h = np.asarray(history, dtype="float64")
        want = np.array([h[len(h) - period + (k % period)] for k in range(steps)])
        np.testing.assert_array_equal(out, want)


@FUZZ
@given(
    series=st.one_of(messy([(20,), (3,), (20, 2)]), good((20,)).map(np.exp)),
    start=st.one_of(st.integers(1, 19), small_counts),
    period=small_counts,
)
def test_one_step_baselines(series, start, period):
    for fn, args in [
        (baselines.persistence, (series, start)),
        (baselines.seasonal_naive, (series, start, period)),
        (baselines.seasonal_random_walk, (series, start, period)),
    ]:
        ok, out = attempt(fn, *args)
        if ok:
            y = np.asarray(series, dtype="float64")
            assert out.shape == (len(y) - start,)
            if fn is baselines.persistence:
                np.testing.assert_array_equal(out, y[start - 1 : -1])


texts = st.one_of(
    st.lists(st.text(alphabet="ab", min_size=1, max_size=4), min_size=1, max_size=3),
    st.lists(st.text(alphabet="abz", max_size=4), max_size=3),
    junk,
)


@FUZZ
@given(train=texts, test=texts, alphabet=st.one_of(st.sampled_from(["ab", "ab", "aab"]), junk))
def test_bits_per_char(train, test, alphabet):
    for fn in (baselines.unigram_bits_per_char, baselines.bigram_bits_per_char):
        ok, bits = attempt(fn, train, test, alphabet)
        if ok:
            assert np.isfinite(bits) and bits > 0


# --- the windows family ---------------------------------------------------------------


def reference_windows(arr, look, horizon, stride):
    """A plain loop over each entity of ``(entities, T, F)``."""
    xs, ys = [], []
    for entity in arr:
        i = 0
        while i + look + horizon <= entity.shape[0]:
            xs.append(entity[i : i + look])
            ys.append(entity[i + look : i + look + horizon])
            i += stride
    return np.array(xs), np.array(ys)


# no model to call: many more examples in the same time
FUZZ_WINDOWS = settings(FUZZ, max_examples=300)
fractions = st.sampled_from([0.3, 0.5, 0.8])
series_shapes = [(12, 2), (12,), (3, 12, 2), (0,), (1, 1), (2, 3, 4, 1)]


@FUZZ_WINDOWS
@given(
    series=messy(series_shapes),
    look=small_counts,
    horizon=st.one_of(st.just(1), small_counts),
    stride=st.one_of(st.just(1), small_counts),
    targets=st.one_of(st.none(), st.none(), st.integers(-1, 2), st.just([1, 0]), junk),
)
def test_look_back(series, look, horizon, stride, targets):
    ok, out = attempt(
        windows.look_back, series, look, horizon=horizon, stride=stride, targets=targets
    )
    if not ok:
        return
    arr = np.asarray(series, dtype=float)
    arr = arr.reshape(1, len(arr), -1) if arr.ndim < 3 else arr
    cols = slice(None) if targets is None else np.atleast_1d(targets).tolist()
    rx, ry = reference_windows(arr, look, horizon, stride)
    x, y = out
    np.testing.assert_array_equal(x, rx)
    ry = ry[..., cols]
    np.testing.assert_array_equal(y, ry[:, 0] if horizon == 1 else ry)


@FUZZ_WINDOWS
@given(series=messy([(10, 2), (10,), (3, 4, 5)]), steps=small_counts, stride=small_counts)
def test_sliding(series, steps, stride):
    ok, x = attempt(windows.sliding, series, steps, stride=stride)
    if ok:
        arr = np.asarray(series, dtype=float).reshape(len(series), -1)
        rx, _ = reference_windows(arr[None], steps, 0, stride)
        np.testing.assert_array_equal(x, rx)


@FUZZ_WINDOWS
@given(sequences=messy([(2, 5, 3), (2, 5), (2, 1, 3), (5,)]), chunk=small_counts)
def test_next_step_and_stateful_chunks(sequences, chunk):
    ok, out = attempt(windows.next_step, sequences)
    if ok:
        arr = np.asarray(sequences)
        np.testing.assert_array_equal(out[0], arr[:, :-1])
        np.testing.assert_array_equal(out[1], arr[:, 1:])
    ok, chunks = attempt(windows.stateful_chunks, sequences, chunk)
    if ok:
        np.testing.assert_array_equal(np.concatenate(chunks, axis=1), np.asarray(sequences))


@FUZZ_WINDOWS
@given(
    series=messy([(3, 10, 2), (10, 2), (10,), (1,)]),
    train=st.one_of(fractions, fractions, small_counts, junk),
    look=st.one_of(st.just(0), small_counts),
)
def test_split(series, train, look):
    ok, out = attempt(windows.split, series, train, look_back=look)
    if not ok:
        return
    arr = np.asarray(series)
    time_axis = 1 if arr.ndim == 3 else 0
    a, b = (np.asarray(p) for p in out)
    n = arr.shape[time_axis]
    cut = a.shape[time_axis]
    assert 1 <= cut < n and b.shape[time_axis] == n - cut + look
    np.testing.assert_array_equal(np.take(arr, range(cut - look, n), axis=time_axis), b)


@FUZZ_WINDOWS
@given(
    series=messy([(3, 20, 2), (20, 2), (20,)]),
    look=small_counts,
    batch=small_counts,
    shuffle=st.one_of(st.booleans(), junk),
    seed=st.one_of(st.none(), st.integers(-1, 3), junk),
    index=st.one_of(st.integers(-2, 40), junk),
)
def test_window_dataset(series, look, batch, shuffle, seed, index):
    ok, ds = attempt(
        windows.WindowDataset, series, look, batch_size=batch, shuffle=shuffle, seed=seed
    )
    if not ok:
        return
    try:
        ok, batch_xy = attempt(ds.__getitem__, index)
    except IndexError:
        assert not 0 <= index < len(ds)
        return
    if ok:
        x, y = batch_xy
        assert x.shape[1:] == (look, ds.series.shape[2]) and len(x) == len(y) <= batch


messy_frames = st.fixed_dictionaries(
    {
        "id": st.lists(st.one_of(st.sampled_from(["a", "b"]), st.none()), min_size=1, max_size=6),
        "t": st.lists(st.one_of(st.integers(0, 3), st.text(max_size=2), st.none()), max_size=6),
        "x": st.lists(st.one_of(st.floats(), st.text(max_size=1)), max_size=6),
    }
)
clean_frames = st.fixed_dictionaries(
    {
        "id": st.lists(st.sampled_from(["a", "b"]), min_size=6, max_size=6),
        "t": st.permutations([0, 1, 2, 0, 1, 2]),
        "x": st.lists(st.floats(-9, 9), min_size=6, max_size=6),
    }
)
frames = st.one_of(clean_frames, clean_frames, messy_frames)


@FUZZ_WINDOWS
@given(
    columns=frames,
    features=st.one_of(st.just("x"), st.just(["x"]), st.just("x"), st.just(["x"]), junk),
    pad=st.one_of(st.none(), st.just(0.0), junk),
)
def test_tanks(columns, features, pad):
    import pandas as pd

    n = len(columns["id"])
    frame = pd.DataFrame({k: (list(v) + [None] * n)[:n] for k, v in columns.items()})
    ok, out = attempt(windows.tanks, frame, id="id", time="t", features=features, pad=pad)
    if ok:
        x = out if pad is None else out[0]
        assert x.shape[0] == frame["id"].nunique() and x.shape[2] == 1
