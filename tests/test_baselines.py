import numpy as np
import pytest

from keras_lstm_patterns import baselines


def test_persistence_and_seasonal_naive_by_hand():
    y = np.arange(1.0, 31.0)
    np.testing.assert_array_equal(baselines.persistence(y, 25), y[24:29])
    np.testing.assert_array_equal(baselines.seasonal_naive(y, 25), y[13:18])
    assert baselines.rmse(y[25:], baselines.persistence(y, 25)) == 1.0
    assert baselines.rmse(y[25:], baselines.seasonal_naive(y, 25)) == 12.0


def test_seasonal_random_walk_is_exact_on_a_seasonal_geometric_series():
    t = np.arange(60)
    y = 100 * 1.01**t * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    pred = baselines.seasonal_random_walk(y, 30)
    np.testing.assert_allclose(pred, y[30:], rtol=1e-10)
    roll = baselines.seasonal_random_walk_rollout(y[:30], 30)
    np.testing.assert_allclose(roll, y[30:], rtol=1e-9)


def test_seasonal_naive_rollout_repeats_last_period():
    h = np.arange(24.0)
    np.testing.assert_array_equal(
        baselines.seasonal_naive_rollout(h, 15, period=12), np.r_[h[12:], h[12:15]]
    )


def test_unigram_and_bigram_against_hand_counts():
    alphabet = "ab"
    train, test = ["aab"], ["ab"]
    # unigram with add-one: a=3/5, b=2/5
    expected_uni = -(np.log2(3 / 5) + np.log2(2 / 5)) / 2
    assert baselines.unigram_bits_per_char(train, test, alphabet) == pytest.approx(expected_uni)
    # bigram with add-one: P(b|a) = (1+1)/(1+1+1+1) = 2/4; first char by unigram 3/5
    expected_bi = -(np.log2(3 / 5) + np.log2(2 / 4)) / 2
    assert baselines.bigram_bits_per_char(train, test, alphabet) == pytest.approx(expected_bi)
    # a deterministic alternation is learned by the bigram, not by the unigram
    alt = ["ab" * 200]
    assert baselines.bigram_bits_per_char(alt, alt, alphabet) < 0.05
    assert baselines.unigram_bits_per_char(alt, alt, alphabet) == pytest.approx(1.0, abs=1e-3)


