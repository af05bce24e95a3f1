# %% [markdown]
"""
# Basic motions: a seq2seq LSTM autoencoder that flags broken recordings

**Pattern:** seq2seq autoencoder (`seq2seq_autoencoder`: a many-to-one encoder, a
RepeatVector one-to-many decoder), trained with `fit(x, x)`.

**Data:** BasicMotions (6 motion sensors, 100 steps, 4 activities): the 40 train recordings
train it; the 40 test recordings are scored as they are and with synthetic faults
injected (spikes, flat-lines, swapped channels).

**Shows:** an autoencoder of 20-step windows (`windows.sliding`), a recording's anomaly
score as its worst (window, sensor) reconstruction error in units of that sensor's
typical error, and how well that score separates faulty copies from the originals,
per kind of fault and per activity (ROC AUC: 1.0 is perfect separation, 0.5 chance).

**Command:** `python recipes/motions_autoencoder.py [--quick] [--seed 0] [--seeds 5] [--out DIR]`

**How long:** about 2.5 min a seed on two cores (--quick: about 10 s).

**Expected:** spikes separated almost perfectly; swapped channels caught in every moving
recording but not in the standing ones, whose sensors all read near zero, so the
swapped copy is another quiet recording; flat-lines near chance, because a flat
segment is rebuilt as well as a quiet recording. RESULTS.md has the measured figures.
"""

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
from _common import Run, figure, fmt, mean_std
from matplotlib.figure import Figure

from keras_lstm_patterns import baselines, datasets, explain, seq2seq_autoencoder, windows

NAME = "motions_autoencoder"
CONFIG = {
    "window": 20,
    "encoder_units": 64,
    "latent": 16,
    "decoder_units": 64,
    "epochs": 60,
    "batch": 32,
    "lr": 2e-3,
}
KINDS = ("spike", "flat-line", "swapped channels")

run = Run.from_command_line(__doc__, NAME)

# %% [markdown]
"""
## The data: 40 + 40 recordings of six motion sensors

BasicMotions: a wrist device's accelerometer and gyroscope (x/y/z) at 10 Hz, 100
steps per recording, four activities (Badminton, Running, Standing, Walking). The
long frames become `(recordings, steps, sensors)`; every sensor is standardised with
the training recordings' mean and deviation.
"""


# %%
def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Raw train and test arrays `(samples, 100, 6)`, the train mean and deviation of
    each sensor, and each test recording's activity."""
    frames = [datasets.load_basic_motions(split) for split in ("train", "test")]
    feats = [c for c in frames[0].columns if c.startswith("f")]
    train, test = (windows.tanks(f, id="sample", time="step", features=feats) for f in frames)
    activity = frames[1].groupby("sample")["label"].first().sort_index().to_numpy()
    mean, std = train.mean(axis=(0, 1)), train.std(axis=(0, 1))
    return train, test, mean, std, activity


# %%
train, test, mean, std, activity = load()
print(f"train {train.shape}, test {test.shape}  (recordings, steps, sensors)")
activities = sorted(set(activity))
names, counts = np.unique(activity, return_counts=True)
print("test recordings per activity:", ", ".join(f"{a} {n}" for a, n in zip(names, counts)))
norm = lambda a: ((a - mean) / std).astype("float32")  # noqa: E731
cfg = dict(CONFIG, epochs=2) if run.quick else CONFIG

# %% [markdown]
"""
## Short windows: many examples, each easy to rebuild

The autoencoder reads 20-step windows, not whole recordings: a short window is far
easier to squeeze through one latent vector and rebuild than 100 steps, and
`windows.sliding` with stride 2 gives 41 training windows per recording instead of
one. The input is also the target: `fit(x, x)`.
"""


