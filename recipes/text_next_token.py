"""Python source as text: a character-level next-token model with a TimeDistributed head.

Pattern: next-token prediction (`next_token_model`: Embedding, GRU with
return_sequences=True, a softmax head applied at every step), sampling by feeding each
drawn character back into a stateful copy of the model.
Data: the Python standard library's own sources, which every machine with Python has:
train on TRAIN_FILES, score on the held-out HELD_OUT files (their text depends on the
Python version; RESULTS.md names the one measured). Characters outside printable ASCII
become "?".
Shows: `windows.next_step` on integer sequences, the bits per character on held-out
files against a unigram and a bigram model counted on the same training text and
scored on the same positions, and a generated sample with temperature.
Command: python recipes/text_next_token.py [--quick] [--seed 0] [--seeds 5] [--out DIR]
Expected: far fewer bits per character than the bigram model (RESULTS.md).
"""

from __future__ import annotations

from _common import cli, figure, fmt, mean_std, print_table, save, seed_list

# isort: split

import sysconfig
import time
from pathlib import Path

import keras
import numpy as np

from keras_lstm_patterns import baselines, next_token_model, stateful, windows

NAME = "text_next_token"
TRAIN_FILES = [
    "argparse.py", "optparse.py", "configparser.py", "shutil.py", "difflib.py",
    "tempfile.py", "calendar.py", "textwrap.py", "heapq.py", "gettext.py",
]  # fmt: skip
HELD_OUT = ["csv.py", "shlex.py", "queue.py", "json/decoder.py"]
ALPHABET = "\n" + "".join(chr(i) for i in range(32, 127))
INDEX = {c: i for i, c in enumerate(ALPHABET)}
CONFIG = {"embedding_dim": 32, "units": 256, "steps": 128, "batch": 64, "epochs": 10, "lr": 2e-3}


def read(names: list[str], limit: int | None = None) -> list[str]:
    root = Path(sysconfig.get_paths()["stdlib"])
    texts = []
    for name in names:
        text = (root / name).read_text(encoding="utf-8")
        text = "".join(c if c in INDEX else "?" for c in text.replace("\t", "    "))
        texts.append(text[:limit])
    return texts


def chunks(texts: list[str], steps: int) -> np.ndarray:
    """Non-overlapping token sequences `(samples, steps + 1)` cut from every text."""
    rows = []
    for text in texts:
        ids = np.array([INDEX[c] for c in text], dtype="int32")
        n = (len(ids) - 1) // steps
        rows += [ids[i * steps : i * steps + steps + 1] for i in range(n)]
    return np.stack(rows)


def bits_per_char(model: keras.Model, seqs: np.ndarray) -> float:
    x, y = windows.next_step(seqs)
    probs = np.asarray(model.predict(x, batch_size=64, verbose=0))
    p = np.take_along_axis(probs, y[..., None], axis=-1)[..., 0]
    return float(-np.log2(np.clip(p, 1e-12, 1.0)).mean())


def sample(
    model: keras.Model, cfg: dict, prompt: str, n: int, temperature: float, seed: int
) -> str:
    """Feed the prompt, then each drawn character back, through a stateful copy."""
    gen = next_token_model(
        len(ALPHABET),
        embedding_dim=cfg["embedding_dim"],
        units=cfg["units"],
        stateful=True,
        batch_size=1,
    )
    gen.set_weights(model.get_weights())
    stateful.reset_states(gen)
    rng = np.random.default_rng(seed)
    probs = np.asarray(gen.predict_on_batch(np.array([[INDEX[c] for c in prompt]])))[0, -1]
    out = []
    for _ in range(n):
        logits = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
        p = np.exp(logits - logits.max())
        token = int(rng.choice(len(ALPHABET), p=p / p.sum()))
        out.append(ALPHABET[token])
        probs = np.asarray(gen.predict_on_batch(np.array([[token]])))[0, -1]
    return prompt + "".join(out)


def main(
    seed: int = 0, seeds: int = 5, quick: bool = False, out: Path | None = None, verbose: int = 2
) -> dict:
    started = time.perf_counter()
    cfg = dict(CONFIG, units=32, epochs=1) if quick else CONFIG
    train_text = read(TRAIN_FILES, 20_000 if quick else None)
    test_text = read(HELD_OUT, 5_000 if quick else None)
    train, test = chunks(train_text, cfg["steps"]), chunks(test_text, cfg["steps"])
    # the baselines score exactly the model's targets: every character but each chunk's first
    test_chunks = ["".join(ALPHABET[i] for i in row) for row in test]
    base = {
        "unigram": baselines.unigram_bits_per_char(
            train_text, [c[1:] for c in test_chunks], ALPHABET
        ),
        "bigram": baselines.bigram_bits_per_char(
            train_text, test_chunks, ALPHABET, score_first=False
        ),
    }
    x, y = windows.next_step(train)
    bpc, curves = [], []
    for s in seed_list(seed, seeds):
        keras.utils.set_random_seed(s)
        model = next_token_model(
            len(ALPHABET), embedding_dim=cfg["embedding_dim"], units=cfg["units"], steps=None
        )
        model.compile(
            optimizer=keras.optimizers.Adam(cfg["lr"]), loss="sparse_categorical_crossentropy"
        )
        hist = model.fit(
            x, y, epochs=cfg["epochs"], batch_size=cfg["batch"], verbose=verbose, shuffle=True
        )
        curves.append(np.array(hist.history["loss"]) / np.log(2))
        bpc.append(bits_per_char(model, test))
        print(f"seed {s}: held-out {bpc[-1]:.3f} bits per character", flush=True)
    stat = mean_std(bpc)
    table = print_table(
        f"Bits per character on {len(test) * cfg['steps']:,} held-out characters "
        f"({', '.join(HELD_OUT)}); mean ± std over {seeds} seed(s){' (QUICK)' if quick else ''}",
        ["model", "bits per character"],
        [
            [f"GRU({cfg['units']}) next-token model", fmt(stat, 3)],
            *[[k, fmt(v, 3)] for k, v in base.items()],
        ],
    )
    text = sample(model, cfg, "def ", 300, 0.7, seed)
    print("sample (temperature 0.7):\n" + text + "\n", flush=True)
    fig, ax = figure(figsize=(7, 4))
    for k, c in enumerate(curves):
        ax.plot(np.arange(1, len(c) + 1), c, marker="o", label=f"seed {seed + k}: training")
    for k, v in base.items():
        ax.axhline(v, ls=":", color="grey")
        ax.text(1, v, f" {k} (held out)", va="bottom", fontsize=8)
    ax.axhline(stat["mean"], ls="--", color="tab:red")
    ax.text(1, stat["mean"], " GRU (held out, mean)", va="bottom", fontsize=8, color="tab:red")
    ax.set(xlabel="epoch", ylabel="bits per character", title="Character model on Python sources")
    ax.legend(fontsize=7)
    results = {
        "bits_per_char": stat,
        "baselines": base,
        "config": cfg,
        "train_files": TRAIN_FILES,
        "held_out_files": HELD_OUT,
        "sample": text,
        "table": table,
    }
    save(out or Path("results") / NAME, NAME, results, fig, quick=quick, started=started)
    return results


if __name__ == "__main__":
    cli(main, __doc__, NAME)