def test_errors():
    with pytest.raises(
        ValueError, match=r"`start` must be between 13 and 29 \(needs 13 past values\)"
    ):
        baselines.seasonal_random_walk(np.ones(30), 5)
    with pytest.raises(ValueError, match=r"`predicted` must be the shape of actual \(2,\)"):
        baselines.rmse([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match=r"`test` must be a non-empty sequence of texts"):
        baselines.unigram_bits_per_char(["ab"], [], "ab")


def test_roc_auc_against_pair_count():
    rng = np.random.default_rng(0)
    normal, anomal = rng.normal(size=30), rng.normal(0.5, size=20)
    pairs = [(b > a) + 0.5 * (b == a) for a in normal for b in anomal]
    assert baselines.roc_auc(normal, anomal) == pytest.approx(np.mean(pairs))
    assert baselines.roc_auc([0, 1], [2, 3]) == 1.0 and baselines.roc_auc([2, 3], [0, 1]) == 0.0


def test_roc_auc_refuses_scores_it_would_count_wrong():
    """Was: 2-D scores were compared row against row (0.25 for flat scores' 0.5) and a
    NaN silently lowered the AUC."""
    for normal, anomaly, name, message in [
        ([[0.1, 0.5], [0.2, 0.6]], [0.3, 0.4], "normal_scores", r"1-D .* shape \(2, 2\)"),
        ([0.1, 0.2], [], "anomaly_scores", r"1-D and non-empty"),
        ([0.1, np.nan], [0.3], "normal_scores", r"finite .*normal_scores\[1\]=nan"),
        (0.5, [0.3], "normal_scores", r"shape \(\)"),
    ]:
        with pytest.raises(ValueError, match=message) as err:
            baselines.roc_auc(normal, anomaly)
        assert err.value.name == name
    with pytest.raises(TypeError, match="`anomaly_scores` must be real numbers"):
        baselines.roc_auc([0.1], ["a"])


def test_bigram_without_first_character():
    # P(b|a) = 2/4 with add-one; only the pair is scored
    got = baselines.bigram_bits_per_char(["aab"], ["ab"], "ab", score_first=False)
    assert got == pytest.approx(-np.log2(2 / 4))


def test_autoregression_rollout_recovers_a_noise_free_ar2():
    x = [1.0, 0.5]
    for _ in range(40):
        x.append(0.3 + 0.6 * x[-1] - 0.2 * x[-2])
    want = []
    h = list(x)
    for _ in range(10):
        h.append(0.3 + 0.6 * h[-1] - 0.2 * h[-2])
        want.append(h[-1])
    got = baselines.autoregression_rollout(x, 2, 10)
    np.testing.assert_allclose(got, want, atol=1e-8)
    # a ridge pulls the lag weights towards 0: the rollout moves to the mean sooner
    shrunk = baselines.autoregression_rollout(x, 2, 10, ridge=1e3)
    assert not np.allclose(shrunk, want, atol=1e-3)


def test_autoregression_rollout_errors():
    with pytest.raises(ValueError, match=r"`order` must be between 1 and 2"):
        baselines.autoregression_rollout(np.arange(6.0), 3, 2)
    with pytest.raises(ValueError, match=r"`ridge` must be a finite number >= 0"):
        baselines.autoregression_rollout(np.arange(6.0), 1, 2, ridge=-1.0)


def test_seasonal_random_walk_rollout_integrates_corrections_by_hand():
    history = np.exp(np.linspace(0.0, 1.0, 30) + 0.1 * np.sin(np.arange(30)))
    w = np.array([0.01, -0.02, 0.005])
    logy = list(np.log(history))
    for wt in w:
        logy.append(logy[-1] + logy[-12] - logy[-13] + wt)
    got = baselines.seasonal_random_walk_rollout(history, 3, corrections=w)
    np.testing.assert_allclose(got, np.exp(logy[30:]), rtol=1e-12)
    np.testing.assert_allclose(
        baselines.seasonal_random_walk_rollout(history, 3, corrections=np.zeros(3)),
        baselines.seasonal_random_walk_rollout(history, 3),
    )
    with pytest.raises(ValueError, match=r"`corrections` must be 3 values, one per step"):
        baselines.seasonal_random_walk_rollout(history, 3, corrections=[0.0])


def test_text_refusals_name_the_argument():
    with pytest.raises(
        ValueError,
        match=r"`test` must be texts of characters in `alphabet` \('ab'\)\. Received: test\[1\]\[2\]='z'",
    ):
        baselines.unigram_bits_per_char(["ab"], ["ab", "abz"], "ab")
    with pytest.raises(
        ValueError, match=r"`train` must be texts of characters.*train\[0\]\[0\]='c'"
    ):
        baselines.bigram_bits_per_char(["cab"], ["ab"], "ab")
    with pytest.raises(TypeError, match=r"`test` must be a sequence of texts \(a list of str\)"):
        baselines.unigram_bits_per_char(["ab"], "ab", "ab")
    with pytest.raises(
        TypeError, match=r"`train\[0\]` must be a str\. Received: train\[0\] of type int"
    ):
        baselines.unigram_bits_per_char([3], ["ab"], "ab")
    with pytest.raises(ValueError, match=r"`alphabet` must be distinct characters"):
        baselines.unigram_bits_per_char(["ab"], ["ab"], "aab")
    with pytest.raises(
        ValueError, match=r"`test` must be at least one character to score.*lengths \[1, 0\]"
    ):
        baselines.bigram_bits_per_char(["ab"], ["a", ""], "ab", score_first=False)


def test_an_empty_test_text_scores_nothing():
    """Against the hand count: the empty text adds no characters and no bits."""
    with_empty = baselines.bigram_bits_per_char(["aab"], ["ab", ""], "ab")
    assert with_empty == pytest.approx(-(np.log2(3 / 5) + np.log2(2 / 4)) / 2)
    assert baselines.unigram_bits_per_char(["aab"], ["", "ab"], "ab") == pytest.approx(
        -(np.log2(3 / 5) + np.log2(2 / 5)) / 2
    )


def test_autoregression_rollout_of_a_constant_history_stays_constant():
    for value in (0.0, 3.0, -2.5):
        got = baselines.autoregression_rollout(np.full(12, value), 2, 4)
        np.testing.assert_allclose(got, np.full(4, value), atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"ridge": "a"}, ValueError, r"`ridge` must be a finite number >= 0\. Received: ridge='a'"),
        ({"ridge": float("nan")}, ValueError, r"`ridge` must be a finite number >= 0"),
        (
            {"ridge": True},
            ValueError,
            r"`ridge` must be a finite number >= 0\. Received: ridge=True",
        ),
        (
            {"history": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0]},
            ValueError,
            r"`history` must be finite \(no NaN or inf\)\. Received: history\[2\]=nan",
        ),
        ({"history": None}, TypeError, r"`history` must be an array of real numbers"),
        ({"history": np.ones((6, 2))}, ValueError, r"`history` must be 1-D `\(time,\)`"),
    ],
    ids=["ridge-str", "ridge-nan", "ridge-bool", "nan-history", "none", "2-d"],
)
def test_autoregression_rollout_refusals(kwargs, error, match):
    args = {"history": np.arange(6.0), "order": 1, "horizon": 2, **kwargs}
    ridge = args.pop("ridge", 0.0)
    with pytest.raises(error, match=match):
        baselines.autoregression_rollout(**args, ridge=ridge)


