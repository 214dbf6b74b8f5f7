"""The dropout rule, in one place: what multiplies a layer's outputs in training and at test time.

In dropviz p is always the drop probability; the keep probability is 1 - p.

    phase     mode       kept neuron    dropped neuron
    training  inverted   x 1/(1-p)      0
    training  classic    x 1            0
    test      inverted   x 1            (nothing is dropped)
    test      classic    x (1-p)        (nothing is dropped)

So the expected output of a neuron in training equals its output at test time in both modes.
Which neurons are dropped is the engine's mask rule (dropviz.model.MaskStream.rule): a neuron is
kept iff its float32 uniform draw u in [0, 1) exceeds p, so with probability 1 - p.
(The 2014 paper writes p for the *retain* probability: its "multiply the weights by p" is our 1-p.)
The engine, the batched engine, the live view's payload and every label read these numbers here.
"""
from __future__ import annotations

from dataclasses import dataclass

MODES = ("inverted", "classic")


@dataclass(frozen=True)
class Multipliers:
    """The factors of one layer with drop probability p."""
    p: float
    train: float  # a kept neuron's output is multiplied by this in training (a dropped one sends 0)
    test: float   # every neuron's output is multiplied by this at test time (none is dropped)

    @property
    def keep(self) -> float:
        return 1.0 - self.p


def multipliers(p: float, mode: str) -> Multipliers:
    """The training and test-time factors of a layer with drop probability p (0 <= p < 1)."""
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not valid: expected one of {', '.join(MODES)}")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p={p!r} is out of range: expected a number from 0 to below 1")
    if p == 0:
        return Multipliers(0.0, 1.0, 1.0)
    if mode == "inverted":
        return Multipliers(p, 1.0 / (1.0 - p), 1.0)
    return Multipliers(p, 1.0, 1.0 - p)


def layer_multipliers(input_p: float, p: float, depth: int, mode: str) -> tuple[Multipliers, ...]:
    """The factors of every layer dropout acts on, in the engine's order: the input layer
    (input_p), then hidden layers 1..depth (p)."""
    return (multipliers(input_p, mode),) + (multipliers(p, mode),) * depth


def factor_text(factor: float) -> str:
    """A multiplier as every label writes it: ×2.00, ×0.75, ×1."""
    return "×1" if factor == 1 else f"×{factor:.2f}"
