"""Basic motions: a seq2seq LSTM autoencoder that flags broken recordings.

Pattern: seq2seq autoencoder (`seq2seq_autoencoder`: a many-to-one encoder, a
RepeatVector one-to-many decoder), trained with `fit(x, x)`.
Data: BasicMotions (6 motion sensors, 100 steps): the 40 train recordings train it; the
40 test recordings are scored as they are and with synthetic faults injected.
Shows: an autoencoder of 20-step windows (`windows.sliding`, stride 2 for training):
short windows are far easier to squeeze through one latent vector and rebuild than a
whole 100-step recording, and give 41 training windows per recording instead of one.
It reports the reconstruction error on unseen normal recordings, and how
well that error separates faulty copies of the same recordings from the originals,
per kind of fault (ROC AUC: 1.0 is perfect separation, 0.5 is chance):
  - spike: one sensor jumps by 8 standard deviations for 3 steps;
  - flat-line: every sensor reads 0 (a dead device) for 30 steps;
  - swapped channels: the accelerometer and gyroscope axes are exchanged.
A recording's score is its worst (window, sensor) pair: the reconstruction error of one
sensor over one window (windows every 5 steps), divided by that sensor's typical error
on the training recordings, maximised over windows and sensors. A short fault on one
sensor is then averaged neither over 100 steps nor with the five healthy sensors, and
the quiet gyroscopes count as much as the loud accelerometers.
A second table splits each AUC by the activity of the faulty recording: a fault that
leaves a recording looking like another normal one cannot be told by its error.
Command: python recipes/motions_autoencoder.py [--quick] [--seed 0] [--seeds 5] [--out DIR]
Expected: AUC about 0.97 for spikes and 0.80 for swapped channels (RESULTS.md, 5 seeds);
swapped channels are caught in every Badminton and Running recording (AUC 1.0) but not
in Standing ones, whose accelerometer and gyroscope both read near-constant values near
zero, so the swapped copy is another quiet recording. Flat-lines (every sensor reading 0, close
to the training mean of every sensor) stay near AUC 0.5: a flat segment is rebuilt
as well as the quiet Standing recordings, so reconstruction error does not see it.
"""

from __future__ import annotations

from _common import cli, figure, fmt, mean_std, print_table, save, seed_list

# isort: split

import time
from pathlib import Path

import keras
import numpy as np

from keras_lstm_patterns import baselines, datasets, seq2seq_autoencoder, windows

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


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Raw train and test arrays `(samples, 100, 6)`, the train mean and deviation of
    each sensor, and each test recording's activity."""
    frames = [datasets.load_basic_motions(split) for split in ("train", "test")]
    feats = [c for c in frames[0].columns if c.startswith("f")]
    train, test = (windows.tanks(f, id="sample", time="step", features=feats) for f in frames)
    activity = frames[1].groupby("sample")["label"].first().sort_index().to_numpy()
    mean, std = train.mean(axis=(0, 1)), train.std(axis=(0, 1))
    return train, test, mean, std, activity


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


def cut(x: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Every recording's windows, stacked: `(recordings * windows, window, sensors)`."""
    return np.concatenate([windows.sliding(r, window, stride=stride) for r in x]).astype("float32")


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


def main(
    seed: int = 0, seeds: int = 5, quick: bool = False, out: Path | None = None, verbose: int = 2
) -> dict:
    started = time.perf_counter()
    train, test, mean, std, activity = load()
    activities = sorted(set(activity))
    norm = lambda a: ((a - mean) / std).astype("float32")  # noqa: E731
    cfg = dict(CONFIG, epochs=2) if quick else CONFIG
    recon, auc = [], {k: [] for k in KINDS}
    by_activity = {k: {a: [] for a in activities} for k in KINDS}
    for s in seed_list(seed, seeds):
        keras.utils.set_random_seed(s)
        ae = seq2seq_autoencoder(
            cfg["window"],
            6,
            encoder_units=cfg["encoder_units"],
            latent=cfg["latent"],
            decoder_units=cfg["decoder_units"],
        )
        ae.autoencoder.compile(optimizer=keras.optimizers.Adam(cfg["lr"]), loss="mse")
        x = cut(norm(train), cfg["window"], 2)
        ae.autoencoder.fit(x, x, epochs=cfg["epochs"], batch_size=cfg["batch"], verbose=verbose)
        xt = norm(test)
        recon.append(float(window_errors(ae.autoencoder, xt, cfg["window"]).mean()))
        typical = window_errors(ae.autoencoder, norm(train), cfg["window"]).mean(axis=(0, 1))
        normal = scores(ae.autoencoder, xt, cfg["window"], typical)
        rng = np.random.default_rng(s)
        for kind in KINDS:
            faulty = scores(
                ae.autoencoder, norm(inject(test, kind, std, rng)), cfg["window"], typical
            )
            auc[kind].append(baselines.roc_auc(normal, faulty))
            for a in activities:  # this activity's faulty recordings against every normal one
                by_activity[kind][a].append(baselines.roc_auc(normal, faulty[activity == a]))
        print(
            f"seed {s}: test MSE {recon[-1]:.4f}, AUC "
            + ", ".join(f"{k} {auc[k][-1]:.3f}" for k in KINDS),
            flush=True,
        )
    stats = {"test window reconstruction MSE (standardised units)": mean_std(recon)}
    stats.update({f"ROC AUC, {k}": mean_std(v) for k, v in auc.items()})
    table = print_table(
        f"BasicMotions autoencoder, 40 test recordings; mean ± std over {seeds} seed(s){' (QUICK)' if quick else ''}",
        ["measure", "this run"],
        [[k, fmt(v, 3)] for k, v in stats.items()],
    )
    activity_stats = {k: {a: mean_std(v) for a, v in d.items()} for k, d in by_activity.items()}
    activity_table = print_table(
        "ROC AUC by activity: that activity's faulty copies against every normal recording",
        ["fault", *activities],
        [[k, *(fmt(activity_stats[k][a], 3) for a in activities)] for k in KINDS],
    )
    fig, axes = figure(2, 1, figsize=(9, 5), sharex=True)
    x0 = norm(test[:1])[0]
    pieces = cut(x0[None], cfg["window"], cfg["window"])  # non-overlapping windows
    rebuilt = np.asarray(ae.autoencoder.predict(pieces, verbose=0)).reshape(-1, 6)
    for c, ax in zip((0, 3), axes):
        ax.plot(x0[:, c], color="black", lw=1, label=f"sensor {c + 1}")
        ax.plot(rebuilt[:, c], color="tab:red", lw=1, label="reconstruction (window by window)")
        ax.legend(loc="upper right")
    axes[0].set_title("Test recording 0 and its reconstruction (last seed)")
    axes[1].set_xlabel("step")
    results = {
        "metrics": stats,
        "auc_by_activity": activity_stats,
        "config": cfg,
        "table": table,
        "activity_table": activity_table,
    }
    save(out or Path("results") / NAME, NAME, results, fig, quick=quick, started=started)
    return results


if __name__ == "__main__":
    cli(main, __doc__, NAME)
