"""Every recipe runs end to end in --quick mode and writes finite results and a plot."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECIPES = sorted(p.stem for p in (ROOT / "recipes").glob("[a-z]*.py"))
HEADLINE = {
    "airline_look_back": ["rmse", "baselines"],
    "airline_forecast": ["rmse", "baselines"],
    "airline_one_to_many": ["rmse", "seasonal_naive"],
    "vowels_many_to_one": ["accuracy"],
    "motions_autoencoder": ["metrics"],
    "text_next_token": ["bits_per_char", "baselines", "sample"],
    "sunspots_steps": ["rmse_by_look_back", "persistence"],
}


def numbers(value):
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from numbers(v)


def test_every_recipe_is_listed():
    assert set(RECIPES) == set(HEADLINE)


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_quick(name, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "recipes" / f"{name}.py"),
            "--quick",
            "--quiet",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "QUICK" in proc.stdout and "| " in proc.stdout  # the results table
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["quick"] is True and results["recipe"] == name
    for key in HEADLINE[name]:
        assert key in results
    values = list(numbers({k: results[k] for k in HEADLINE[name]}))
    assert values and all(math.isfinite(v) for v in values)
    png = tmp_path / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
