"""Measured answers: which p, how much data, which test-time rule, how sparse, at what cost.

Each experiment takes a base Config (the live view's settings) and its own parameters, trains its
networks together with the BatchedTrainer, and returns a tidy pandas DataFrame: the CSV that the
page and the CLI offer, and the input of its figure in figures/experiments.py.

progress(fraction, message) is called as the work advances; cancel is a callable returning True,
or a threading.Event, checked between short chunks of training: when set, Cancelled is raised.
A chunk is sized by measured time (about CHUNK_SECONDS, at least one iteration), so cancelling takes
well under a second at light settings and one iteration at the heaviest. Results do not depend on
the chunking: n iterations in one call are n single iterations.
"""
from __future__ import annotations

import inspect
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from .batched import BatchedTrainer, shared_key
from .config import DIGITS_MAX_TRAIN, FIELD, RUN_FIELD, Config
from .data import Dataset, hold_out, make_dataset
from .dropout import multipliers
from .regularizers import regularizers
from .stats import choice_text, expected_calibration_error, t_interval

CHUNK_SECONDS = 0.5  # training time between progress reports and cancel checks
GROWTH = 4  # a chunk is at most this many times the one before: one quick chunk is no measure
_clock = time.perf_counter  # a name of its own, so that tests can give train_all a clock
P_VALUES = tuple(round(0.1 * i, 1) for i in range(10))
CHECKS = 50  # validation checks over the iteration cap of an early-stopped run
PATIENCE = 10  # checks without a lower validation loss after which a network stops
N_VALUES = (5, 10, 20, 40, 80, 160, 320, 1280)  # from too few to learn anything to plenty
Progress = Callable[[float, str], None]


class Cancelled(Exception):
    """The user cancelled the experiment."""


def _noop(fraction: float, message: str) -> None:
    pass


def _is_cancelled(cancel) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if hasattr(cancel, "is_set") else bool(cancel())


def _check(cancel) -> None:
    if _is_cancelled(cancel):
        raise Cancelled("experiment cancelled")


def next_chunk(chunk: int, seconds: float) -> int:
    """The iterations of the next chunk, after `chunk` iterations took `seconds`: about CHUNK_SECONDS
    of training, at least 1, at most GROWTH times the last."""
    if seconds <= 0:
        return chunk * GROWTH
    return max(1, min(chunk * GROWTH, int(chunk * CHUNK_SECONDS / seconds)))


def dropout_p(base: Config, p: float | None) -> float:
    """The p of the 'with dropout' arm: the given one, else the live view's, else 0.5."""
    if p is None:
        p = base.p if base.p > 0 else 0.5
    FIELD["p"].check(p)
    if p <= 0:
        raise ValueError(f"p={p!r} is out of range: the dropout arm needs p above 0 "
                         f"(up to {FIELD['p'].hi:g})")
    return float(p)


@dataclass
class Run:
    """One trained network: its config, final test-time metrics, and (if recorded) its curve."""
    cfg: Config
    final: dict
    curve: list  # (step, train_loss, test_loss, train_acc, test_acc) at test time


