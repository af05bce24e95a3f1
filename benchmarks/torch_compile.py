"""PyTorch: does `torch.compile` (or one intra-op thread) speed up `fit_stateful`?

    KERAS_BACKEND=torch python benchmarks/torch_compile.py [--epochs 8] [--only 3 4 5]
    KERAS_BACKEND=torch python benchmarks/torch_compile.py --only 2

The model and data of `stateful_fit.py`'s part 1 (stateful LSTM(4) + Dense(1) on the
airline train months, look_back=3, batch size 1, Adam, the same starting weights),
trained `--epochs` epochs in one run by the tutorial loop (`model.fit(x, y, epochs=1,
batch_size=1, shuffle=False)` and a reset, once per epoch), by `fit_stateful` as it is on
PyTorch (a plain loop over Keras's `train_step`, each state variable given a fresh
`torch.nn.Parameter`, `_backends/torch.py`), and by that loop changed one way per row
(`--only` picks them, 3 4 5 by default; rows 0 and 1 always run):

2. the step wrapped in `torch.compile(model.train_step)`, as Keras's own trainer does for
   `compile(jit_compile=True)`, the states still rebound as `torch.nn.Parameter`s.
   TorchDynamo cannot trace the `Parameter` constructor of each state write (writing the
   state in place instead fails backpropagation for LSTM/GRU on PyTorch), nor
   `loss.backward()`: it breaks the graph there and runs the functions around the writes
   eagerly;
3. what `fit_stateful` runs for a model compiled with `jit_compile=True`: the compiled
   step with the states rebound as plain tensors, so that only `loss.backward()` breaks
   the graph;
4. the states rebound as plain tensors, eager;
5. `torch.set_num_threads(1)` for the run (restored afterwards).

Each row checks after every epoch that the states hold the kind of tensor it names.
The rows take turns, one epoch each in a rotated order, so that a change of load on a
shared machine falls on all of them; the `fit_stateful` rows run what it runs for
`batch_size=1` (`_backends.train_epochs` on one group of `len(x)` batches, one epoch per
call). The table gives the median epoch after the first, the first epoch (for a compiled
row it holds the compilation) and the ratio of the current path's median to this row's.
Every `fit_stateful` row's losses must equal the current path's epoch by epoch (rtol
1e-5); the script fails otherwise. Compare the ratios, not the seconds. Rows 2 and 3
compile the same Keras functions: run them in separate processes (`--only 2`, `--only 3`),
or TorchDynamo's recompile limit (8 per function) leaves the second one mostly eager.

Measured on 2 shared cores, 8 epochs, one process per compiled row, losses equal within
3.1e-07 relative: row 2 1.04x-1.05x the current path after a 72-81 s compilation; row 3
2.22x after 42 s (load average about 5) and 2.95x after 25 s (load about 2); row 4
1.00x-1.15x; row 5 0.59x-1.09x (noise). The tutorial loop ran at 0.86x-0.90x the current
path. Again on 2 idle cores (2026-11-30, keras 3.15.1, torch 2.13.0): row 2 1.00x after
44 s, row 3 4.47x after 21 s, row 4 1.02x, row 5 0.97x, the tutorial loop 0.78x-0.80x.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).parent))
import keras
import numpy as np
from _common import table
from stateful_fit import airline_case

from keras_lstm_patterns import _backends, many_to_one, stateful
from keras_lstm_patterns._backends import torch as backend
from keras_lstm_patterns._model import stateful_layers


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """PyTorch's intra-op parallelism off for the block."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def parameter_states() -> contextlib.AbstractContextManager:
    """Within the block the compiled path rebinds states as ``torch.nn.Parameter`` (as
    the eager path does) instead of plain tensors."""
    return mock.patch.object(backend, "rebind_torch_tensor", backend.rebind_torch_value)


def plain_tensor_states() -> contextlib.AbstractContextManager:
    """Within the block the eager path rebinds states as plain tensors (as the compiled
    path does)."""
    plain = functools.partial(backend.carrying, rebind=backend.rebind_torch_tensor)
    return mock.patch.object(backend, "carrying", plain)


def states_are_parameters(model: keras.Model) -> bool:
    """Whether the model's state variables hold ``torch.nn.Parameter`` values (the
    check that a row ran the rebinding it names)."""
    import torch

    kinds = {
        isinstance(v._value, torch.nn.Parameter)
        for layer in stateful_layers(model)
        for v in keras.tree.flatten(layer.states)
    }
    assert len(kinds) == 1, "the state variables are rebound two ways"
    return kinds.pop()


