"""What an experiment will cost before it runs: its memory, and its work as a count for wait estimates.

Plain Python (no Streamlit, no training). `plan` lists the batched groups an experiment of
dropviz.experiments trains (each a BatchedTrainer of M networks), `memory_bytes` adds up their
tensors, and `work` counts multiply-adds, so that a measured rate turns another job into seconds.

Memory, per group of M networks with `rows` examples per iteration (min(batch size, n_train)):
- every hidden layer keeps 3 preallocated (M, rows, width) float32 workspaces (pre-activation,
  slope, gradient) and, where a network drops, 2 more for the masks (uniforms and multipliers);
- the weights twice (stacked copy and each network's initial module), plus Adam's 3 buffers;
- while evaluating, about 3 (M, n, width) activations for the larger of training and test set.
experiments.train_all lets a group's trainer go before it builds the next (unless the experiment
keeps them: mc-vs-scaling and sparsity, one group each), so the peak is the largest group with its
evaluation, plus what is held throughout (cost's two timing networks). The Python process itself
(torch, pandas: about 0.3 GB) is not counted: the figure is what one more experiment adds.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

from .config import DIGITS_MAX_TRAIN, FIELD, Config
from .data import N_TEST_2D, validation_size
from .dropout import multipliers
from .experiments import EXPERIMENTS, N_VALUES, P_VALUES
from .regularizers import METHODS

FLOAT = 4  # bytes of a float32


@dataclass(frozen=True)
class Group:
    """M networks trained together on one config's data and architecture."""
    m: int
    cfg: Config
    drops: bool  # does any of them drop hidden neurons (mask buffers)
    held: bool = False  # kept until the experiment ends, beside the groups trained after it


def _shape(cfg: Config) -> tuple[int, int, int]:
    """(inputs, classes, test examples) of the config's data set, without making it."""
    return (64, 10, 497) if cfg.dataset == "digits" else (2, 2, N_TEST_2D)


def _param(name: str, params: dict, key: str):
    value = params.get(key)
    return inspect.signature(EXPERIMENTS[name].run).parameters[key].default if value is None else value


def plan(name: str, cfg: Config, params: dict) -> list[Group]:
    """The groups of networks the experiment trains, as dropviz.experiments builds them."""
    seeds = int(_param(name, params, "seeds"))
    if name == "p-sweep":
        widths = {cfg.width: len(P_VALUES) * seeds}
        if params.get("constant_pn"):
            kept = cfg.width * (1 - max(P_VALUES))
            for p in P_VALUES:
                w = int(min(FIELD["width"].hi, max(1, round(kept / multipliers(p, cfg.mode).keep))))
                widths[w] = widths.get(w, 0) + seeds
        fit = max(int(FIELD["n_train"].lo), cfg.n_train - validation_size(cfg.n_train))  # points not held out
        return [Group(m, cfg.replace(width=w, n_train=fit), True) for w, m in widths.items()]
    if name == "data-size":
        cap = DIGITS_MAX_TRAIN if cfg.dataset == "digits" else int(FIELD["n_train"].hi)
        # each seed's own training points: its two arms train apart from the other seeds
        return [Group(2, cfg.replace(n_train=n), True) for n in sorted({min(n, cap) for n in N_VALUES})
                for _ in range(seeds)]
    if name == "mc-vs-scaling":
        return [Group(seeds, cfg, True)]
    if name == "sparsity":
        return [Group(2 * seeds, cfg, True)]
    if name == "cost":  # two single timing networks, then without, with, and with again (the repeat)
        return [Group(1, cfg, False, held=True), Group(1, cfg, True, held=True),
                Group(seeds, cfg, False), Group(seeds, cfg, True), Group(seeds, cfg, True)]
    if name == "regularizers":  # every method and seed in one batch: L2 and max-norm may differ within one
        return [Group(len(METHODS) * seeds, cfg, True)]
    if name == "variants":  # 10 small nets a seed, trained one by one (dropviz/variants): costed as 3 digits
        # MLPs each, a conv net's multiply-adds; the memory is overstated, a few MB either way
        return [Group(30 * seeds, cfg.replace(dataset="digits", n_train=500, width=64, depth=1), True)]
    raise ValueError(f"unknown experiment {name!r}: expected one of {', '.join(EXPERIMENTS)}")


def _group_bytes(g: Group) -> tuple[int, int]:
    """(bytes kept while the experiment runs, bytes of its largest evaluation) of one group."""
    c = g.cfg
    n_in, n_out, n_test = _shape(c)
    rows = min(c.batch_size, c.n_train)
    weights = n_in * c.width + (c.depth - 1) * c.width ** 2 + c.width * n_out + c.depth * c.width + n_out
    # stacked + initial, and gradient (and Adam's moments, or sgd's momentum buffer)
    copies = 2 + (3 if c.optimizer == "adam" else 1 + (c.momentum > 0))
    hidden = c.depth * rows * c.width * (3 + (2 if g.drops else 0))
    inputs = c.n_train * n_in + rows * (n_in + 2 * n_out) + (3 * rows * n_in if c.input_p > 0 else 0)
    kept = g.m * FLOAT * (weights * copies + hidden + inputs)
    evaluation = g.m * FLOAT * 3 * max(c.n_train, n_test) * c.width
    return kept, evaluation


def memory_bytes(name: str, cfg: Config, params: dict) -> int:
    """Estimated memory the experiment adds to the process at its peak, in bytes."""
    groups = plan(name, cfg, params)
    held = sum(_group_bytes(g)[0] for g in groups if g.held)
    extra = 0
    if name == "sparsity":  # every network's test-time activations, kept as arrays
        extra = groups[0].m * FLOAT * cfg.depth * _shape(cfg)[2] * cfg.width
    return held + max(sum(_group_bytes(g)) for g in groups if not g.held) + extra


def work(name: str, cfg: Config, params: dict) -> float:
    """Multiply-adds of the training (3 products per layer and example), a measure of its time."""
    steps = int(_param(name, params, "steps"))
    total = 0.0
    for g in plan(name, cfg, params):
        c = g.cfg
        n_in, n_out, _ = _shape(c)
        per_example = n_in * c.width + (c.depth - 1) * c.width ** 2 + c.width * n_out
        total += 3.0 * g.m * min(c.batch_size, c.n_train) * per_example * steps
    return total
