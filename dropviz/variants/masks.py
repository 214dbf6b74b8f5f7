"""The mask shapes of the variants, all drawn from one run's mask stream by the engine's keep rule.

Every mask here is made of float32 uniforms u from the run's mask stream (the third of
`model.run_seeds`), and a unit is kept iff u > p: `model.MaskStream.rule`, the dense engine's rule,
applied here in classic mode so that it gives exactly 0 or 1. What differs is the SHAPE a draw covers:

    element   one draw per position of a feature map (N, C, H, W): standard dropout on conv maps
    channel   one draw per feature map (N, C): a whole channel is dropped (Tompson et al. 2015, Dropout2d)
    block     b x b squares dropped (DropBlock, Ghiasi et al. 2018); see `block_gamma`
    shared    one draw per sequence and unit (N, U), used at every time step (Gal & Ghahramani 2016)
    fresh     one draw per time step, sequence and unit (T, N, U): the naive recurrent dropout
    weight    one draw per example and weight (N, in, out): DropConnect (Wan et al. 2013)

The survivors' factor in training and every unit's factor at test time are `dropout.multipliers(p, mode)`:
the same table as the dense engine's, so inverted and classic mode mean the same everywhere.
"""
from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from ..model import MaskStream


@lru_cache(maxsize=64)
def _rule(p: float) -> MaskStream:
    """The engine's rule for drop probability p, with factor 1: 0 for a dropped unit, 1 for a kept one."""
    return MaskStream([0], [1], [SimpleNamespace(input_p=p, p=p, mode="classic")])


def keep(u: np.ndarray, p: float) -> torch.Tensor:
    """0/1 float32 tensor of u's shape: 1 where the uniform u (float32, from a mask stream) exceeds p."""
    return _rule(float(p)).rule(torch.from_numpy(u).reshape(1, 1, -1), 0).reshape(u.shape)


def uniforms(rng: np.random.Generator, shape) -> np.ndarray:
    """float32 uniforms in [0, 1), multiples of 2^-24, as the engine's MaskStream.draw makes them."""
    return rng.random(tuple(shape), dtype=np.float32)


def element(rng, p: float, shape) -> torch.Tensor:
    """One draw per entry of `shape`: standard dropout (and DropConnect's, on a weight shape)."""
    return keep(uniforms(rng, shape), p)


def channel(rng, p: float, shape) -> torch.Tensor:
    """(N, C, H, W) mask constant over each channel's positions: one draw per example and channel."""
    n, c, h, w = shape
    return keep(uniforms(rng, (n, c, 1, 1)), p).expand(n, c, h, w)


def block_gamma(p: float, size: int) -> float:
    """The drop probability of a block's seed so that every position is dropped with probability p.

    A position is covered by the size^2 seeds whose square holds it, so it is kept iff all of them
    are kept: (1 - gamma)^(size^2) = 1 - p. Seeds may sit so that their square sticks out of the map
    (it is then cut at the edge), which makes this exact at every position, border included. The
    DropBlock paper's gamma = p / size^2 x area / (area with whole blocks) ignores overlaps and
    undershoots: at p = 0.5 and size 3 on 8 x 8 it drops about 0.39 of the map, not 0.5."""
    return float(1.0 - (1.0 - p) ** (1.0 / size**2))


def squares(seeds: torch.Tensor, size: int) -> torch.Tensor:
    """Dropped seeds (N, C, H + size - 1, W + size - 1), 1 = dropped, to the map's dropped positions
    (N, C, H, W): seed (i, j) drops the square of rows i - size + 1 .. i, columns j - size + 1 .. j."""
    return F.max_pool2d(seeds, size, stride=1) if size > 1 else seeds


def block(rng, p: float, size: int, shape) -> torch.Tensor:
    """(N, C, H, W) mask dropping size x size squares, each position with probability p."""
    n, c, h, w = shape
    if not 1 <= size <= min(h, w):
        raise ValueError(f"block_size={size!r} is out of range: expected an integer from 1 to {min(h, w)}")
    seeds = 1.0 - keep(uniforms(rng, (n, c, h + size - 1, w + size - 1)), block_gamma(p, size))
    return 1.0 - squares(seeds, size)


def over_time(rng, p: float, steps: int, shape, shared: bool) -> torch.Tensor:
    """(steps, *shape) masks for a recurrent layer: one draw used at every step (shared), or a fresh
    draw per step."""
    if shared:
        return keep(uniforms(rng, shape), p).expand(steps, *shape)
    return keep(uniforms(rng, (steps, *shape)), p)
