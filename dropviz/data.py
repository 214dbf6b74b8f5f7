"""Plain data generators. Nothing is downloaded: 2-D sets are generated with numpy, digits ship with
scikit-learn (imported only when digits are asked for: importing it costs seconds)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

N_TEST_2D = 500
VALIDATION_FRACTION = 0.2  # of the training points, held out to choose settings on (never the test set)


@dataclass(frozen=True)
class Dataset:
    x_train: np.ndarray  # float32 (n, d)
    y_train: np.ndarray  # int64 (n,) class labels; float32 (n,) targets of a regression set
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int       # 0: a regression set (one real output, squared error)
    image_shape: tuple | None = None  # (8, 8) for digits: inputs are images

    @property
    def n_inputs(self) -> int:
        return self.x_train.shape[1]

    @property
    def regression(self) -> bool:
        return self.n_classes == 0

    @property
    def n_outputs(self) -> int:
        return self.n_classes or 1


def _moons(n, rng):
    """Two interleaving half circles, points evenly spaced along each, in random order."""
    n_upper = n // 2
    t_upper, t_lower = np.linspace(0, np.pi, n_upper), np.linspace(0, np.pi, n - n_upper)
    x = np.r_[np.c_[np.cos(t_upper), np.sin(t_upper)], np.c_[1 - np.cos(t_lower), 0.5 - np.sin(t_lower)]]
    y = np.r_[np.zeros(n_upper, int), np.ones(n - n_upper, int)]
    order = rng.permutation(n)
    return (x[order] - [0.5, 0.25]) * [1.0, 1.6], y[order]


def _circles(n, rng):
    y = rng.integers(0, 2, n)
    r = np.where(y == 0, 0.5, 1.2)
    t = rng.uniform(0, 2 * np.pi, n)
    return np.c_[r * np.cos(t), r * np.sin(t)], y


def _xor(n, rng):
    x = rng.uniform(-1.5, 1.5, (n, 2))
    x += np.sign(x) * 0.1  # a small margin around the axes
    return x, (x[:, 0] * x[:, 1] > 0).astype(int)


def _spiral(n, rng):
    y = rng.integers(0, 2, n)
    r = rng.uniform(0.1, 1.5, n)
    t = 1.75 * r * np.pi + np.pi * y
    return np.c_[r * np.sin(t), r * np.cos(t)], y


def _gaussian(n, rng):
    y = rng.integers(0, 2, n)
    centre = np.where(y[:, None] == 0, [-0.6, -0.6], [0.6, 0.6])
    return centre + rng.normal(0, 0.5, (n, 2)), y


GENERATORS = {"moons": _moons, "circles": _circles, "xor": _xor, "spiral": _spiral, "gaussian": _gaussian}


@lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits  # bundled with scikit-learn, no download
    d = load_digits()
    return d.data.astype(np.float32) / 16.0, d.target.astype(np.int64)


def make_dataset(name: str, n_train: int, noise: float, data_seed: int) -> Dataset:
    """The same arguments always give the same data. Noise is Gaussian, with std `noise`, on the inputs."""
    if _FILE_DATA:
        return _FILE_DATA[-1](data_seed)
    rng = np.random.default_rng([data_seed, 7])
    if name == "digits":
        x, y = _digits()
        order = rng.permutation(len(y))
        test, train = order[:497], order[497:497 + n_train]
        x = x + rng.normal(0, noise, x.shape)
        return Dataset(_f32(x[train]), y[train], _f32(x[test]), y[test], 10, (8, 8))
    x, y = GENERATORS[name](n_train + N_TEST_2D, rng)
    x = x + rng.normal(0, noise, x.shape)
    return Dataset(_f32(x[:n_train]), y[:n_train].astype(np.int64),
                   _f32(x[n_train:]), y[n_train:].astype(np.int64), 2)


GAP = (-1.0, 1.0)       # the regression set has no inputs here ...
SPAN = (-3.0, 3.0)      # ... and its inputs cover the rest of this interval


def gap_regression(n_train: int, noise: float, data_seed: int) -> Dataset:
    """1-D regression with a hole: y = sin(x) + Gaussian noise (std `noise`), x uniform on [-3, -1] and
    [1, 3], none in between. Not a live-view data set (its figures draw classes): the uncertainty view's."""
    rng = np.random.default_rng([data_seed, 11])

    def draw(n):  # each point on the left side [SPAN[0], GAP[0]] or the right [GAP[1], SPAN[1]], as likely
        x = np.where(rng.random(n) < 0.5, rng.uniform(SPAN[0], GAP[0], n), rng.uniform(GAP[1], SPAN[1], n))
        return x[:, None], np.sin(x) + rng.normal(0, noise, n)

    x, y = draw(n_train)
    x_test, y_test = draw(N_TEST_2D)
    return Dataset(_f32(x), _f32(y), _f32(x_test), _f32(y_test), 0)


def validation_size(n: int, fraction: float = VALIDATION_FRACTION) -> int:
    """How many of n training points hold_out keeps for validation: at least one, and at least one left."""
    return min(n - 1, max(1, round(fraction * n)))


def hold_out(d: Dataset, data_seed: int,
             fraction: float = VALIDATION_FRACTION) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Split the training points into the ones to fit and a validation set (x_val, y_val): `fraction` of
    them, at least one and leaving at least one, drawn with data_seed. The test set is untouched."""
    n = len(d.y_train)
    k = validation_size(n, fraction)
    held = np.zeros(n, bool)
    held[np.random.default_rng([data_seed, 11]).permutation(n)[:k]] = True
    fit = Dataset(d.x_train[~held], d.y_train[~held], d.x_test, d.y_test, d.n_classes, d.image_shape)
    return fit, d.x_train[held], d.y_train[held]


def _f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


# The command line's --data-file: while set, make_dataset gives this file's data (split by data_seed) whatever
# the name, so every experiment trains on it. Process-wide, so the app never sets it: an upload lives in one
# visitor's session and is passed to the LiveSession instead.
_FILE_DATA: list[Callable[[int], Dataset]] = []


@contextmanager
def file_data(make: Callable[[int], Dataset]) -> Iterator[None]:
    _FILE_DATA.append(make)
    try:
        yield
    finally:
        _FILE_DATA.pop()
