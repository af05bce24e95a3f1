# %% [markdown]
"""
# Python source as text: a character-level next-token model with a per-step head

**Pattern:** next-token prediction (`next_token_model`: Embedding, GRU with
return_sequences=True, a softmax head applied at every step), sampling by feeding each
drawn character back into a stateful copy of the model.

**Data:** the Python standard library's own sources, which every machine with Python has:
train on TRAIN_FILES, score on the held-out HELD_OUT files (their text depends on the
Python version; RESULTS.md names the one measured). Characters outside printable ASCII
become "?".

**Shows:** `windows.next_step` on integer sequences, the bits per character on held-out
files against a unigram and a bigram model counted on the same training text and
scored on the same positions, and a generated sample with temperature.

**Command:** `python recipes/text_next_token.py [--quick] [--seed 0] [--seeds 5] [--out DIR]`

**How long:** about 11 min a seed on two cores (--quick: about 10 s).

**Expected:** far fewer bits per character than the bigram model, and a sample that looks
like Python (indentation, `self.`, docstrings) without being correct Python; RESULTS.md
has the measured figures.
"""

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import sysconfig
from pathlib import Path

import keras
import numpy as np
from _common import Run, figure, fmt, mean_std
from matplotlib.figure import Figure

from keras_lstm_patterns import baselines, explain, next_token_model, stateful, windows

NAME = "text_next_token"
TRAIN_FILES = [
    "argparse.py", "optparse.py", "configparser.py", "shutil.py", "difflib.py",
    "tempfile.py", "calendar.py", "textwrap.py", "heapq.py", "gettext.py",
]  # fmt: skip
HELD_OUT = ["csv.py", "shlex.py", "queue.py", "json/decoder.py"]
ALPHABET = "\n" + "".join(chr(i) for i in range(32, 127))
INDEX = {c: i for i, c in enumerate(ALPHABET)}
CONFIG = {"embedding_dim": 32, "units": 256, "steps": 128, "batch": 64, "epochs": 10, "lr": 2e-3}

run = Run.from_command_line(__doc__, NAME)

# %% [markdown]
"""
## The data: Python's own sources, as integers

Ten standard library modules train the model; four others are held out. Every
character becomes its index in a 96-character alphabet (newline and printable
ASCII), and each text is cut into non-overlapping chunks of 129 characters.
"""


# %%
def read(names: list[str], limit: int | None = None) -> list[str]:
    """The standard library files `names`, tabs as spaces, other characters as "?"."""
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


# %%
cfg = dict(CONFIG, units=32, epochs=1) if run.quick else CONFIG
train_text = read(TRAIN_FILES, 20_000 if run.quick else None)
test_text = read(HELD_OUT, 5_000 if run.quick else None)
print(f"characters: {sum(map(len, train_text)):,} train, {sum(map(len, test_text)):,} held out")
train, test = chunks(train_text, cfg["steps"]), chunks(test_text, cfg["steps"])
print(f"chunks: train {train.shape}, held out {test.shape}  (samples, steps + 1)")

# %% [markdown]
"""
`windows.next_step` splits each chunk into the input (characters 0..127) and the
target (characters 1..128): at every step the model sees one character and is
asked for the next.
"""

# %%
x, y = windows.next_step(train)
print(f"x {x.shape}, y {y.shape}  (samples, steps): y[:, t] is x[:, t + 1]")

# %% [markdown]
"""
## Baselines: character counts

The unigram model predicts every character with its frequency in the training text;
the bigram model with its frequency after the previous character. Both score exactly
the model's targets: every held-out character but each chunk's first.
"""


# %%
def build(cfg: dict, **kwargs) -> keras.Model:
    """The next-token model: Embedding, GRU over every step, a softmax at every step."""
    return next_token_model(
        len(ALPHABET), embedding_dim=cfg["embedding_dim"], units=cfg["units"], **kwargs
    )


# %%
test_chunks = ["".join(ALPHABET[i] for i in row) for row in test]
base = {
    "unigram": baselines.unigram_bits_per_char(train_text, [c[1:] for c in test_chunks], ALPHABET),
    "bigram": baselines.bigram_bits_per_char(train_text, test_chunks, ALPHABET, score_first=False),
}

