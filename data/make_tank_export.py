"""Write ``data/tank_export.csv``: six oil tanks as a real logger export would hold them.

The values are simulated (seeded, so the file is the same on every run); what is made
realistic is the export's shape, the things a user's own file holds:

- six tanks ``T-01`` .. ``T-06``, pressure (kPa, about 300) and temperature (deg C);
- time stamps in ISO 8601 with the UTC offset of local time (``America/New_York``),
  across the end of daylight-saving time on 2024-11-03: the local hour 01:00-01:59
  appears twice, once at ``-04:00`` and once at ``-05:00``;
- ``T-03`` logs every 30 minutes, the others every hour;
- ``T-06`` was installed three weeks after the others;
- ``T-02`` has a 10-hour gap (no rows at all);
- empty cells, and ``-999`` written by the logger for a failed reading (sometimes a
  few in a row);
- exact duplicate rows (an export that overlapped itself);
- ids with stray spaces or in lower case (``"T-04 "``, ``"t-05"``) on some rows;
- rows in no particular order.

Run from the repository root (nothing in the package runs it; the CSV is committed):

    python data/make_tank_export.py            # writes data/tank_export.csv
    python data/make_tank_export.py out.csv    # or another path
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 21
ZONE = "America/New_York"
START = pd.Timestamp("2024-10-13 00:00", tz=ZONE)
END = pd.Timestamp("2024-11-24 00:00", tz=ZONE)  # six weeks, the DST change inside
TANKS = ("T-01", "T-02", "T-03", "T-04", "T-05", "T-06")
HALF_HOURLY = "T-03"
LATE = "T-06"  # installed three weeks after the others
GAP = ("T-02", pd.Timestamp("2024-10-24 06:00", tz=ZONE), 10)  # tank, start, hours
EMPTY_SHARE = 0.004  # of the cells of each value column
SENTINEL, SENTINEL_RUNS = "-999", 14  # runs of 1-3 failed readings per value column
DUPLICATES = 25
MESSY_IDS = {"T-04": "T-04 ", "T-05": "t-05", "T-01": " T-01"}  # on about 5% of rows


def weather(rng: np.random.Generator, hours: np.ndarray) -> np.ndarray:
    """The site's outside temperature at ``hours`` (hours since START, UTC clock):
    a daily cycle peaking mid-afternoon local time, a slow cooling, and weather fronts
    (a smooth random walk shared by every tank)."""
    grid = np.arange(int(hours.max()) + 2)
    fronts = np.cumsum(rng.normal(0.0, 0.12, grid.size))
    fronts = np.convolve(fronts - fronts.mean(), np.ones(12) / 12, mode="same")
    daily = 5.0 * np.sin(2 * np.pi * (hours - 14.0) / 24.0)  # 14:00 UTC = 10:00 local
    return 14.0 - 0.08 * hours / 24.0 + daily + np.interp(hours, grid, fronts)


def tank_rows(
    rng: np.random.Generator, k: int, tank: str, outside: Callable[[np.ndarray], np.ndarray]
) -> pd.DataFrame:
    """One tank's clean readings: its own time stamps, pressure and temperature."""
    start = START + pd.Timedelta(weeks=3) if tank == LATE else START
    step = "30min" if tank == HALF_HOURLY else "h"
    stamps = pd.date_range(start, END, freq=step, inclusive="left")  # absolute time
    hours = ((stamps - START) / pd.Timedelta(hours=1)).to_numpy()
    # the tank lags the air by a couple of hours and swings less
    temperature = 2.0 + 0.8 * outside(hours - 2.0) + rng.normal(0.0, 0.15, hours.size)
    level = np.zeros(hours.size)  # pressure drifts with deliveries and withdrawals
    phi = 0.985 if step == "h" else 0.9925
    shocks = rng.normal(0.0, 0.5 if step == "h" else 0.35, hours.size)
    for i in range(1, hours.size):
        level[i] = phi * level[i - 1] + shocks[i]
    pressure = 292.0 + 3.5 * k + 0.9 * temperature + level + rng.normal(0.0, 0.1, hours.size)
    frame = pd.DataFrame(
        {
            "tank_id": tank,
            "timestamp": stamps,
            "pressure": [f"{p:.2f}" for p in pressure],
            "temperature": [f"{t:.2f}" for t in temperature],
        }
    )
    if tank == GAP[0]:
        gone = (stamps >= GAP[1]) & (stamps < GAP[1] + pd.Timedelta(hours=GAP[2]))
        frame = frame[~gone]
    return frame


def export(seed: int = SEED) -> pd.DataFrame:
    """The whole export, messy and shuffled, every column as text."""
    rng = np.random.default_rng(seed)
    span = (END - START) / pd.Timedelta(hours=1)
    air = weather(rng, np.arange(-4.0, span + 1.0))

    def outside(hours: np.ndarray) -> np.ndarray:
        return np.interp(hours, np.arange(-4.0, span + 1.0), air)

    frame = pd.concat(
        [tank_rows(rng, k, tank, outside) for k, tank in enumerate(TANKS)], ignore_index=True
    )
    frame["timestamp"] = [t.isoformat() for t in frame["timestamp"]]
    n = len(frame)
    for column in ("pressure", "temperature"):
        empty = rng.choice(n, int(EMPTY_SHARE * n), replace=False)
        frame.loc[empty, column] = ""
        for start in rng.choice(n - 3, SENTINEL_RUNS, replace=False):
            rows = frame.index[(frame["tank_id"] == frame.at[start, "tank_id"])]
            at = rows.get_loc(start)
            frame.loc[rows[at : at + int(rng.integers(1, 4))], column] = SENTINEL
    for tank, messy in MESSY_IDS.items():
        rows = frame.index[frame["tank_id"] == tank]
        frame.loc[rng.choice(rows, len(rows) // 20, replace=False), "tank_id"] = messy
    frame = pd.concat([frame, frame.iloc[rng.choice(n, DUPLICATES, replace=False)]])
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else Path(__file__).resolve().parent / "tank_export.csv"
    frame = export()
    frame.to_csv(path, index=False, lineterminator="\n")
    print(f"wrote {path}: {len(frame)} rows, {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
