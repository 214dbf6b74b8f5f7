"""Why dropout works, measured on a trained run's current weights (no Streamlit; app_pages/why.py shows it).

- An ensemble of thinned networks: each thinned network is the run's network with ONE mask per layer, drawn
  by the engine's mask rule (model.MaskStream) and used for every point, so it is one fixed network of the
  2^(hidden neurons) that share the weights. Their average is the Monte-Carlo ensemble; the usual test-time
  pass (weight scaling: no mask, classic mode's x (1-p)) only approximates it, and `gap` measures by how much.
- Co-adaptation (the 2014 paper's Fig 7): the first layer's weights of a digits network, one 8x8 image per
  hidden unit, for a dropout run and its p = 0 twin (same seed: same initial weights and batches), with two
  measures of how local and smooth each unit's weights are.
- Input dropout on digits: a digit as the thinned network sees it, pixels dropped by the same rule.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .config import Config
from .data import Dataset
from .figures.boundary import grid
from .trainer import Trainer, twin_config

ENSEMBLE_STREAM = 2  # its masks' stream: apart from training's, the probe passes' (1) and mc_probs' (none)
TOP_K = 8            # pixels counted by `top_energy`: an eighth of an 8x8 image


# ---------------------------------------------------------------- trained runs
def trained(cfg: Config, steps: int) -> Trainer:
    """A run of `cfg` trained for `steps` iterations (0: its initial weights)."""
    trainer = Trainer(cfg)
    if steps:
        trainer.step(steps)
    return trainer


def trained_pair(cfg: Config, steps: int) -> tuple[Trainer, Trainer]:
    """A run and its p = 0 twin (no dropout anywhere; same seed, so the same initial weights and batches),
    both trained for `steps` iterations."""
    run = Trainer(cfg)
    twin = Trainer(twin_config(cfg), data=run.data)
    run.step(steps)
    twin.step(steps)
    return run, twin


# ---------------------------------------------------------------- the ensemble of thinned networks
def thinned_multipliers(trainer: Trainer, k: int, seed: int = 0) -> list[list]:
    """The multipliers of k thinned networks: per network, per layer (input, hidden...) a (1, 1, width)
    tensor (0 for a dropped neuron, the training factor for a kept one) or None where nothing is dropped.
    Reproducible from `seed`; training's mask stream is untouched."""
    runs = trainer.runs
    rng = {0: np.random.default_rng([runs.probe_seeds[0], seed, ENSEMBLE_STREAM])}
    return [runs.masks.sample(rng, 1, [0]) for _ in range(k)]


@torch.no_grad()
def network_probs(trainer: Trainer, x, mults) -> np.ndarray:
    """Class probabilities (N, C) of the network with these per-layer multipliers on the points x."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float32))
    logits, _ = trainer.runs.forward(x, mults)
    return torch.softmax(logits[0], 1).numpy()


def weight_scaled_probs(trainer: Trainer, x) -> np.ndarray:
    """The usual test-time pass: no mask, every neuron on, classic mode's x (1-p) (Trainer.predict)."""
    return trainer.predict(x)


@dataclass(frozen=True)
class Ensemble:
    probs: np.ndarray    # (K, N, C): each thinned network's class probabilities
    kept: list           # per thinned network: per hidden layer, bool (width,) True = kept
    average: np.ndarray  # (N, C): the mean of `probs`, the Monte-Carlo ensemble of these K networks
    scaled: np.ndarray   # (N, C): the single weight-scaled pass

    @property
    def k(self) -> int:
        return len(self.probs)


def ensemble(trainer: Trainer, x, k: int = 8, seed: int = 0) -> Ensemble:
    """K thinned networks on the points x, their average, and the weight-scaled pass."""
    nets = thinned_multipliers(trainer, k, seed)
    probs = np.stack([network_probs(trainer, x, m) for m in nets])
    kept = [[(m[0, 0] != 0).numpy() for m in net[1:] if m is not None] for net in nets]
    return Ensemble(probs, kept, probs.mean(0), weight_scaled_probs(trainer, x))


@dataclass(frozen=True)
class Gap:
    disagree: float  # fraction of points where the average and the weight-scaled pass predict other classes
    mean_abs: float  # mean |difference| of their class probabilities, over points and classes
    max_abs: float   # the largest such difference


def gap(average: np.ndarray, scaled: np.ndarray) -> Gap:
    """How far the weight-scaled pass is from the ensemble average on the same points."""
    diff = np.abs(np.asarray(average) - np.asarray(scaled))
    return Gap(float(np.mean(average.argmax(1) != scaled.argmax(1))), float(diff.mean()), float(diff.max()))


def accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.asarray(probs).argmax(1) == np.asarray(y)))


# ---------------------------------------------------------------- co-adaptation: first-layer features
def first_layer_images(trainer: Trainer) -> np.ndarray:
    """The first layer's incoming weights, one image per hidden unit: (width, h, w) for image data."""
    shape = trainer.data.image_shape
    if shape is None:
        raise ValueError(f"dataset={trainer.cfg.dataset!r} has no images: expected digits")
    w = trainer.runs.weights[0][0].detach()  # (inputs, width)
    return w.T.numpy().reshape(-1, *shape).copy()


def roughness(images: np.ndarray) -> np.ndarray:
    """Per unit: total variation (sum of |differences| between neighbouring pixels) over the sum of |weights|.
    Scale-free; lower is smoother (less noisy)."""
    images = np.asarray(images, float)
    tv = np.abs(np.diff(images, axis=1)).sum((1, 2)) + np.abs(np.diff(images, axis=2)).sum((1, 2))
    return tv / np.abs(images).sum((1, 2))


def top_energy(images: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """Per unit: the share of its squared weights in its k largest pixels. Higher is more local."""
    sq = np.sort(np.asarray(images, float).reshape(len(images), -1) ** 2, axis=1)[:, ::-1]
    return sq[:, :k].sum(1) / sq.sum(1)


@dataclass(frozen=True)
class Features:
    images: np.ndarray  # (width, h, w)
    roughness: float    # mean over units of `roughness`
    top_energy: float   # mean over units of `top_energy`
    test_acc: float


def features(trainer: Trainer) -> Features:
    images = first_layer_images(trainer)
    return Features(images, float(roughness(images).mean()), float(top_energy(images).mean()),
                    trainer.frame.test_acc)


# ---------------------------------------------------------------- input dropout on digits
def input_dropped(trainer: Trainer, x, k: int, seed: int = 0) -> np.ndarray:
    """k thinned copies of one input x as the network sees it in training (input mask and factor from the
    engine's rule): (k, n_inputs). Reproducible from `seed`."""
    x = np.asarray(x, dtype=np.float32)
    out = []
    for net in thinned_multipliers(trainer, k, seed):
        m = net[0]
        out.append(x if m is None else x * m[0, 0].numpy())
    return np.stack(out)


# ---------------------------------------------------------------- the Why page's two studies
@dataclass(frozen=True)
class EnsembleStudy:
    """A trained run's K thinned networks over the plane, and how close the weight-scaled pass is to their average,
    measured with K and with many more networks."""
    data: Dataset
    grid_x: np.ndarray
    grid_y: np.ndarray
    extent: tuple
    shown: Ensemble            # the K networks drawn, over the grid
    thinned_acc: list[float]   # each of them on the test set
    acc_average: float         # their average on the test set
    acc_scaled: float          # the weight-scaled pass on the test set
    gap: Gap                   # average of K against weight scaling, over the grid
    gap_many: Gap              # the same with `many` networks
    acc_many: float            # the average of `many` on the test set


def ensemble_study(cfg: Config, steps: int, k: int, many: int, grid_points: int) -> EnsembleStudy:
    trainer = trained(cfg, steps)
    grid_x, grid_y, points, extent = grid(trainer.data, grid_points)
    y_test = trainer.data.y_test
    shown, on_test = ensemble(trainer, points, k), ensemble(trainer, trainer.data.x_test, k)
    average_many = ensemble(trainer, points, many)
    return EnsembleStudy(
        trainer.data, grid_x, grid_y, extent, shown, [accuracy(p, y_test) for p in on_test.probs],
        accuracy(on_test.average, y_test), accuracy(on_test.scaled, y_test), gap(shown.average, shown.scaled),
        gap(average_many.average, average_many.scaled),
        accuracy(ensemble(trainer, trainer.data.x_test, many).average, y_test))


@dataclass(frozen=True)
class FeaturesStudy:
    """A digits run's first-layer features beside its p = 0 twin's and their shared start, and one test digit
    as the run's input dropout thins it."""
    run: Features
    twin: Features
    start: Features
    digit: np.ndarray
    thinned: np.ndarray  # (k, n_inputs)
    shape: tuple


def features_study(cfg: Config, steps: int, k: int = 5) -> FeaturesStudy:
    run, twin = trained_pair(cfg, steps)
    digit = run.data.x_test[0]
    return FeaturesStudy(features(run), features(twin), features(trained(cfg, 0)), digit,
                         input_dropped(run, digit, k), run.data.image_shape)

