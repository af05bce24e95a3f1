"""Extract the data sets in this folder from the wheels that ship them.

Run once, by hand, from a folder holding the unpacked wheels:

    pip download --no-deps sktime==1.2.0 statsmodels==0.15.0 -d wheels
    cd wheels && for w in *.whl; do unzip -o -q "$w"; done
    python ../data/extract.py . ../data

Nothing in the package runs this script; the CSV files it writes are committed.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def ts_to_long(src: Path, dst: Path) -> tuple[int, int, set[int]]:
    """Convert an sktime ``.ts`` file to long format ``sample, step, f1..fk, label``."""
    rows = []
    n_dims = None
    lengths: set[int] = set()
    in_data = False
    sample = 0
    for line in src.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if line.lower().startswith("@data"):
                in_data = True
            continue
        *dims, label = line.split(":")
        series = [[float(v) for v in d.split(",")] for d in dims]
        n_dims = len(series)
        length = len(series[0])
        assert all(len(s) == length for s in series), (src, sample)
        lengths.add(length)
        for step in range(length):
            rows.append([sample, step, *(s[step] for s in series), label])
        sample += 1
    with dst.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample", "step", *(f"f{i + 1}" for i in range(n_dims)), "label"])
        w.writerows(rows)
    return sample, n_dims, lengths


def main(root: Path, out: Path) -> None:
    d = root / "sktime" / "datasets" / "data"
    (out / "airline.csv").write_text((d / "Airline" / "Airline.csv").read_text())
    (out / "sunspots.csv").write_text(
        (root / "statsmodels" / "datasets" / "sunspots" / "sunspots.csv")
        .read_text()
        .replace('"', "")
    )
    for name, stem in [("JapaneseVowels", "japanese_vowels"), ("BasicMotions", "basic_motions")]:
        for part in ("TRAIN", "TEST"):
            n, k, lengths = ts_to_long(
                d / name / f"{name}_{part}.ts", out / f"{stem}_{part.lower()}.csv"
            )
            print(
                f"{name} {part}: {n} samples, {k} features, lengths {min(lengths)}-{max(lengths)}"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
