"""Honest summaries of repeated runs: t-intervals over seeds, the one-standard-error plateau, paired
differences and calibration. Plain numpy and pandas: the figures and the CLI share these.

A t-interval for the mean of n values is mean ± t(n-1) x sd / sqrt(n), with t(n-1) the two-sided quantile
of Student's t with n-1 degrees of freedom. The quantile is computed here (the t distribution's CDF has a
closed form for whole degrees of freedom), so scipy is not needed at run time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
FEW_VALIDATION_POINTS = 100  # below this, one standard error of an error rate can exceed 5 points


def t_cdf_two_sided(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with `df` (a whole number >= 1) degrees of freedom (Abramowitz & Stegun 26.7.3-4)."""
    if t <= 0:
        return 0.0
    theta = math.atan(t / math.sqrt(df))
    c2, s = math.cos(theta) ** 2, math.sin(theta)
    if df % 2:  # odd
        term, total = 1.0, 1.0 if df > 1 else 0.0
        for k in range(2, df - 1, 2):  # 2/3 c2, (2*4)/(3*5) c2^2, ...
            term *= k / (k + 1) * c2
            total += term
        return min(1.0, 2 / math.pi * (theta + s * math.cos(theta) * total))
    term, total = 1.0, 1.0
    for k in range(1, df - 2, 2):  # 1/2 c2, (1*3)/(2*4) c2^2, ...
        term *= k / (k + 1) * c2
        total += term
    return min(1.0, s * total)


def t_quantile(confidence: float, df: int) -> float:
    """The t with P(|T| < t) = confidence, by bisection (to about 1e-10)."""
    if not 0 < confidence < 1 or df < 1:
        raise ValueError(f"confidence={confidence!r} must be in (0, 1) and df={df!r} at least 1")
    lo, hi = 0.0, 1.0
    while t_cdf_two_sided(hi, df) < confidence:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_cdf_two_sided(mid, df) < confidence:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-10 * max(1.0, hi):
            break
    return (lo + hi) / 2


@dataclass(frozen=True)
class Interval:
    mean: float
    lo: float
    hi: float
    se: float  # standard error of the mean (NaN for fewer than 2 values)
    n: int     # values that are finite (diverged runs are NaN and do not count)


def t_interval(values, confidence: float = CONFIDENCE) -> Interval:
    """Mean and t-interval of the finite values. One value: the interval is that value (no spread known);
    none: all NaN."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(v.mean())
    if n == 1:
        return Interval(mean, mean, mean, math.nan, 1)
    se = float(v.std(ddof=1) / math.sqrt(n))
    half = t_quantile(confidence, n - 1) * se
    return Interval(mean, mean - half, mean + half, se, n)


def summarise(df: pd.DataFrame, by: str, column: str, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per value of `by` (sorted): mean, lo, hi, se and n of the finite values of `column`, and `missing`
    (the NaN ones: runs that diverged)."""
    rows = []
    for key, values in df.groupby(by, sort=True)[column]:
        i = t_interval(values, confidence)
        rows.append(dict(key=key, mean=i.mean, lo=i.lo, hi=i.hi, se=i.se, n=i.n, missing=len(values) - i.n))
    return pd.DataFrame(rows, columns=["key", "mean", "lo", "hi", "se", "n", "missing"]).set_index("key")


def one_se_plateau(means, ses) -> tuple[int, np.ndarray]:
    """The index of the lowest mean, and which means lie within one standard error of it
    (mean <= best mean + the best's standard error; a best without a known error: only itself)."""
    m = np.asarray(means, float)
    if not np.isfinite(m).any():
        raise ValueError("no finite mean to choose from: every run diverged")
    best = int(np.nanargmin(m))
    se = float(np.asarray(ses, float)[best])
    limit = m[best] + (se if np.isfinite(se) else 0.0)
    return best, np.isfinite(m) & (m <= limit)


def expected_calibration_error(probs, y, bins: int = 15) -> float:
    """ECE: the gap between confidence (the top class probability) and accuracy, averaged over `bins`
    equal-width confidence bins weighted by their share of the points."""
    p = np.asarray(probs, float)
    conf, correct = p.max(1), (p.argmax(1) == np.asarray(y)).astype(float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(total)


def choose_p(sweep: pd.DataFrame) -> pd.DataFrame:
    """The p-sweep's choice, from one variant's rows: per p (sorted) the mean validation loss over the seeds
    that finished with its standard error, how many finished and diverged, the mean iterations used and how
    many stopped early, the mean test error (for reading only), and which p is best (lowest mean validation
    loss) and which lie on its plateau (within one standard error of the best)."""
    val = summarise(sweep, "p", "val_loss")
    by_p = sweep.groupby("p", sort=True)
    out = pd.DataFrame({"val_loss": val["mean"], "val_loss_se": val["se"], "finished": val["n"],
                        "diverged": by_p["diverged"].sum().astype(int),
                        "iterations": by_p["iterations"].mean(), "stopped_early": by_p["stopped_early"].sum(),
                        "test_error": 1 - by_p["test_acc"].mean(), "test_loss": by_p["test_loss"].mean()})
    best, plateau = one_se_plateau(out["val_loss"], out["val_loss_se"])
    out["plateau"] = plateau
    out["best"] = np.arange(len(out)) == best
    return out


def choice_text(sweep: pd.DataFrame) -> str:
    """One paragraph on the choice of p, for the CLI and the page."""
    lines = []
    for variant, rows in sweep.groupby("variant", sort=False):
        if not rows["val_loss"].notna().any():
            lines.append(f"{variant}: every run diverged, so there is no p to choose: lower the learning rate")
            continue
        c = choose_p(rows)
        best = c.index[c["best"]][0]
        plateau = ", ".join(f"{p:g}" for p in c.index[c["plateau"]])
        diverged = ", ".join(f"{int(n)} of {int(n + f)} at p = {p:g}" for p, n, f in
                             zip(c.index, c["diverged"], c["finished"]) if n)
        lines.append(f"{variant}: best p on validation loss = {best:g} (within one standard error: {plateau}); "
                     f"test error there {c.loc[best, 'test_error']:.1%} (for reading only); "
                     f"diverged: {diverged or 'none'}")
    n_val = int(sweep["n_val"].iloc[0]) if "n_val" in sweep else 0
    if 0 < n_val < FEW_VALIDATION_POINTS:
        lines.append(f"Only {n_val} validation points: an error rate measured on them is uncertain by up to "
                     f"±{0.5 / math.sqrt(n_val):.0%} (one standard error), so this choice is weak; more training "
                     "points make it firmer.")
    return "\n".join(lines)
