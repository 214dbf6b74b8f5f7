"""The `variants` experiment: every variant of every family on the 8 x 8 digits, several seeds.

Rows: family (dense, conv, recurrent), variant (none, standard, channel, block, naive, variational,
dropconnect), p (0 for none), seed, test_acc, test_loss, and test_rule: "scaling" (the test-time factor
of dropout.multipliers, the usual rule) or, for DropConnect also, "moment matching" (the paper's rule).
Each seed's variants start from the same initial weights and see the same batches as its "none" run.
The digits are the bundled ones: the config's n_train and noise when its data set is digits, else 500
training digits without noise.
"""
from __future__ import annotations

import pandas as pd

from .nets import FAMILIES
from .run import N_TRAIN, Spec, VariantRun, digits


def training_data(base):
    """The digits the experiment trains on: the config's when its data set is digits, else the bundled 500."""
    return digits(base.n_train, base.noise, base.data_seed) if base.dataset == "digits" else digits(N_TRAIN)


def label(base) -> str:
    """What the experiment ran, for the CLI's closing line: it trains on digits whatever the config's data set,
    its own small nets, Adam at its own learning rate, and takes only p, mode and the seeds from the config."""
    from ..experiments import dropout_p  # imported here: experiments registers this module
    n = base.n_train if base.dataset == "digits" else N_TRAIN
    noise = f" noise={base.noise:g}" if base.dataset == "digits" and base.noise else ""
    return f"digits n={n}{noise}, dense/conv/RNN nets, p={dropout_p(base, None):g} {base.mode}, first seed={base.seed}"


def variants(base, seeds: int = 3, steps: int = 300, p: float | None = None, block_size: int = 3,
             progress=None, cancel=None) -> pd.DataFrame:
    from ..config import RUN_FIELD
    from ..experiments import _check, _noop, _seeds, dropout_p  # imported here: experiments registers this
    from .settings import BLOCK_SIZES
    p = dropout_p(base, p)
    steps = RUN_FIELD["steps"].checked(steps)
    lo, hi = BLOCK_SIZES
    if not lo <= block_size <= hi:
        raise ValueError(f"block_size={block_size!r} is out of range: expected an integer from {lo} to {hi}")
    progress = progress or _noop
    data = training_data(base)
    specs = [Spec(f, v, 0.0 if v == "none" else p, base.mode, block_size) for f, vs in FAMILIES.items() for v in vs]
    seed_list = _seeds(base, seeds)
    rows, total, done = [], len(specs) * len(seed_list), 0
    for spec in specs:
        for seed in seed_list:
            _check(cancel)
            run = VariantRun(spec, seed, data)
            while run.step_count < steps:
                _check(cancel)
                run.step(min(50, steps - run.step_count))
            row = dict(family=spec.family, variant=spec.variant, p=spec.p, seed=seed)
            rows.append({**row, **run.evaluate(), "test_rule": "scaling"})
            if spec.variant == "dropconnect":
                rows.append({**row, **run.evaluate_moments(), "test_rule": "moment matching"})
            done += 1
            progress(done / total, f"{spec.family} {spec.variant}, seed {seed}: {done} of {total} networks")
    return pd.DataFrame(rows)
