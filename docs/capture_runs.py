"""Run every recipe in quick mode as a notebook and keep its outputs for the lesson pages.

Each recipe is converted with ``jupytext`` (its sections as cells) and executed with
``nbclient`` in a fresh kernel, one recipe at a time, with ``KLP_RECIPE_ARGS="--quick"``:
the printed output and the plot are those of ``python recipes/NAME.py --quick``, cell by
cell. The executed notebook goes to ``docs/runs/NAME.ipynb`` (what a kernel wrote to stderr
is left out), with the command, date, backend and duration in its metadata;
``docs/build_pages.py`` shows it on the recipe's page as long as the recipe's cells are
unchanged.

    python docs/capture_runs.py                     # every recipe (several minutes)
    python docs/capture_runs.py vowels_many_to_one  # one
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from pathlib import Path

import jupytext
import nbclient
import nbformat

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "docs" / "runs"


def tidy(notebook: nbformat.NotebookNode) -> None:
    """Keep what a script would show (printed text, plots, errors): leave out stderr, the
    values of last lines, execution counts and this checkout's path."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if (o.output_type == "stream" and o.name == "stdout")
                or o.output_type in ("display_data", "error")
            ]
            for o in cell.outputs:
                if o.output_type == "stream":
                    o.text = o.text.replace(f"{ROOT}/", "")
            cell.execution_count = None
            cell.metadata = {}


def capture(name: str) -> Path:
    """Execute ``recipes/NAME.py`` as a notebook in quick mode; write docs/runs/NAME.ipynb."""
    source = ROOT / "recipes" / f"{name}.py"
    notebook = jupytext.read(source)
    out = ROOT / "results" / "docs-capture" / name
    os.environ["KLP_RECIPE_ARGS"] = f"--quick --out {out}"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    began = time.perf_counter()
    client = nbclient.NotebookClient(
        notebook,
        timeout=1800,
        kernel_name="python3",
        resources={"metadata": {"path": str(source.parent)}},
    )
    client.execute()
    seconds = time.perf_counter() - began
    tidy(notebook)
    import keras

    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "klp_capture": {
            "command": f"python recipes/{name}.py --quick",
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
            "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
            "keras": keras.__version__,
            "seconds": round(seconds),
        },
    }
    RUNS.mkdir(parents=True, exist_ok=True)
    path = RUNS / f"{name}.ipynb"
    nbformat.write(notebook, path)
    print(f"{name}: {seconds:.0f} s -> {path.relative_to(ROOT)}", flush=True)
    return path


def main(names: list[str]) -> None:
    names = names or sorted(p.stem for p in (ROOT / "recipes").glob("[a-z]*.py"))
    for name in names:  # one at a time: each trains its own models
        capture(name)


if __name__ == "__main__":
    main(sys.argv[1:])
