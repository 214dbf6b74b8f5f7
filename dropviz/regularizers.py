"""The 2014 paper's Table 9 in miniature: dropout beside and together with L2 and max-norm.

Each method is the base config with its regularizers switched on or off; every method trains from the
same seeds (same initial weights and batches), all in one batch. The paper's numbers are MNIST's
(60,000 images of 28 x 28, nets of 1024+ units, many epochs): dropviz's are 8 x 8 digits, so only the
order of the methods can be compared, not the errors.
"""
from __future__ import annotations

import pandas as pd

from .config import FIELD, Config

L2 = 1e-3        # the L2 arms' weight_decay when the base config has none
# The max-norm arms' bound when the base config has none. The paper's 3 to 4 never binds here: on digits
# (64 inputs, 128-neuron layers) unconstrained incoming norms start near 0.6 and reach 1.5 to 2.3 in 3000
# iterations (lr 0.05, momentum 0.9), so a bound of 1 does act.
MAX_NORM = 1.0

# method: (dropout on, L2 on, max-norm on)
METHODS = {
    "none": (False, False, False),
    "L2": (False, True, False),
    "max-norm": (False, False, True),
    "dropout": (True, False, False),
    "dropout + L2": (True, True, False),
    "dropout + max-norm": (True, False, True),
}

# The paper's MNIST test errors in % (Srivastava et al. 2014, Table 9), for reference text only
PAPER_MNIST_ERROR = {"L2": 1.62, "max-norm": 1.35, "dropout + L2": 1.25, "dropout + max-norm": 1.05}


def method_configs(base: Config, p: float, weight_decay: float, max_norm: float) -> dict[str, Config]:
    """Each method's config: the base with dropout (p, and the base's input_p), L2 and max-norm on or off."""
    return {name: base.replace(p=p if drop else 0.0, input_p=base.input_p if drop else 0.0,
                               weight_decay=weight_decay if l2 else 0.0, max_norm=max_norm if norm else 0.0)
            for name, (drop, l2, norm) in METHODS.items()}


def regularizers(base: Config, seeds: int = 3, steps: int = 3000, p: float | None = None,
                 weight_decay: float | None = None, max_norm: float | None = None,
                 progress=None, cancel=None) -> pd.DataFrame:
    """Final test-time accuracy and loss of each method and seed: columns method, seed, test_acc,
    test_loss (and the train metrics, p, weight_decay, max_norm, diverged).

    weight_decay and max_norm: the L2 and max-norm arms' values; by default the base config's, or L2
    and MAX_NORM where it has none. The paper's setting is digits, momentum and max-norm 3 to 4.
    """
    # here, not at the top: dropviz.experiments imports this module to register the experiment
    from .experiments import _rows, _seeds, dropout_p, train_all

    p = dropout_p(base, p)
    weight_decay = _arm("weight_decay", weight_decay, base.weight_decay or L2)
    max_norm = _arm("max_norm", max_norm, base.max_norm or MAX_NORM)
    methods = method_configs(base, p, weight_decay, max_norm)
    names = [name for name in methods for _ in _seeds(base, seeds)]
    cfgs = [methods[name].replace(seed=s) for name in methods for s in _seeds(base, seeds)]
    runs = train_all(cfgs, steps, progress, cancel)
    rows = pd.DataFrame([{"method": name, **row} for name, row in zip(names, _rows(runs, "seed", "p", "weight_decay",
                                                                                    "max_norm"))])
    first = ["method", "seed", "test_acc", "test_loss"]
    return rows[first + [c for c in rows.columns if c not in first]]


def _arm(name: str, given: float | None, default: float) -> float:
    """The L2 or max-norm arms' value: the given one, else `default`; a setting above 0, or ValueError."""
    field = FIELD[name]
    value = field.checked(default if given is None else given)
    if value <= 0:
        raise ValueError(f"{name}={given!r} is out of range: its arms need {name} above 0 (up to {field.hi:g})")
    return value
