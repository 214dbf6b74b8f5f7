"""One engine: the same config and seed give the same run in Trainer (live view), BatchedTrainer
(experiments), the CLI's `train` and the `experiment p-sweep` command, with dropout on.

And the dropout rule the engine core applies: keep iff u > p, so with probability 1 - p, and the
factors of dropout.multipliers, whose expected training output is the test-time output.
"""
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dropviz import cli
from dropviz.batched import BatchedTrainer
from dropviz.config import Config
from dropviz.data import hold_out, make_dataset
from dropviz.dropout import MODES, layer_multipliers, multipliers
from dropviz.experiments import p_sweep
from dropviz.model import MaskStream
from dropviz.trainer import Trainer

TOL = 1e-4
METRICS = ("train_loss", "test_loss", "train_acc", "test_acc")  # BatchedTrainer.evaluate's names
FRAME = {"train_loss": "clean_train_loss", "test_loss": "test_loss", "train_acc": "train_acc", "test_acc": "test_acc"}

CASES = {
    "p=0.5 sgd full batch": Config(p=0.5, width=32),
    "input_p classic adam mini-batch": Config(p=0.5, input_p=0.2, mode="classic", optimizer="adam", lr=0.01,
                                              n_train=100, batch_size=16, width=32),
    "tanh input_p sgd mini-batch": Config(p=0.3, input_p=0.2, activation="tanh", n_train=60, batch_size=20,
                                          width=24, depth=3),
    "momentum L2 max-norm sgd mini-batch": Config(p=0.5, momentum=0.9, weight_decay=1e-3, max_norm=1.0, lr=0.05,
                                                  n_train=80, batch_size=16, width=32, depth=2),
    "L2 max-norm adam full batch": Config(p=0.3, optimizer="adam", lr=0.01, weight_decay=0.01, max_norm=0.8,
                                          width=24),
}


@pytest.mark.parametrize("cfg", CASES.values(), ids=CASES.keys())
def test_trainer_and_batched_trainer_are_one_engine(cfg):
    """Each run of a batch (here among other p, modes and seeds) draws the batches and masks of the
    same config in Trainer, and their losses stay within TOL for hundreds of iterations."""
    assert_one_engine([cfg.replace(p=0.0, seed=4), cfg, cfg.replace(p=0.8, input_p=0.0, mode="inverted", seed=9)])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_each_run_of_a_batch_has_its_own_weight_decay_and_max_norm(optimizer):
    """The regularizers experiment trains L2, max-norm and neither side by side in one batch: each run
    must still be the run its own config gives in Trainer."""
    cfg = Config(p=0.5, optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 0.01, momentum=0.5, n_train=80,
                 batch_size=16, width=32, depth=2)
    assert_one_engine([cfg, cfg.replace(weight_decay=0.02), cfg.replace(max_norm=0.7, seed=3),
                       cfg.replace(p=0.0, weight_decay=0.005, max_norm=1.2)])


def assert_one_engine(cfgs):
    batched = BatchedTrainer(cfgs)
    trainers = [Trainer(c, batched.data) for c in cfgs]
    worst = {"batch": 0.0, **{k: 0.0 for k in METRICS}}
    for it in range(1, 301):
        losses = batched.step(1)
        frames = [t.step(1) for t in trainers]
        for j, (t, frame) in enumerate(zip(trainers, frames)):
            a, b = t.runs.batch, batched.runs.batch
            assert (a.idx is None and b.idx is None) or np.array_equal(a.idx[0], b.idx[j])
            for ma, mb in zip(a.mults, b.mults):  # the same masks, multiplied by the same factors
                assert (ma is None and (mb is None or bool(torch.all(mb[j] == 1)))) or torch.equal(ma[0], mb[j])
            worst["batch"] = max(worst["batch"], abs(frame.train_loss - losses[j]))
        if it % 25 == 0:  # test-time metrics of every run, at each recorded step
            ev = batched.evaluate()
            for j, frame in enumerate(frames):
                for k in METRICS:
                    worst[k] = max(worst[k], abs(getattr(frame, FRAME[k]) - ev[k][j]))
    assert all(v < TOL for v in worst.values()), worst
    assert not batched.diverged.any()


def test_monte_carlo_passes_are_the_same_in_both_engines():
    cfg = Config(p=0.4, input_p=0.1, width=24)
    trainer, batched = Trainer(cfg), BatchedTrainer([cfg.replace(p=0.6, seed=3), cfg])
    trainer.step(40), batched.step(40)
    x = trainer.data.x_test[:30]
    mean, std = trainer.predict(x, samples=20, seed=2)
    runs = batched.mc_probs(x, 20, seed=2, models=[1])[:, 0]
    np.testing.assert_allclose(mean, runs.mean(0).numpy(), atol=TOL)
    np.testing.assert_allclose(std, runs.std(0, correction=0).numpy(), atol=TOL)


