"""A tiny multilayer perceptron whose dropout is explicit.

Dropout is a multiplier applied to each hidden layer's activations (and optionally to the
inputs). Every phase of dropout is one choice of multipliers:

    training, inverted:  mask / (1 - p)   (mask: 1 = kept, 0 = dropped, drawn per example)
    training, classic:   mask
    test, inverted:      nothing
    test, classic:       1 - p            (the keep probability, not p)

so one forward pass serves all of them, and the masks that training used can be replayed.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


def run_seeds(seed: int) -> tuple[int, int, int, int]:
    """A run's four independent seeds: initial weights, batch order, dropout masks, probe passes.

    Trainer and BatchedTrainer both derive them here, so a model trained in a batch starts and
    proceeds exactly as the same seed trained alone.
    """
    return tuple(int(s) for s in np.random.SeedSequence(seed).generate_state(4))


class MLP(nn.Module):
    def __init__(self, n_inputs: int, width: int, depth: int, n_outputs: int, activation: str,
                 generator: torch.Generator):
        super().__init__()
        sizes = [n_inputs] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.out = nn.Linear(width, n_outputs)
        self.act = ACTIVATIONS[activation]
        # PyTorch's default Linear init, but from our own generator: weights depend only on the seed.
        for layer in [*self.hidden, self.out]:
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.in_features)
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)

    @classmethod
    def for_run(cls, cfg, data, init_seed: int) -> "MLP":
        """The initial network of a run: the architecture of `cfg` for `data`, weights from `init_seed`."""
        return cls(data.n_inputs, cfg.width, cfg.depth, data.n_classes, cfg.activation,
                   torch.Generator().manual_seed(init_seed))

    def forward(self, x, multipliers=None, keep_pre: bool = False):
        """Logits, and (if keep_pre) the activations of each hidden layer before dropout.

        multipliers: None for no dropout, else a list with one entry for the input and one per
        hidden layer; each entry is None, a number, or a tensor broadcastable to the activations.
        """
        multipliers = multipliers or [None] * (len(self.hidden) + 1)
        if multipliers[0] is not None:
            x = x * multipliers[0]
        pres = []
        for layer, m in zip(self.hidden, multipliers[1:]):
            h = self.act(layer(x))
            if keep_pre:
                pres.append(h)
            x = h if m is None else h * m
        return self.out(x), pres


def draw_masks(shapes, ps, generator: torch.Generator) -> list:
    """One Bernoulli(keep = 1 - p) mask per layer with p > 0 (None elsewhere); 1.0 = kept.

    Each row is one example, and each example draws its own mask, as in PyTorch.
    """
    # uniform < keep is a Bernoulli(keep) draw, about 3x faster than bernoulli_ on CPU
    return [None if p == 0 else torch.rand(s, generator=generator).lt_(1.0 - p)
            for s, p in zip(shapes, ps)]


def train_multipliers(masks, ps, mode: str):
    """Training-time multipliers from masks: survivors scaled by 1/(1-p) in inverted mode only."""
    out = []
    for mask, p in zip(masks, ps):
        if mask is None:
            out.append(None)
        elif mode == "inverted":
            out.append(mask.mul_(1.0 / (1.0 - p)) if p > 0 else mask)
        else:
            out.append(mask)
    return out


def test_multipliers(ps, mode: str):
    """Test time: nothing is dropped. Classic mode multiplies by the keep probability 1 - p."""
    if mode == "inverted":
        return [None] * len(ps)
    return [None if p == 0 else 1.0 - p for p in ps]


test_multipliers.__test__ = False  # named for test *time*; not a pytest test when imported