# %% [markdown]
"""
## The model: a GRU over every step, a softmax at every step

`return_sequences=True` keeps the GRU's output at every step, and the Dense head is
applied to each of them, so one chunk trains 128 predictions at once. `steps=None`:
the same weights read a chunk of 128 characters or, below, one character at a time.
"""

# %%
print(explain(build(cfg, steps=None)))

# %% [markdown]
"""
## Train, one model per seed

Cross-entropy in nats per character; divided by ln 2 it is bits per character.
"""


# %%
def bits_per_char(model: keras.Model, seqs: np.ndarray) -> float:
    """Mean -log2 of the probability the model gave each next character."""
    x, y = windows.next_step(seqs)
    probs = np.asarray(model.predict(x, batch_size=64, verbose=0))
    p = np.take_along_axis(probs, y[..., None], axis=-1)[..., 0]
    return float(-np.log2(np.clip(p, 1e-12, 1.0)).mean())


# %%
def one_seed(seed: int) -> tuple:
    model = build(cfg, steps=None)
    model.compile(
        optimizer=keras.optimizers.Adam(cfg["lr"]), loss="sparse_categorical_crossentropy"
    )
    hist = model.fit(
        x, y, epochs=cfg["epochs"], batch_size=cfg["batch"], verbose=run.verbose, shuffle=True
    )
    return model, np.array(hist.history["loss"]) / np.log(2), bits_per_char(model, test)


runs = run.each_seed("GRU", one_seed)
model, curves, bpc = runs[-1][0], [r[1] for r in runs], [r[2] for r in runs]

# %% [markdown]
"""
## Bits per character on the held-out files
"""


# %%
def sample(
    model: keras.Model, cfg: dict, prompt: str, n: int, temperature: float, seed: int
) -> str:
    """Feed the prompt, then each drawn character back, through a stateful copy."""
    gen = build(cfg, stateful=True, batch_size=1)
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


def plot(curves: list, seeds: list[int], base: dict, held_out: float) -> Figure:
    """Training loss per epoch and seed, beside the held-out figures."""
    fig, ax = figure(figsize=(7, 4))
    for s, c in zip(seeds, curves):
        ax.plot(np.arange(1, len(c) + 1), c, marker="o", label=f"seed {s}: training")
    for k, v in base.items():
        ax.axhline(v, ls=":", color="grey")
        ax.text(1, v, f" {k} (held out)", va="bottom", fontsize=8)
    ax.axhline(held_out, ls="--", color="tab:red")
    ax.text(1, held_out, " GRU (held out, mean)", va="bottom", fontsize=8, color="tab:red")
    ax.set(xlabel="epoch", ylabel="bits per character", title="Character model on Python sources")
    ax.legend(fontsize=7)
    return fig


# %%
stat = mean_std(bpc)
table = run.table(
    f"Bits per character on {len(test) * cfg['steps']:,} held-out characters "
    f"({', '.join(HELD_OUT)})",
    ["model", "bits per character"],
    [
        [f"GRU({cfg['units']}) next-token model", fmt(stat, 3)],
        *[[k, fmt(v, 3)] for k, v in base.items()],
    ],
)

# %% [markdown]
"""
## Sampling: one character at a time through a stateful copy

A copy of the model with `stateful=True, batch_size=1` takes the trained weights. It
reads the prompt, then each drawn character is fed back as the next input, the GRU's
state carried from call to call. Temperature 0.7 sharpens the distribution.
"""

# %%
text = sample(model, cfg, "def ", 300, 0.7, run.seeds[0])
print("sample (temperature 0.7, last seed's model):\n" + text + "\n", flush=True)
results = {
    "bits_per_char": stat,
    "baselines": base,
    "config": cfg,
    "train_files": TRAIN_FILES,
    "held_out_files": HELD_OUT,
    "sample": text,
    "table": table,
}
run.save(results, plot(curves, run.seeds, base, stat["mean"]))
