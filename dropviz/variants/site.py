"""One place in a network where a variant drops: its drop probability, factors and mask shape."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..dropout import Multipliers, multipliers
from . import masks


@dataclass
class Site:
    """A layer's dropout: `draw` makes this iteration's 0/1 mask from the run's mask stream, `train`
    and `test` apply the factors of dropout.multipliers. `last` keeps the latest mask, for the frames."""
    p: float
    mode: str
    shape: str = "element"  # element, channel, block, shared, fresh, weight
    block_size: int = 3
    factors: Multipliers = field(init=False)
    last: torch.Tensor | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        self.factors = multipliers(self.p, self.mode)

    @property
    def drops(self) -> bool:
        return self.p > 0

    def draw(self, rng, shape, steps: int = 0) -> torch.Tensor | None:
        """This pass's 0/1 mask of `shape` ((steps, *shape) for a recurrent site); None when p = 0,
        which draws nothing from the stream."""
        if not self.drops:
            self.last = None
            return None
        if self.shape == "channel":
            mask = masks.channel(rng, self.p, shape)
        elif self.shape == "block":
            mask = masks.block(rng, self.p, self.block_size, shape)
        elif self.shape in ("shared", "fresh"):
            mask = masks.over_time(rng, self.p, steps, shape, shared=self.shape == "shared")
        else:
            mask = masks.element(rng, self.p, shape)
        self.last = mask
        return mask

    def train(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """h in training: dropped entries 0, kept ones times the training factor (1/(1-p) or 1)."""
        if mask is None:
            return h
        return h * mask * self.factors.train if self.factors.train != 1 else h * mask

    def test(self, h: torch.Tensor) -> torch.Tensor:
        """h at test time: nothing dropped, times the test factor (1, or 1-p in classic mode)."""
        return h * self.factors.test if self.factors.test != 1 else h
