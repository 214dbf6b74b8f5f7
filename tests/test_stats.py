"""dropviz.stats: t-intervals, the one-standard-error plateau, the choice of p and calibration."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dropviz.stats import (
    choice_text,
    choose_p,
    expected_calibration_error,
    one_se_plateau,
    t_cdf_two_sided,
    t_interval,
    t_quantile,
)

try:
    from scipy import stats as scipy_stats
except ImportError:  # the hand-computed cases below still run
    scipy_stats = None
needs_scipy = pytest.mark.skipif(scipy_stats is None, reason="scipy is not installed")


@needs_scipy
@given(df=st.integers(1, 300), confidence=st.floats(0.5, 0.999))
@settings(max_examples=200, deadline=None)
def test_t_quantile_matches_scipy(df, confidence):
    assert t_quantile(confidence, df) == pytest.approx(scipy_stats.t.ppf((1 + confidence) / 2, df), rel=1e-8)


@needs_scipy
@given(df=st.integers(1, 60), t=st.floats(0.0, 50.0))
@settings(max_examples=200, deadline=None)
def test_t_cdf_matches_scipy(df, t):
    expected = scipy_stats.t.cdf(t, df) - scipy_stats.t.cdf(-t, df)  # loses digits near 0: hence abs 1e-9
    assert t_cdf_two_sided(t, df) == pytest.approx(expected, abs=1e-9)


def test_t_quantile_by_hand():
    assert t_quantile(0.95, 1) == pytest.approx(12.7062, abs=1e-4)  # printed tables
    assert t_quantile(0.95, 2) == pytest.approx(4.3027, abs=1e-4)
    assert t_quantile(0.95, 4) == pytest.approx(2.7764, abs=1e-4)
    assert t_quantile(0.99, 10) == pytest.approx(3.1693, abs=1e-4)


def test_t_interval_by_hand():
    i = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])  # mean 3, sd sqrt(2.5), se sqrt(0.5), t(4) = 2.7764
    assert (i.mean, i.n) == (3.0, 5)
    assert i.se == pytest.approx(math.sqrt(0.5))
    assert (i.lo, i.hi) == pytest.approx((3 - 2.776445 * math.sqrt(0.5), 3 + 2.776445 * math.sqrt(0.5)), abs=1e-5)


@needs_scipy
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30), st.integers(0, 5))
@settings(max_examples=200, deadline=None)
def test_t_interval_matches_scipy_and_ignores_diverged_runs(values, diverged):
    i = t_interval(values + [math.nan] * diverged)
    assert i.n == len(values)
    sem = scipy_stats.sem(values)
    if sem > 0:
        lo, hi = scipy_stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=sem)
        # an end is mean ± t·se: its rounding error scales with those, not with the end (which can be near 0)
        scale = abs(float(np.mean(values))) + 10 * sem
        assert (i.lo, i.hi) == pytest.approx((lo, hi), rel=1e-7, abs=1e-9 * max(1.0, scale))
    assert i.lo <= i.mean <= i.hi


def test_t_interval_of_one_and_of_none():
    assert (t_interval([2.0, math.nan]).lo, t_interval([2.0]).hi) == (2.0, 2.0)
    assert t_interval([math.nan]).n == 0 and math.isnan(t_interval([]).mean)


@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0, 1) | st.just(math.nan)), min_size=1, max_size=12))
@settings(max_examples=300, deadline=None)
def test_plateau_is_exactly_the_means_within_one_se_of_the_best(pairs):
    means, ses = np.array(pairs).T
    best, plateau = one_se_plateau(means, ses)
    assert means[best] == means.min()
    limit = means[best] + (ses[best] if np.isfinite(ses[best]) else 0)
    assert plateau.tolist() == [bool(m <= limit) for m in means]
    assert plateau[best]


def test_plateau_skips_means_of_all_diverged_and_refuses_when_nothing_finished():
    best, plateau = one_se_plateau([math.nan, 0.3, 0.32, 0.5], [math.nan, 0.05, 0.01, 0.0])
    assert best == 1 and plateau.tolist() == [False, True, True, False]
    with pytest.raises(ValueError, match="every run diverged"):
        one_se_plateau([math.nan], [math.nan])


def _sweep(val_losses: dict[float, list[float]]) -> pd.DataFrame:
    rows = []
    for p, values in val_losses.items():
        for seed, v in enumerate(values):
            bad = math.isnan(v)
            rows.append(dict(variant="fixed width", p=p, seed=seed, val_loss=v, diverged=bad,
                             test_acc=math.nan if bad else 1 - v / 10, test_loss=v, iterations=100 * (seed + 1),
                             stopped_early=not bad))
    return pd.DataFrame(rows)


def test_choose_p_counts_diverged_seeds_and_leaves_them_out_of_the_means():
    sweep = _sweep({0.0: [0.50, 0.54, 0.52], 0.4: [0.30, 0.34, math.nan], 0.6: [0.35, 0.36, 0.40],
                    0.9: [math.nan, math.nan, math.nan]})
    c = choose_p(sweep)
    assert c.loc[0.4, "val_loss"] == pytest.approx(0.32)  # the two that finished
    assert c.loc[0.4, "val_loss_se"] == pytest.approx(np.std([0.30, 0.34], ddof=1) / math.sqrt(2))  # 0.02
    assert (c.loc[0.4, "finished"], c.loc[0.4, "diverged"]) == (2, 1)
    assert (c.loc[0.9, "finished"], c.loc[0.9, "diverged"]) == (0, 3) and math.isnan(c.loc[0.9, "val_loss"])
    assert c.index[c["best"]].tolist() == [0.4]
    assert c.index[c["plateau"]].tolist() == [0.4]  # 0.6's mean 0.37 is above 0.32 + 0.02
    assert c.loc[0.4, "test_error"] == pytest.approx(0.032)
    text = choice_text(sweep)
    assert "best p on validation loss = 0.4" in text and "1 of 3 at p = 0.4, 3 of 3 at p = 0.9" in text


def test_a_sweep_where_every_run_diverged_is_one_sentence():
    assert choice_text(_sweep({0.5: [math.nan, math.nan]})) == ("fixed width: every run diverged, so there is no p "
                                                              "to choose: lower the learning rate")


def test_a_small_validation_set_is_called_a_weak_choice():
    sweep = _sweep({0.0: [0.5, 0.6], 0.5: [0.3, 0.4]})
    assert "validation points" not in choice_text(sweep)  # size unknown: nothing said
    sweep["n_val"] = 8
    assert choice_text(sweep).endswith("Only 8 validation points: an error rate measured on them is uncertain by up "
                                       "to ±18% (one standard error), so this choice is weak; more training points "
                                       "make it firmer.")  # 0.5 / sqrt(8) = 0.177
    sweep["n_val"] = 200
    assert "validation points" not in choice_text(sweep)


def test_ece_by_hand():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    y = np.array([0, 1, 1, 1])
    # bins of width 0.5: [0.5, 1) holds all; confidence 0.75 mean, accuracy 3/4 -> 0
    assert expected_calibration_error(probs, y, bins=2) == pytest.approx(abs(0.75 - (0.9 + 0.8 + 0.7 + 0.6) / 4))
    # 10 bins: 0.9 (right), 0.8 (wrong), 0.7 (right), 0.6 (right) each alone
    assert expected_calibration_error(probs, y, bins=10) == pytest.approx((0.1 + 0.8 + 0.3 + 0.4) / 4)
    assert expected_calibration_error(np.eye(3), [0, 1, 2]) == 0