def test_seasonal_naive_rollout_keeps_the_features_of_a_2d_history():
    h = np.arange(10.0).reshape(5, 2)
    got = baselines.seasonal_naive_rollout(h, 5, period=2)
    want = np.array([h[3], h[4], h[3], h[4], h[3]])
    np.testing.assert_array_equal(got, want)
    assert got.shape == (5, 2)


def test_log_baselines_refuse_values_at_or_below_zero():
    y = np.r_[np.ones(20), 0.0]
    with pytest.raises(ValueError, match=r"`series` must be above 0.*series\[20\]=0\.0"):
        baselines.seasonal_random_walk(y, 15)
    with pytest.raises(ValueError, match=r"`history` must be above 0.*history\[20\]=0\.0"):
        baselines.seasonal_random_walk_rollout(y, 3)
    with pytest.raises(ValueError, match=r"`series` must be finite.*series\[3\]=inf"):
        baselines.persistence([1.0, 2.0, 3.0, np.inf], 2)


@pytest.mark.parametrize(
    "call",
    [
        lambda: baselines.seasonal_naive_rollout(np.arange(12.0), 2**62, period=1),
        lambda: baselines.seasonal_random_walk_rollout(np.arange(1.0, 30.0), 2**62),
        lambda: baselines.autoregression_rollout(np.arange(12.0), 1, 2**62),
    ],
    ids=["seasonal-naive", "seasonal-random-walk", "autoregression"],
)
def test_rollout_steps_are_bounded(call):
    with pytest.raises(
        ValueError,
        match=r"`horizon` must be between 1 and 10000000\. Received: horizon=4611686018427387904",
    ):
        call()


@pytest.mark.parametrize(
    ("rollout", "args"),
    [
        (baselines.seasonal_naive_rollout, (np.arange(1.0, 30.0),)),
        (baselines.seasonal_random_walk_rollout, (np.arange(1.0, 30.0),)),
        (baselines.autoregression_rollout, (np.arange(1.0, 30.0), 2)),
    ],
    ids=["seasonal-naive", "seasonal-random-walk", "autoregression"],
)
def test_rollout_length_is_horizon_and_steps_is_refused(rollout, args):
    positional = rollout(*args, 5)
    assert positional.shape == (5,)
    np.testing.assert_array_equal(rollout(*args, horizon=5), positional)
    with pytest.raises(TypeError, match="renamed `horizon`") as err:
        rollout(*args, steps=5)
    assert err.value.name == "steps" and err.value.value == 5