@dataclass(frozen=True)
class EarlyStop:
    """Early stopping on validation loss. Every `every` iterations each network's loss on (x_val, y_val) is
    measured; a network is done when it has not fallen for `patience` iterations, or at the cap. Its results
    are those at its lowest validation loss (as if its weights were restored from there), and `iterations`
    says when that was. A network that diverged before it was done counts as diverged."""
    x_val: np.ndarray
    y_val: np.ndarray
    every: int
    patience: int

    @classmethod
    def for_cap(cls, steps: int, x_val, y_val) -> EarlyStop:
        every = max(1, steps // CHECKS)
        return cls(x_val, y_val, every, PATIENCE * every)


class _Stopper:
    """The early-stopping state of one batched group."""
    def __init__(self, stop: EarlyStop, m: int):
        self.stop, self.y = stop, torch.from_numpy(stop.y_val)
        self.best = np.full(m, np.inf)
        self.finals: list[dict | None] = [None] * m
        self.ended = np.zeros(m, bool)
        self.early = np.zeros(m, bool)

    def check(self, trainer: BatchedTrainer) -> None:
        ev = trainer.evaluate()
        val_loss, val_acc = trainer.scores(self.stop.x_val, self.y)
        step = trainer.step_count
        for j in np.flatnonzero(~self.ended):
            if trainer.diverged[j]:
                self.ended[j] = True
                self.finals[j] = {**{k: np.nan for k in (*ev, "val_loss", "val_acc")},
                                  "iterations": int(trainer.diverged_at[j]), "diverged": True}
            elif val_loss[j] < self.best[j] or self.finals[j] is None:
                self.best[j] = val_loss[j]
                self.finals[j] = {**{k: float(v[j]) for k, v in ev.items()}, "val_loss": float(val_loss[j]),
                                  "val_acc": float(val_acc[j]), "iterations": step, "diverged": False}
            elif step - self.finals[j]["iterations"] >= self.stop.patience:
                self.ended[j] = self.early[j] = True

    @property
    def done(self) -> bool:
        return bool(self.ended.all())

    def final(self, j: int) -> dict:
        return {**self.finals[j], "stopped_early": bool(self.early[j])}


def train_all(cfgs: Sequence[Config], steps: int, progress: Progress | None = None, cancel=None,
              record_every: int = 0, span=(0.0, 1.0), keep_trainers: bool = False,
              labels: Sequence | None = None, data: Callable[[Config], Dataset] | None = None,
              stop: EarlyStop | None = None):
    """Train every config for `steps` iterations, in as few batched runs as possible.

    Configs that share data and architecture (and label, if given) train together. Returns one
    Run per config, in order (and each config's (trainer, index) if keep_trainers).
    data(cfg), if given, supplies a group's data set instead of the config's own.
    Without keep_trainers a group's trainer is let go before the next group's is built, so the
    memory of the groups does not add up. Each group starts with a chunk of one iteration; the
    next ones are sized by the measured time (next_chunk). With `stop`, `steps` is the cap and a group
    ends when all its networks are done (EarlyStop).
    """
    progress = progress or _noop
    steps = RUN_FIELD["steps"].checked(steps)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, cfg in enumerate(cfgs):
        groups[(shared_key(cfg), None if labels is None else labels[i])].append(i)
    total = sum(len(idx) for idx in groups.values()) * steps
    done, (lo, hi) = 0, span
    runs: list[Run | None] = [None] * len(cfgs)
    where = [None] * len(cfgs)
    for g, idx in enumerate(groups.values()):
        _check(cancel)
        trainer = BatchedTrainer([cfgs[i] for i in idx], data=data(cfgs[idx[0]]) if data else None)
        curves = [[] for _ in idx]

        def record(trainer=trainer, idx=idx, curves=curves):  # bound now: called only in this pass
            ev = trainer.evaluate()
            for j in range(len(idx)):
                curves[j].append((trainer.step_count, *(float(ev[k][j]) for k in
                                  ("train_loss", "test_loss", "train_acc", "test_acc"))))
            return ev

        if record_every:
            record()
        stopper = _Stopper(stop, len(idx)) if stop else None
        size = 1
        while trainer.step_count < steps and not (stopper and stopper.done):
            _check(cancel)  # before every chunk: a cancel during the last one (or its report) is honoured now
            chunk = min(size, steps - trainer.step_count)
            for every in (record_every, stop and stop.every):
                if every:
                    chunk = min(chunk, every - trainer.step_count % every)
            started = _clock()
            trainer.step(chunk)
            size = next_chunk(chunk, _clock() - started)
            done += chunk * len(idx)
            if record_every and trainer.step_count % record_every == 0:
                record()
            if stopper and trainer.step_count % stop.every == 0:
                stopper.check(trainer)
            ended = f", {stopper.ended.sum()} of {len(idx)} stopped early or diverged" if stopper else ""
            progress(lo + (hi - lo) * done / total,
                     f"training {len(cfgs)} networks: group {g + 1} of {len(groups)}, "
                     f"iteration {trainer.step_count} of {steps}{ended}")
        done += (steps - trainer.step_count) * len(idx)  # a group that stopped early: its share is done
        ev = trainer.evaluate()
        if record_every and trainer.step_count % record_every:
            record()
        if stopper and trainer.step_count % stop.every:
            stopper.check(trainer)
        for j, i in enumerate(idx):
            if stopper:
                final = stopper.final(j)
            else:
                final = {k: float(v[j]) for k, v in ev.items()}
                final["diverged"] = bool(trainer.diverged[j])
            runs[i] = Run(cfgs[i], final, curves[j])
            if keep_trainers:
                where[i] = (trainer, j)
        del trainer, record, ev, stopper  # let the group's tensors go before the next group's are made
    return (runs, where) if keep_trainers else runs


def _rows(runs: Sequence[Run], *fields: str, **extra) -> list[dict]:
    return [{**{f: getattr(r.cfg, f) for f in fields}, **extra, **r.final} for r in runs]


def _seeds(base: Config, seeds: int) -> list[int]:
    return [base.seed + i for i in range(RUN_FIELD["seeds"].checked(seeds))]


# ---------------------------------------------------------------------- 1. choosing p
def p_sweep(base: Config, ps: Sequence[float] = P_VALUES, seeds: int = 5, steps: int = 3000,
            constant_pn: bool = False, progress: Progress | None = None, cancel=None) -> pd.DataFrame:
    """Train, validation and test loss and accuracy for each p and seed, each network stopped early.

    A fifth of the training points is held out (data.hold_out, drawn with data_seed) and the networks fit
    the rest. Each stops early on its validation loss (EarlyStop), at most `steps` iterations, so that a
    slowly converging p is not mistaken for an underfitting one; `iterations` is when its validation loss
    was lowest, and its results are from there. Choose p on the validation columns (stats.choose_p); the
    test columns are for reading only.

    constant_pn adds the paper's second variant: the width grows as p grows so that the expected
    number of kept neurons per layer, (1 - p) x width, stays constant (the base width at the
    largest p).
    """
    for p in ps:
        FIELD["p"].check(p)
    cfgs, variants = [], []
    for p in ps:
        for s in _seeds(base, seeds):
            cfgs.append(base.replace(p=p, seed=s))
            variants.append("fixed width")
    if constant_pn:
        kept = base.width * (1 - max(ps))
        for p in ps:
            width = int(min(FIELD["width"].hi, max(1, round(kept / multipliers(p, base.mode).keep))))
            for s in _seeds(base, seeds):
                cfgs.append(base.replace(p=p, seed=s, width=width))
                variants.append("constant (1-p) x width")
    steps = RUN_FIELD["steps"].checked(steps)
    fit, x_val, y_val = hold_out(make_dataset(base.dataset, base.n_train, base.noise, base.data_seed), base.data_seed)
    runs = train_all(cfgs, steps, progress, cancel, data=lambda cfg: fit, stop=EarlyStop.for_cap(steps, x_val, y_val))
    rows = [{"variant": v, **row, "n_fit": len(fit.y_train), "n_val": len(y_val), "cap": steps}
            for v, row in zip(variants, _rows(runs, "p", "seed", "width"))]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- 2. amount of data
def data_size(base: Config, n_values: Sequence[int] = N_VALUES, seeds: int = 3, steps: int = 3000,
              p: float | None = None, progress: Progress | None = None, cancel=None) -> pd.DataFrame:
    """Test accuracy with (p) and without (p = 0) dropout for each training-set size and seed.

    Each seed draws its own random training points from one pool (nested: its n points are the first n
    of its own order), so the spread over seeds includes which points happen to be drawn, not only the
    initial weights and masks. Both arms of a seed train on the same points, and every network is tested
    on the same test set.
    """
    p = dropout_p(base, p)
    cap = DIGITS_MAX_TRAIN if base.dataset == "digits" else int(FIELD["n_train"].hi)
    n_values = sorted({min(int(n), cap) for n in n_values})
    for n in n_values:
        FIELD["n_train"].check(n)
    pool = make_dataset(base.dataset, min(cap, 2 * max(n_values)), base.noise, base.data_seed)
    cfgs = [base.replace(n_train=n, p=q, seed=s) for n in n_values for q in (0.0, p) for s in _seeds(base, seeds)]
    runs = train_all(cfgs, steps, progress, cancel, data=lambda cfg: drawn(pool, cfg),
                     labels=[c.seed for c in cfgs])
    return pd.DataFrame(_rows(runs, "n_train", "p", "seed", pool=len(pool.y_train)))


def drawn(pool: Dataset, cfg: Config) -> Dataset:
    """The seed's own cfg.n_train training points of the pool: the first n of an order drawn with
    (data_seed, seed), so a seed's smaller sets are part of its larger ones. The test set is the pool's."""
    order = np.random.default_rng([cfg.data_seed, cfg.seed, 13]).permutation(len(pool.y_train))
    pick = order[:cfg.n_train]
    return replace(pool, x_train=pool.x_train[pick].copy(), y_train=pool.y_train[pick].copy())


# ---------------------------------------------------------------------- 3. test-time rule
def mc_vs_scaling(base: Config, passes: int = 100, seeds: int = 5, steps: int = 1500,
                  p: float | None = None, grid_size: int = 40, progress: Progress | None = None,
                  cancel=None) -> pd.DataFrame:
    """Test error of Monte-Carlo averaging over T = 1..passes stochastic passes vs the one
    deterministic weight-scaled pass; for 2-D data also the MC std of P(class 1) over the plane.

    part = "curve":  seed, T, mc_error, mc_loss, mc_ece, scaled_error, scaled_loss, scaled_ece
    part = "paired": T, metric ("error" or "loss"), diff (MC minus weight scaling), lo, hi (t-interval), n
                     over every (seed, test point) pair: both rules judged on the same networks and points
    part = "map":    x1, x2, mc_mean, mc_std (first seed's network)
    part = "data":   x1, x2, label (training points, for the map)
    ECE is the expected calibration error (stats.expected_calibration_error).
    """
    p = dropout_p(base, p)
    passes = RUN_FIELD["passes"].checked(passes)
    progress = progress or _noop
    cfgs = [base.replace(p=p, seed=s) for s in _seeds(base, seeds)]
    runs, where = train_all(cfgs, steps, progress, cancel, span=(0.0, 0.8), keep_trainers=True)
    trainer = where[0][0]
    d = trainer.data
    y = torch.from_numpy(d.y_test)
    rows, diffs = [], {"error": [], "loss": []}  # per metric, per seed: (T, N) MC minus scaled, point by point
    scaled_probs = torch.softmax(trainer.logits(d.x_test), 2)
    for j, cfg in enumerate(cfgs):
        _check(cancel)
        if runs[j].final["diverged"]:
            continue
        sp = scaled_probs[j]
        scaled_wrong, scaled_nll = (sp.argmax(1) != y).float(), _point_nll(sp, y)
        scaled_ece = expected_calibration_error(sp.numpy(), d.y_test)
        mc = trainer.mc_probs(d.x_test, passes, models=[j])[:, 0]  # (T, N, C)
        running = mc.cumsum(0) / torch.arange(1, passes + 1).view(-1, 1, 1)
        wrong, nll = (running.argmax(2) != y).float(), _point_nll(running, y)
        diffs["error"].append((wrong - scaled_wrong).numpy())
        diffs["loss"].append((nll - scaled_nll).numpy())
        for t in range(passes):
            rows.append(dict(part="curve", seed=cfg.seed, p=p, T=t + 1, mc_error=wrong[t].mean().item(),
                             mc_loss=nll[t].mean().item(),
                             mc_ece=expected_calibration_error(running[t].numpy(), d.y_test),
                             scaled_error=scaled_wrong.mean().item(), scaled_loss=scaled_nll.mean().item(),
                             scaled_ece=scaled_ece))
        progress(0.8 + 0.15 * (j + 1) / len(cfgs), f"Monte-Carlo passes: network {j + 1} of {len(cfgs)}")
    for metric, per_seed in diffs.items():
        if per_seed:
            pairs = np.concatenate(per_seed, axis=1)  # (T, seeds x N)
            for t in range(passes):
                i = t_interval(pairs[t])
                rows.append(dict(part="paired", p=p, T=t + 1, metric=metric, diff=i.mean, lo=i.lo, hi=i.hi, n=i.n))
    if d.n_inputs == 2:
        _check(cancel)
        gx, gy = plane_grid(d, grid_size)
        mc = trainer.mc_probs(np.c_[gx.ravel(), gy.ravel()], passes, models=[0])[:, 0, :, 1]
        rows += [dict(part="map", seed=cfgs[0].seed, p=p, x1=a, x2=b, mc_mean=m, mc_std=s)
                 for a, b, m, s in zip(gx.ravel(), gy.ravel(), mc.mean(0).numpy(), mc.std(0, correction=0).numpy())]
        rows += [dict(part="data", x1=float(a), x2=float(b), label=int(c))
                 for (a, b), c in zip(d.x_train, d.y_train)]
    progress(1.0, "done")
    return pd.DataFrame(rows)


def _point_nll(probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each point's negative log-likelihood, over the last two axes (..., N, C)."""
    picked = probs.gather(-1, y.expand(*probs.shape[:-1]).unsqueeze(-1)).squeeze(-1)
    return -torch.log(picked.clamp_min(1e-12))


def plane_grid(d, size: int):
    """A size x size grid over the data, with a margin on each side to show the far field."""
    x = np.r_[d.x_train, d.x_test]
    lo, hi = x.min(0), x.max(0)
    pad = 0.5 * (hi - lo)
    return np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], size, dtype=np.float32),
                       np.linspace(lo[1] - pad[1], hi[1] + pad[1], size, dtype=np.float32))


