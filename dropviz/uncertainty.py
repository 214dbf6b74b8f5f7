"""Monte-Carlo dropout as approximate Bayesian inference (Gal & Ghahramani 2016), on 1-D regression.

A network trained with dropout on y = sin(x) + noise, with inputs on [-3, -1] and [1, 3] only, predicts
with dropout still on: T stochastic passes give a predictive mean and a spread (their std). The spread
is the model's uncertainty under the approximation; the data's own noise is not added to it.

Measured with SETTINGS (depth 2): the spread is about 1.4 times larger in the gap than on the data, but
beyond both ends this network turns flat and its spread shrinks. With one hidden layer it is the other way
round (wide beyond the ends, narrow in the gap). The approximation depends on the network, not only on the
data: the view says so rather than promising growth everywhere away from the data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .batched import BatchedTrainer
from .config import Config
from .data import GAP, SPAN, Dataset, gap_regression

# A wide ReLU net, p = 0.2 on its hidden neurons (inputs kept: dropping the only input zeroes it), Adam,
# full batch. Small L2 as in Gal & Ghahramani's setting.
SETTINGS = Config(n_train=40, noise=0.1, depth=2, width=128, p=0.2, optimizer="adam", lr=0.01, batch_size=40,
                  weight_decay=1e-4)
STEPS = 2000
PASSES = 100
MARGIN = 2.0  # the view runs this far beyond the data on each side


@dataclass(frozen=True)
class Predictive:
    data: Dataset
    x: np.ndarray     # (G,) inputs across the data, the gap and the margins
    mean: np.ndarray  # (G,) mean of the T passes
    std: np.ndarray   # (G,) std of the T passes
    passes: int
    p: float

    def std_where(self, lo: float, hi: float) -> float:
        """Mean predictive std over the view's inputs in [lo, hi]."""
        inside = (self.x >= lo) & (self.x <= hi)
        return float(self.std[inside].mean())

    @property
    def std_in_gap(self) -> float:
        return self.std_where(*GAP)

    @property
    def std_beyond(self) -> float:
        """Over the margins beyond both ends of the data."""
        return float(self.std[(self.x < SPAN[0]) | (self.x > SPAN[1])].mean())

    @property
    def std_on_data(self) -> float:
        """Over both sides the training inputs cover."""
        on = ((self.x >= SPAN[0]) & (self.x <= GAP[0])) | ((self.x >= GAP[1]) & (self.x <= SPAN[1]))
        return float(self.std[on].mean())


def predictive(cfg: Config = SETTINGS, steps: int = STEPS, passes: int = PASSES, points: int = 241) -> Predictive:
    """Train one network on the gap data set (cfg's n_train, noise, data_seed, architecture and training
    settings) and take `passes` Monte-Carlo passes over a grid from SPAN - MARGIN to SPAN + MARGIN."""
    data = gap_regression(cfg.n_train, cfg.noise, cfg.data_seed)
    trainer = BatchedTrainer([cfg.replace(input_p=0.0)], data=data)
    trainer.step(steps)
    if trainer.diverged[0]:
        raise ValueError(f"training diverged at lr={cfg.lr:g}: lower the learning rate")
    x = np.linspace(SPAN[0] - MARGIN, SPAN[1] + MARGIN, points, dtype=np.float32)
    out = trainer.mc_outputs(x[:, None], passes, seed=cfg.seed)[:, 0, :, 0].numpy()  # (T, G)
    return Predictive(data, x, out.mean(0), out.std(0), passes, cfg.p)