# %%
def cut(x: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Every recording's windows, stacked: `(recordings * windows, window, sensors)`."""
    return np.concatenate([windows.sliding(r, window, stride=stride) for r in x]).astype("float32")


# %%
x = cut(norm(train), cfg["window"], 2)
print(f"training windows: {x.shape}  (recordings * 41, window, sensors)")

# %% [markdown]
"""
## The model: encoder to one latent vector, decoder back to 20 steps

The encoder's last LSTM keeps only its last step (16 numbers for the whole window);
`RepeatVector` hands that vector to the decoder at each of the 20 steps, and a
Dense head applied per step rebuilds the six sensors.
"""


# %%
def build(cfg: dict):
    """The seq2seq autoencoder of one window of the six sensors."""
    return seq2seq_autoencoder(
        cfg["window"],
        6,
        encoder_units=cfg["encoder_units"],
        latent=cfg["latent"],
        decoder_units=cfg["decoder_units"],
    )


# %%
print(explain(build(cfg).autoencoder))

# %% [markdown]
"""
## Faults to find

Each test recording gets a faulty copy of each kind (positions drawn per seed):
  - spike: one sensor jumps by 8 standard deviations for 3 steps;
  - flat-line: every sensor reads 0 (a dead device) for 30 steps;
  - swapped channels: the accelerometer and gyroscope axes are exchanged.

A recording's score is its worst (window, sensor) pair: the reconstruction error of
one sensor over one window (windows every 5 steps), divided by that sensor's typical
error on the training recordings, maximised over windows and sensors. A short fault
on one sensor is then averaged neither over 100 steps nor with the five healthy
sensors, and the quiet gyroscopes count as much as the loud accelerometers. The ROC
AUC says how well the score ranks faulty copies above the normal recordings.
"""


# %%
def inject(raw: np.ndarray, kind: str, std: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A faulty copy of every recording in `raw` (samples, steps, sensors)."""
    bad = raw.copy()
    n, t, f = raw.shape
    for i in range(n):
        if kind == "spike":
            s, c = rng.integers(5, t - 8), rng.integers(f)
            bad[i, s : s + 3, c] += 8 * std[c] * rng.choice([-1, 1])
        elif kind == "flat-line":
            s = rng.integers(0, t - 30)
            bad[i, s : s + 30, :] = 0.0
        else:
            bad[i] = raw[i][:, [3, 4, 5, 0, 1, 2]]
    return bad


def window_errors(model: keras.Model, x: np.ndarray, window: int) -> np.ndarray:
    """Mean squared reconstruction error of every window and sensor,
    `(recordings, windows, sensors)`."""
    w = cut(x, window, 5)
    err = ((np.asarray(model.predict(w, batch_size=256, verbose=0)) - w) ** 2).mean(axis=1)
    return err.reshape(len(x), -1, x.shape[-1])


def scores(model: keras.Model, x: np.ndarray, window: int, typical: np.ndarray) -> np.ndarray:
    """A recording's score: its worst (window, sensor) error, in units of that sensor's
    typical error on the training recordings."""
    return (window_errors(model, x, window) / typical).max(axis=(1, 2))


# %%
def one_seed(seed: int) -> dict:
    ae = build(cfg)
    ae.autoencoder.compile(optimizer=keras.optimizers.Adam(cfg["lr"]), loss="mse")
    ae.autoencoder.fit(x, x, epochs=cfg["epochs"], batch_size=cfg["batch"], verbose=run.verbose)
    xt = norm(test)
    recon = float(window_errors(ae.autoencoder, xt, cfg["window"]).mean())
    typical = window_errors(ae.autoencoder, norm(train), cfg["window"]).mean(axis=(0, 1))
    normal = scores(ae.autoencoder, xt, cfg["window"], typical)
    rng = np.random.default_rng(seed)
    auc, by_activity = {}, {}
    for kind in KINDS:
        faulty = scores(ae.autoencoder, norm(inject(test, kind, std, rng)), cfg["window"], typical)
        auc[kind] = baselines.roc_auc(normal, faulty)
        # this activity's faulty recordings against every normal one
        by_activity[kind] = {
            a: baselines.roc_auc(normal, faulty[activity == a]) for a in activities
        }
    return {"model": ae.autoencoder, "recon": recon, "auc": auc, "by_activity": by_activity}


runs = run.each_seed("autoencoder", one_seed)

# %% [markdown]
"""
## Reconstruction error and fault separation

The first table: how well unseen normal recordings are rebuilt, and the AUC per
fault. The second splits each AUC by the activity of the faulty recording: a fault
that leaves a recording looking like another normal one cannot be told by its error.
"""

# %%
stats = {
    "test window reconstruction MSE (standardised units)": mean_std([r["recon"] for r in runs])
}
stats.update({f"ROC AUC, {k}": mean_std([r["auc"][k] for r in runs]) for k in KINDS})
table = run.table(
    "BasicMotions autoencoder, 40 test recordings",
    ["measure", "this run"],
    [[k, fmt(v, 3)] for k, v in stats.items()],
)
activity_stats = {
    k: {a: mean_std([r["by_activity"][k][a] for r in runs]) for a in activities} for k in KINDS
}
activity_table = run.table(
    "ROC AUC by activity: that activity's faulty copies against every normal recording",
    ["fault", *activities],
    [[k, *(fmt(activity_stats[k][a], 3) for a in activities)] for k in KINDS],
)

# %% [markdown]
"""
## What the autoencoder rebuilds

The plot shows a normal test recording and its reconstruction, window by window, by
the last seed's model.
"""


# %%
def plot(model: keras.Model, recording: np.ndarray, window: int) -> Figure:
    """One standardised test recording and its reconstruction, window by window."""
    fig, axes = figure(2, 1, figsize=(9, 5), sharex=True)
    pieces = cut(recording[None], window, window)  # non-overlapping windows
    rebuilt = np.asarray(model.predict(pieces, verbose=0)).reshape(-1, 6)
    for c, ax in zip((0, 3), axes):
        ax.plot(recording[:, c], color="black", lw=1, label=f"sensor {c + 1}")
        ax.plot(rebuilt[:, c], color="tab:red", lw=1, label="reconstruction (window by window)")
        ax.legend(loc="upper right")
    axes[0].set_title("Test recording 0 and its reconstruction (last seed)")
    axes[1].set_xlabel("step")
    return fig


# %%
results = {
    "metrics": stats,
    "auc_by_activity": activity_stats,
    "config": cfg,
    "table": table,
    "activity_table": activity_table,
}
run.save(results, plot(runs[-1]["model"], norm(test[:1])[0], cfg["window"]))
