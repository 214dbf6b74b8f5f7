"""Named starting points that each show one lesson about dropout.

Each preset promises a qualitative result, checked by tests/test_presets.py on fixed seeds.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import Config


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: Config
    steps: int       # iterations the CLI and the experiments train it for: the lesson fully shown
    visible_at: int  # iterations from which the lesson shows on screen (tests/test_presets.py checks it)

    def caption(self, iterations_per_second: float) -> str:
        """The description and when its lesson shows, in iterations and in seconds at the given speed."""
        seconds = max(1, round(self.visible_at / iterations_per_second))
        return (f"{self.description} Visible after about {self.visible_at} iterations "
                f"(about {seconds} s at this speed).")


_OVERFIT = Config(dataset="moons", n_train=40, noise=0.3, depth=2, width=256, activation="relu",
                  p=0.5, mode="inverted", optimizer="sgd", lr=0.1, batch_size=64, seed=0, data_seed=0)

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        "Overfitting without dropout",
        "A wide network (2 x 256) on 40 noisy points. The p = 0 twin fits the noise: its test loss "
        "climbs above the dropout run's (p = 0.5), which overfits too, more slowly.",
        _OVERFIT, 3000, visible_at=400),
    Preset(
        "Too much dropout",
        "p = 0.9 drops nine neurons in ten: the network underfits, its training loss stays well "
        "above the p = 0 twin's and the decision boundary is blurred.",
        _OVERFIT.replace(p=0.9, n_train=200), 1500, visible_at=200),
    Preset(
        "Deep network",
        "Seven hidden layers of 64 with a moderate p = 0.2: dropout acts in every layer, and the "
        "network still trains on the spiral.",
        Config(dataset="spiral", n_train=200, noise=0.1, depth=7, width=64, activation="relu",
               p=0.2, mode="inverted", optimizer="adam", lr=0.003, batch_size=64), 2000, visible_at=250),
)}