# ---------------------------------------------------------------------- done when: CLI, experiments
def cli_json(capsys, *args) -> dict:
    capsys.readouterr()
    assert cli.main(["train", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("flags", [[], ["--optimizer", "adam", "--lr", "0.01"]], ids=["sgd", "adam"])
def test_the_same_seed_gives_the_same_losses_in_trainer_cli_and_p_sweep(flags, capsys, tmp_path):
    args = ["--p", "0.5", "--width", "32", "--steps", "300", *flags]
    cfg = Config(p=0.5, width=32, **({"optimizer": "adam", "lr": 0.01} if flags else {}))
    trained = cli_json(capsys, *args)
    assert trained["config"] == cfg.to_dict() and trained["step"] == 300
    frame = Trainer(cfg).step(300)
    sweep = p_sweep(cfg, ps=(0.0, 0.5, 0.9), seeds=2, steps=300)  # p = 0.5 seed 0 among other networks
    row = sweep[(sweep["p"] == 0.5) & (sweep["seed"] == 0) & (sweep["variant"] == "fixed width")].iloc[0]
    csv = tmp_path / "sweep.csv"
    assert cli.main(["experiment", "p-sweep", *args[2:], "--seeds", "1", "--csv", str(csv)]) == 0
    command = pd.read_csv(csv).query("p == 0.5 and seed == 0").iloc[0]
    # the p-sweep fits on the training points less its validation split, and reports each network at its
    # lowest validation loss (early stopping): the same network in Trainer, stepped to that iteration
    fit = hold_out(make_dataset(cfg.dataset, cfg.n_train, cfg.noise, cfg.data_seed), cfg.data_seed)[0]
    assert row["iterations"] == command["iterations"]
    at_best = Trainer(cfg, fit).step(int(row["iterations"]))
    for k in METRICS:
        values = [trained[FRAME[k]], getattr(frame, FRAME[k])]
        assert max(values) - min(values) < TOL, (k, values)
        values = [getattr(at_best, FRAME[k]), row[k], command[k]]
        assert max(values) - min(values) < TOL, (k, values)


# ---------------------------------------------------------------------- the rule
P = st.floats(0.0, 0.95, exclude_max=True, allow_subnormal=False)  # Config reads a subnormal p as 0
MODE = st.sampled_from(MODES)


def stream(p: float, mode: str, width: int = 64) -> MaskStream:
    return MaskStream([0], [2, width], [Config(p=p, mode=mode)])


GRID = 2**24  # numpy's float32 uniforms are k / 2^24, k = 0 .. 2^24 - 1


@settings(max_examples=200, deadline=None, database=None)
@given(p=P, mode=MODE, k=st.lists(st.integers(0, GRID - 1), min_size=1, max_size=50))
def test_the_keep_rule_keeps_exactly_when_u_exceeds_p(p, mode, k):
    p32 = np.float32(p)
    edge = int(p32 * GRID)  # the draws next to p: the rule must be exact there too
    u = np.array([*k, *[e for e in (edge - 1, edge, edge + 1, edge + 2) if 0 <= e < GRID]]) / GRID
    u = u.astype(np.float32)
    mult = stream(p, mode).rule(torch.from_numpy(u), 1).reshape(-1).numpy()
    kept = u > p32
    np.testing.assert_array_equal(mult, np.where(kept, np.float32(multipliers(p, mode).train), 0))


@settings(max_examples=25, deadline=None, database=None)
@given(p=P, mode=MODE, seed=st.integers(0, 2**31 - 1))
def test_masks_keep_with_probability_one_minus_p_and_the_expected_output_is_the_test_output(p, mode, seed):
    n, factors = 400 * 64, multipliers(p, mode)
    mults = stream(p, mode).sample({0: np.random.default_rng(seed)}, 400, [0])
    assert mults[0] is None  # input_p = 0: the input layer draws nothing
    if p == 0:
        assert mults[1] is None  # nothing to drop: nothing drawn, every neuron kept
        return
    mult = mults[1].double()
    sd = math.sqrt(p * (1 - p) / n)
    assert abs((mult == 0).double().mean().item() - p) < 5 * sd + 2**-24
    # a neuron's expected training output (x its factor when kept) is its test-time output
    assert abs(mult.mean().item() - factors.test) < 5 * sd * factors.train + 1e-6


@settings(max_examples=200, deadline=None, database=None)
@given(p=P, input_p=P, mode=MODE, depth=st.integers(1, 8))
def test_the_multipliers_table_gives_expected_training_output_equal_to_test_output(p, input_p, mode, depth):
    table = layer_multipliers(input_p, p, depth, mode)
    assert [f.p for f in table] == [input_p] + [p] * depth  # input layer first, then hidden layers
    for f in table:
        assert f.keep * f.train == pytest.approx(f.test, rel=1e-12)
        assert f.test == (1.0 if mode == "inverted" or f.p == 0 else 1.0 - f.p)
