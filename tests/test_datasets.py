import numpy as np
import pytest

from keras_lstm_patterns import datasets, windows


def test_airline():
    s = datasets.load_airline()
    assert s.shape == (144,)
    assert str(s.index[0].date()) == "1949-01-01" and str(s.index[-1].date()) == "1960-12-01"
    assert s.iloc[0] == 112 and s.iloc[-1] == 432


def test_sunspots():
    s = datasets.load_sunspots()
    assert s.shape == (309,) and s.index[0] == 1700 and s.index[-1] == 2008
    assert np.isfinite(s.to_numpy()).all()


@pytest.mark.parametrize(
    ("loader", "split", "samples", "features", "lengths", "classes"),
    [
        (datasets.load_japanese_vowels, "train", 270, 12, (7, 26), 9),
        (datasets.load_japanese_vowels, "test", 370, 12, (7, 29), 9),
        (datasets.load_basic_motions, "train", 40, 6, (100, 100), 4),
        (datasets.load_basic_motions, "test", 40, 6, (100, 100), 4),
    ],
    ids=["vowels-train", "vowels-test", "motions-train", "motions-test"],
)
def test_classification_sets(loader, split, samples, features, lengths, classes):
    frame = loader(split)
    feats = [c for c in frame.columns if c.startswith("f")]
    assert len(feats) == features
    x, n = windows.tanks(frame, id="sample", time="step", features=feats, pad=0.0)
    assert x.shape[0] == samples and x.shape[2] == features
    assert (n.min(), n.max()) == lengths
    assert frame.groupby("sample")["label"].nunique().max() == 1
    assert frame["label"].nunique() == classes


def test_bad_split():
    with pytest.raises(
        ValueError, match=r"`split` must be one of 'train', 'test'. Received: split='val'"
    ):
        datasets.load_basic_motions("val")


def test_every_data_file_ships_in_the_wheel():
    """The wheel's package data (pyproject force-include) lists every CSV of data/."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text())
    shipped = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    csvs = {f"data/{p.name}" for p in (root / "data").glob("*.csv")}
    assert csvs <= set(shipped)
    assert all(v == "keras_lstm_patterns/" + k for k, v in shipped.items())