def main(epochs: int = 8, only: tuple[int, ...] = (3, 4, 5)) -> str:
    if keras.backend.backend() != "torch":
        raise SystemExit("run with KERAS_BACKEND=torch (the trial is about PyTorch)")
    if epochs < 2:
        raise SystemExit("--epochs must be at least 2 (the first epoch is reported apart)")
    x, y, weights = airline_case()  # stateful_fit.py's part 1, the same weights

    def build(jit_compile: bool | str = "auto") -> keras.Model:
        model = many_to_one(3, 1, 4, outputs=1, stateful=True, batch_size=1)
        model.set_weights(weights)
        model.compile(optimizer="adam", loss="mean_squared_error", jit_compile=jit_compile)
        return model

    def tutorial() -> Callable[[], float]:
        model = build()

        def epoch() -> float:
            hist = model.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
            stateful.reset_states(model)
            return hist.history["loss"][-1]

        return epoch

    def fit_path(
        jit_compile: bool | str,
        parameters: bool,
        setup: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
        around: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
    ) -> Callable[[], float]:
        # what fit_stateful(model, x, y, batch_size=1) runs: one group of len(x) batches;
        # the runner picks its step and state rebinding when it is made (under `setup`)
        model = build(jit_compile)
        full = tuple(a.reshape(1, len(a), 1, *a.shape[1:]) for a in (x, y))
        with setup():
            run = _backends.train_epochs(model, stateful_layers(model), full, None)

        def epoch() -> float:
            with around():
                loss = run(1)[0]["loss"]
            if states_are_parameters(model) != parameters:
                raise SystemExit(f"a row did not rebind its states as it says ({jit_compile=})")
            return loss

        return epoch

    paths = {
        "tutorial loop (fit(epochs=1) + reset)": tutorial,
        "fit_stateful, current PyTorch path": lambda: fit_path("auto", True),
        "fit_stateful, torch.compile(model.train_step), Parameter states": lambda: fit_path(
            True, True, parameter_states
        ),
        "fit_stateful, jit_compile=True (torch.compile, plain-tensor states)": lambda: fit_path(
            True, False
        ),
        "fit_stateful, states as plain tensors (eager)": lambda: fit_path(
            "auto", False, plain_tensor_states
        ),
        "fit_stateful, torch.set_num_threads(1)": lambda: fit_path("auto", True, around=one_thread),
    }
    paths = {name: make() for k, (name, make) in enumerate(paths.items()) if k < 2 or k in only}
    names = list(paths)
    losses: dict[str, list[float]] = {n: [] for n in names}
    seconds: dict[str, list[float]] = {n: [] for n in names}
    for e in range(epochs):
        # the paths take turns, one epoch each, in a rotated order: a change of load on a
        # shared machine falls on all of them
        for name in names[e % len(names) :] + names[: e % len(names)]:
            start = time.perf_counter()
            losses[name].append(paths[name]())
            seconds[name].append(time.perf_counter() - start)
        print(f"epoch {e + 1}: " + ", ".join(f"{seconds[n][-1]:.2f}s" for n in names), flush=True)
    current_name = names[1]
    current_losses = np.asarray(losses[current_name])
    current = statistics.median(seconds[current_name][1:])
    rows = []
    for name in names:
        got = np.asarray(losses[name])
        rel = np.max(np.abs(got - current_losses) / np.abs(current_losses))
        if name.startswith("fit_stateful"):
            np.testing.assert_allclose(got, current_losses, rtol=1e-5, err_msg=name)
        median = statistics.median(seconds[name][1:])
        rows.append(
            [
                name,
                f"{got[-1]:.7g}",
                f"{rel:.1e}",
                f"{median:.3f}",
                f"{seconds[name][0]:.2f}",
                f"{current / median:.2f}x",
            ]
        )
    header = [
        "training",
        "last loss",
        "max rel. loss diff vs current",
        "median epoch s",
        "first epoch s",
        "current / this",
    ]
    text = table(header, rows)
    print(f"\n{len(x)} windows of 3, batch 1, {epochs} epochs, torch backend\n\n{text}")
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument(
        "--only",
        type=int,
        nargs="*",
        default=(3, 4, 5),
        help="the rows to run besides the first two (2: torch.compile, 3: torch.compile "
        "with plain-tensor states, 4: plain-tensor states eager, 5: one thread); never 2 "
        "with 3 (they compile the same functions)",
    )
    args = parser.parse_args()
    main(args.epochs, args.only)
