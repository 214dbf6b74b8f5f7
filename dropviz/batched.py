"""Train many dropout networks at once: same architecture and data, different p, mode, L2, max-norm and seed.

The engine core (`model.Runs`) stacks the M networks' weights, so every layer is one batched
matrix product and an experiment's 30 networks cost little more than one. Per network it is the
computation of `Trainer`, which is the same core with M = 1: the same initial weights, batch
order, dropout masks (one per example and neuron, from the run's own mask stream), forward and
backward pass and update. So a seed's losses here match its Trainer's to float rounding.

One iteration costs about three batched 256 x 256 products per model (forward, gradient into the
layer below, weight gradient); everything else is written to avoid allocation and bool tensors,
whose CPU kernels are several times slower than float ones.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .config import FIELDS, Config
from .data import Dataset, make_dataset
from .model import Runs, blown_up, flush_denormals

# the settings that may differ between the models
PER_MODEL = ("p", "input_p", "mode", "weight_decay", "max_norm", "seed")
SHARED = tuple(f.name for f in FIELDS if f.name not in PER_MODEL)


def shared_key(cfg: Config) -> tuple:
    """Configs with equal keys can be trained together in one BatchedTrainer."""
    return tuple(getattr(cfg, name) for name in SHARED)


class BatchedTrainer:
    def __init__(self, cfgs: Sequence[Config], data: Dataset | None = None):
        self.cfgs = list(cfgs)
        if not self.cfgs:
            raise ValueError("BatchedTrainer needs at least one config")
        base = self.cfgs[0]
        for cfg in self.cfgs[1:]:
            for name in SHARED:
                if getattr(cfg, name) != getattr(base, name):
                    raise ValueError(f"{name} differs between the models ({getattr(cfg, name)!r} vs "
                                     f"{getattr(base, name)!r}); only {', '.join(PER_MODEL)} may differ")
        self.base = base
        self.data = data or make_dataset(base.dataset, base.n_train, base.noise, base.data_seed)
        self.runs = Runs(self.cfgs, self.data)
        self.n_models = m = len(self.cfgs)
        self._xs, self._ys = torch.from_numpy(self.data.x_test), torch.from_numpy(self.data.y_test)
        self.step_count = 0
        self.diverged = np.zeros(m, dtype=bool)
        self.diverged_at = np.full(m, -1)

    @property
    def batch_size(self) -> int:
        return self.runs.batch_size

    @property
    def weights(self) -> list[torch.Tensor]:
        """Per layer (hidden..., output) the stacked weights, (M, in, out)."""
        return self.runs.weights

    @property
    def biases(self) -> list[torch.Tensor]:
        """Per layer the stacked biases, (M, 1, out)."""
        return self.runs.biases

    # ------------------------------------------------------------------ training
    def step(self, n: int = 1) -> np.ndarray:
        """Run n iterations; returns each model's training loss (with dropout) of the last batch."""
        if n < 1:
            raise ValueError(f"n={n} is out of range: expected an integer of at least 1")
        with flush_denormals():
            for _ in range(n):
                losses = self._iterate()
        return losses

    def _iterate(self) -> np.ndarray:
        values = self.runs.train_forward()
        bad = blown_up(values) & ~self.diverged
        if bad.any():
            self.diverged |= bad
            self.diverged_at[bad] = self.step_count + 1
        self.runs.train_backward(dead=self.diverged)  # a diverged model no longer takes part
        self.step_count += 1
        values[self.diverged] = np.nan
        return values

    # ------------------------------------------------------------------ test time
    @torch.no_grad()
    def logits(self, x) -> torch.Tensor:
        """Test-time logits (M, N, C): nothing dropped; classic mode scales by the keep probability."""
        x = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, dtype=np.float32))
        return self.runs.forward(x, self.runs.masks.test_mults)[0]

    @torch.no_grad()
    def scores(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Test-time loss and accuracy per model on the points x with targets y. A regression set's loss is the
        mean squared error, and its accuracy NaN: it has no classes."""
        logits, y = self.logits(x), torch.as_tensor(y)
        if self.data.regression:
            return (logits[:, :, 0] - y).square().mean(1).numpy(), np.full(self.n_models, np.nan, dtype=np.float32)
        loss = F.cross_entropy(logits.flatten(0, 1), y.repeat(self.n_models), reduction="none")
        return loss.view(self.n_models, -1).mean(1).numpy(), (logits.argmax(2) == y).float().mean(1).numpy()

    @torch.no_grad()
    def evaluate(self) -> dict[str, np.ndarray]:
        """Test-time loss and accuracy per model (`scores`), on the whole training set and on the test set.
        Diverged models get NaN."""
        out = {}
        for name, x, y in (("train", self.runs.x, self.runs.y), ("test", self._xs, self._ys)):
            out[f"{name}_loss"], out[f"{name}_acc"] = self.scores(x, y)
        for values in out.values():
            values[self.diverged] = np.nan
        return out

    def mc_outputs(self, x, passes: int, seed: int = 0, models: Sequence[int] | None = None) -> torch.Tensor:
        """Monte-Carlo dropout: the raw outputs of `passes` stochastic passes, (T, M', N, outputs)."""
        return self.runs.mc_outputs(x, passes, seed, models)

    def mc_probs(self, x, passes: int, seed: int = 0, models: Sequence[int] | None = None) -> torch.Tensor:
        """Monte-Carlo dropout: class probabilities of `passes` stochastic passes, (T, M', N, C).

        Masks come from each model's probe stream (seeded by `seed`), so training is untouched.
        """
        return self.runs.mc_probs(x, passes, seed, models)

    @torch.no_grad()
    def activations(self, x) -> list[np.ndarray]:
        """Each hidden layer's test-time activations (M, N, width), after the nonlinearity."""
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        return [a.numpy() for a in self.runs.forward(x, self.runs.masks.test_mults, keep=True)[1]]