# ---------------------------------------------------------------------- 4. sparsity
ACTIVE = 0.01  # an activation counts as active when its magnitude exceeds this


def sparsity(base: Config, seeds: int = 5, steps: int = 3000, p: float | None = None, bins: int = 40,
             progress: Progress | None = None, cancel=None) -> pd.DataFrame:
    """Test-time hidden activations on the test set, without (p = 0) and with dropout.

    part = "hist":      layer, p, bin_left, bin_right, fraction (all seeds pooled)
    part = "unit_mean": layer, p, seed, unit, mean_activation (over test examples)
    part = "summary":   layer, p, seed, mean_activation, active_fraction (|a| > ACTIVE)
    """
    p = dropout_p(base, p)
    cfgs = [base.replace(p=q, seed=s) for q in (0.0, p) for s in _seeds(base, seeds)]
    runs, where = train_all(cfgs, steps, progress, cancel, span=(0.0, 0.95), keep_trainers=True)
    trainer = where[0][0]
    acts = trainer.activations(trainer.data.x_test)  # per layer (M, N, width)
    rows = []
    for layer, a in enumerate(acts, start=1):
        edges = np.linspace(min(0.0, float(a.min())), max(float(a.max()), 1e-6), bins + 1)
        for q in (0.0, p):
            sel = [j for j, c in enumerate(cfgs) if c.p == q]
            counts, _ = np.histogram(a[sel], edges)
            rows += [dict(part="hist", layer=layer, p=q, bin_left=float(l), bin_right=float(r),
                          fraction=c / counts.sum()) for l, r, c in zip(edges, edges[1:], counts)]
            for j in sel:
                unit_means = np.abs(a[j]).mean(0)
                rows += [dict(part="unit_mean", layer=layer, p=q, seed=cfgs[j].seed, unit=u,
                              mean_activation=float(m)) for u, m in enumerate(unit_means)]
                rows.append(dict(part="summary", layer=layer, p=q, seed=cfgs[j].seed,
                                 mean_activation=float(np.abs(a[j]).mean()),
                                 active_fraction=float((np.abs(a[j]) > ACTIVE).mean()),
                                 test_acc=runs[j].final["test_acc"]))
    (progress or _noop)(1.0, "done")
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- 5. cost
def cost(base: Config, seeds: int = 5, steps: int = 1500, p: float | None = None,
         target_loss: float | None = None, timing_iterations: int = 350, points: int = 60,
         progress: Progress | None = None, cancel=None) -> pd.DataFrame:
    """What dropout costs: time per iteration, iterations to a target training loss, run-to-run spread.

    part = "timing": p, repeat, ms_per_iteration (one network alone, this engine)
    part = "curve":  p, seed, run ("seed" or "repeat"), step, train_loss, test_loss (test time)
    part = "target": p, seed, target_loss, iterations (NaN: not reached in `steps`)
    The "repeat" runs train the dropout arm's networks a second time, from scratch, in a batch of
    the same make-up (float results depend on memory layout): each must match its seed exactly.
    Without target_loss the target is 1.2 x the higher of the two final mean training losses,
    so both arms reach it.
    """
    p = dropout_p(base, p)
    progress = progress or _noop
    rows = []
    timing = {0.0: BatchedTrainer([base.replace(p=0.0)]), p: BatchedTrainer([base.replace(p=p)])}
    for t in timing.values():
        t.step(5)  # warm-up
    repeats = 7
    chunk = max(1, timing_iterations // repeats)
    for r in range(repeats):  # interleaved, so both arms see the same machine load; the figure takes the median
        for q, trainer in timing.items():
            _check(cancel)
            started = time.perf_counter()
            trainer.step(chunk)
            ms = 1e3 * (time.perf_counter() - started) / chunk
            rows.append(dict(part="timing", p=q, repeat=r, ms_per_iteration=ms))
        progress(0.1 * (r + 1) / repeats, "timing one iteration with and without dropout")
    seeds_ = _seeds(base, seeds)
    arms = ((0.0, "seed"), (p, "seed"), (p, "repeat"))
    cfgs = [base.replace(p=q, seed=s) for q, _ in arms for s in seeds_]
    kinds = [kind for _, kind in arms for _ in seeds_]
    runs = train_all(cfgs, steps, progress, cancel, record_every=max(1, steps // points), span=(0.1, 1.0),
                     labels=[(c.p, k) for c, k in zip(cfgs, kinds)])
    for run, kind in zip(runs, kinds):
        rows += [dict(part="curve", p=run.cfg.p, seed=run.cfg.seed, run=kind, step=step, train_loss=tr, test_loss=te)
                 for step, tr, te, _, _ in run.curve]
    if target_loss is None:
        finals = [np.nanmean([r.final["train_loss"] for r, k in zip(runs, kinds) if k == "seed" and r.cfg.p == q])
                  for q in (0.0, p)]
        target_loss = float(f"{1.2 * max(finals):.2g}")
    for run, kind in zip(runs, kinds):
        if kind == "seed":
            reached = [step for step, tr, *_ in run.curve if tr <= target_loss]
            rows.append(dict(part="target", p=run.cfg.p, seed=run.cfg.seed, target_loss=target_loss,
                             iterations=reached[0] if reached else np.nan))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- registry
from .variants.experiment import variants  # noqa: E402 - it imports this module's helpers when it runs


@dataclass(frozen=True)
class Experiment:
    name: str        # CLI name
    title: str       # page title
    question: str    # what it answers, one line
    run: Callable[..., pd.DataFrame]

    @property
    def default_seeds(self) -> int:
        return inspect.signature(self.run).parameters["seeds"].default

    @property
    def default_steps(self) -> int:
        """Training iterations per network at which this experiment's finding shows."""
        return inspect.signature(self.run).parameters["steps"].default

    def steps_from(self, preset_steps: int | None) -> int:
        """A preset's iterations, or more if this experiment needs more to show its finding."""
        return max(self.default_steps, preset_steps or 0)


EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (
    Experiment("p-sweep", "Choosing p", "Which p should I pick? Too little overfits, too much underfits.", p_sweep),
    Experiment("data-size", "Amount of data", "Does dropout help with my amount of data?", data_size),
    Experiment("mc-vs-scaling", "Test-time rule", "Monte-Carlo averaging over T passes vs one weight-scaled pass.",
               mc_vs_scaling),
    Experiment("sparsity", "Sparsity", "Does dropout make hidden activations sparser?", sparsity),
    Experiment("cost", "Cost", "Is dropout slower? Why do my runs differ?", cost),
    Experiment("regularizers", "Dropout and other regularizers",
               "Dropout beside L2 and max-norm, and combined with them (the 2014 paper's Table 9).", regularizers),
    Experiment("variants", "Variants", "Conv, recurrent and DropConnect: which mask shape regularizes best?",
               variants),
)}

SUMMARIES: dict[str, Callable[[pd.DataFrame], str]] = {"p-sweep": choice_text}  # printed by the CLI
