"""Batched trainer, experiments, their figures and the `experiment` CLI."""
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch

from dropviz.batched import BatchedTrainer
from dropviz.config import Config
from dropviz.experiments import EXPERIMENTS, Cancelled, cost, p_sweep
from dropviz.figures_experiments import FIGURES
from dropviz.trainer import Trainer

TINY = Config(width=12, n_train=24, depth=2)
TINY_ARGS = {
    "p-sweep": dict(ps=(0.0, 0.5), constant_pn=True),
    "data-size": dict(n_values=(16, 32)),
    "mc-vs-scaling": dict(passes=4, grid_size=6),
    "sparsity": dict(bins=8),
    "cost": dict(timing_iterations=5, points=5),
}
COLUMNS = {
    "p-sweep": {"variant", "p", "seed", "width", "train_loss", "test_loss", "train_acc", "test_acc", "diverged"},
    "data-size": {"n_train", "p", "seed", "train_loss", "test_loss", "train_acc", "test_acc", "diverged"},
    "mc-vs-scaling": {"part", "seed", "p", "T", "mc_error", "mc_loss", "scaled_error", "scaled_loss",
                      "x1", "x2", "mc_mean", "mc_std", "label"},
    "sparsity": {"part", "layer", "p", "bin_left", "bin_right", "fraction", "seed", "unit", "mean_activation",
                 "active_fraction"},
    "cost": {"part", "p", "repeat", "ms_per_iteration", "seed", "run", "step", "train_loss", "test_loss",
             "target_loss", "iterations"},
}


# ---------------------------------------------------------------------- batched trainer
@pytest.mark.parametrize("optimizer,batch_size", [("adam", 8), ("sgd", 64)])
def test_batched_matches_trainer_one_by_one_without_dropout(optimizer, batch_size):
    cfgs = [TINY.replace(p=0.0, optimizer=optimizer, batch_size=batch_size, seed=s, mode=m)
            for s, m in ((0, "inverted"), (3, "classic"), (7, "inverted"))]
    batched = BatchedTrainer(cfgs)
    singles = [Trainer(c) for c in cfgs]
    for i, t in enumerate(singles):  # same initial weights, exactly
        assert torch.equal(batched.weights[1][i], t.model.hidden[1].weight.T)
        assert torch.equal(batched.biases[-1][i, 0], t.model.out.bias)
    for _ in range(40):  # mini-batches: the same batch order too, or the losses part at once
        losses = batched.step(1)
        np.testing.assert_allclose(losses, [t.step(1).train_loss for t in singles], rtol=1e-5, atol=1e-6)
    ev = batched.evaluate()
    np.testing.assert_allclose(ev["test_loss"], [t.frame.test_loss for t in singles], rtol=1e-4)
    np.testing.assert_allclose(ev["train_acc"], [t.frame.train_acc for t in singles])


def test_each_model_and_example_draws_its_own_mask_with_drop_probability_p():
    cfgs = [TINY.replace(width=200, p=p, seed=s) for p, s in ((0.2, 0), (0.7, 0), (0.7, 1), (0.0, 2))]
    bt = BatchedTrainer(cfgs)
    mults = bt.runs.masks.train(300)
    hidden = (mults[1] != 0).float()  # (models, examples, neurons)
    assert mults[0] is None  # input_p = 0 everywhere: nothing drawn
    np.testing.assert_allclose(hidden.mean((1, 2)).numpy(), [0.8, 0.3, 0.3, 1.0], atol=0.01)
    assert not torch.equal(hidden[1], hidden[2])  # same p, other seed: other masks
    assert (hidden[1, 0] != hidden[1, 1]).any()  # each example its own mask
    np.testing.assert_allclose(mults[1][1].unique().numpy(), [0.0, 1 / 0.3])  # survivors x 1/(1-p)


def test_manual_backward_equals_autograd_with_dropout_and_dropped_neurons_get_no_gradient():
    cfgs = [TINY.replace(p=p, input_p=0.2, seed=s, mode=m, optimizer="sgd", lr=1.0, activation=act, batch_size=2)
            for p, s, m, act in ((0.5, 0, "inverted", "relu"), (0.3, 1, "classic", "relu"), (0.6, 2, "inverted", "tanh"))]
    for group in ([cfgs[0], cfgs[1]], [cfgs[2]]):
        a, b = BatchedTrainer(group), BatchedTrainer(group)  # same seeds: same batches, same masks
        before = [w.detach().clone() for w in a.weights]
        a.step(1)
        b.runs.train_forward()  # only to draw the same batch and masks
        x, y, mults = b.runs.batch.x, b.runs.batch.y, b.runs.batch.mults
        logits, _ = b.runs.forward(x, mults)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none")
        loss.view(y.shape).mean(1).sum().backward()
        for w0, w1, wb in zip(before, a.weights, b.weights):  # SGD with lr 1: the update is -gradient
            torch.testing.assert_close(w0 - w1.detach(), wb.grad, rtol=1e-4, atol=1e-6)
        # a hidden-2 neuron dropped for every example of the batch: its incoming weights did not move
        dropped = ~(mults[2] != 0).any(1)  # (models, width)
        assert dropped.any()
        delta = (before[1] - a.weights[1].detach()).abs().sum(1)  # (models, width) change into each neuron
        assert torch.all(delta[dropped] == 0) and torch.all(delta[~dropped].sum() > 0)


def test_classic_mode_scales_by_keep_probability_at_test_time_only():
    bt = BatchedTrainer([TINY.replace(p=0.4, mode="classic", seed=1), TINY.replace(p=0.4, mode="inverted", seed=1)])
    x = torch.from_numpy(bt.data.x_test[:10])
    h = x
    for w, b in zip(bt.weights[:-1], bt.biases[:-1]):
        h = torch.relu(h @ w[0] + b[0]) * 0.6  # keep probability 1 - p, not p
    manual = h @ bt.weights[-1][0] + bt.biases[-1][0]
    torch.testing.assert_close(bt.logits(x)[0], manual)
    h = x  # inverted: nothing rescaled at test time
    for w, b in zip(bt.weights[:-1], bt.biases[:-1]):
        h = torch.relu(h @ w[1] + b[1])
    torch.testing.assert_close(bt.logits(x)[1], h @ bt.weights[-1][1] + bt.biases[-1][1])


def test_mc_passes_vary_and_average_near_the_deterministic_pass():
    bt = BatchedTrainer([TINY.replace(p=0.3, seed=0)])
    bt.step(100)
    x = bt.data.x_test[:50]
    mc = bt.mc_probs(x, 400)
    assert mc.shape == (400, 1, 50, 2)
    assert mc.std(0).mean() > 0.005  # the passes differ
    det = torch.softmax(bt.logits(x), 2)
    assert (mc.mean(0) - det).abs().mean() < 0.05
    torch.testing.assert_close(bt.mc_probs(x, 3, seed=5), bt.mc_probs(x, 3, seed=5))  # reproducible


def test_mismatched_architectures_are_refused():
    with pytest.raises(ValueError, match="width differs"):
        BatchedTrainer([TINY, TINY.replace(width=13)])


# ---------------------------------------------------------------------- experiments
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_each_experiment_returns_its_columns_and_a_valid_figure(name):
    calls = []
    df = EXPERIMENTS[name].run(TINY, seeds=2, steps=30, progress=lambda f, m: calls.append(f), **TINY_ARGS[name])
    assert isinstance(df, pd.DataFrame) and len(df) > 0
    assert set(df.columns) >= COLUMNS[name]
    assert calls and all(0 <= f <= 1 for f in calls) and calls == sorted(calls)
    go.Figure(FIGURES[name](df).to_dict())  # strict validation of every property


def test_p_sweep_has_every_p_and_seed_and_the_constant_pn_widths():
    df = p_sweep(TINY.replace(width=40), ps=(0.0, 0.5, 0.75), seeds=2, steps=20, constant_pn=True)
    fixed = df[df["variant"] == "fixed width"]
    assert sorted(zip(fixed["p"], fixed["seed"])) == [(p, s) for p in (0.0, 0.5, 0.75) for s in (0, 1)]
    const = df[df["variant"] != "fixed width"].groupby("p")["width"].first()
    assert const.to_dict() == {0.0: 10, 0.5: 20, 0.75: 40}  # (1-p) x width = 10 kept neurons on average


def test_cost_repeat_of_a_seed_matches_exactly_and_seeds_differ():
    df = cost(TINY, seeds=2, steps=40, p=0.5, timing_iterations=5, points=8)
    curve = df[df["part"] == "curve"]
    drop = curve[curve["p"] == 0.5]
    repeat = drop[(drop["run"] == "repeat") & (drop["seed"] == 0)]["test_loss"].to_numpy()
    first = drop[(drop["run"] == "seed") & (drop["seed"] == 0)]["test_loss"].to_numpy()
    other = drop[(drop["run"] == "seed") & (drop["seed"] == 1)]["test_loss"].to_numpy()
    assert np.array_equal(repeat, first) and not np.array_equal(first, other)
    assert (df[df["part"] == "timing"]["ms_per_iteration"] > 0).all()


@pytest.mark.parametrize("how", ["callable", "event"])
def test_cancel_stops_the_work_promptly(how):
    event, calls = threading.Event(), []

    def progress(fraction, message):
        calls.append(fraction)
        event.set()  # the user presses Cancel as soon as the first progress arrives

    cancel = event if how == "event" else event.is_set
    with pytest.raises(Cancelled):
        p_sweep(TINY, seeds=3, steps=100_000, progress=progress, cancel=cancel)
    assert len(calls) == 1  # stopped at the next check, one short chunk later


def test_bad_experiment_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="seeds=0"):
        p_sweep(TINY, seeds=0, steps=10)
    with pytest.raises(ValueError, match="p=1.2"):
        p_sweep(TINY, ps=(0.0, 1.2), steps=10)


# ---------------------------------------------------------------------- command line
def dropviz(*args):
    return subprocess.run([sys.executable, "-m", "dropviz", *args], capture_output=True, text=True, timeout=120)


def test_cli_writes_the_csv(tmp_path):
    out = tmp_path / "sweep.csv"
    result = dropviz("experiment", "data-size", "--width", "8", "--n-train", "20", "--seeds", "1", "--steps", "20",
                     "--csv", str(out))
    assert result.returncode == 0, result.stderr
    df = pd.read_csv(out)
    assert set(df.columns) >= COLUMNS["data-size"] and sorted(df["p"].unique()) == [0.0, 0.5]
    assert "100%" in result.stderr  # the progress bar


def test_cli_preset_with_flags_on_top(tmp_path):
    out = tmp_path / "p.csv"
    result = dropviz("experiment", "p-sweep", "--preset", "Too much dropout", "--width", "6", "--seeds", "1",
                     "--steps", "10", "--csv", str(out))
    assert result.returncode == 0, result.stderr
    assert (pd.read_csv(out)["width"] == 6).all() and "n=200" in result.stdout and "sgd" in result.stdout


@pytest.mark.parametrize("args,names", [
    (["experiment", "bogus"], ["p-sweep", "data-size", "mc-vs-scaling", "sparsity", "cost"]),
    (["experiment", "cost", "--p", "1.5"], ["--p", "0.95"]),
    (["experiment", "cost", "--preset", "nope"], ["Overfitting without dropout"]),
    (["experiment", "cost", "--seeds", "0"], ["--seeds", "1 to 50"]),
])
def test_cli_rejects_bad_input_with_status_2_and_one_line(args, names, tmp_path):
    result = dropviz(*args, "--csv", str(tmp_path / "x.csv"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(n in lines[0] for n in names), result.stderr
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("where", ["missing/dir/x.csv", "."])
def test_cli_refuses_an_unwritable_csv_before_training(where, tmp_path):
    target = str(tmp_path / where)
    result = dropviz("experiment", "cost", "--steps", "100000", "--csv", target)  # would take minutes
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dropviz") and f"--csv={target}" in lines[0], result.stderr


def test_background_job_finishes_with_its_result_and_cancels():
    from dropviz.experiments import P_VALUES
    from dropviz.job import Job
    done = Job("p-sweep", TINY, {"seeds": 1, "steps": 20}).start()
    done.thread.join(60)
    assert not done.running and not done.cancelled and done.error == ""
    assert done.fraction == 1.0 and set(done.result["p"]) == set(P_VALUES)
    stopped = Job("p-sweep", TINY, {"seeds": 3, "steps": 100_000})
    stopped.stop.set()
    stopped.start().thread.join(60)
    assert stopped.cancelled and stopped.result is None


def test_background_job_reports_bad_parameters_as_one_line():
    from dropviz.job import Job
    job = Job("p-sweep", TINY, {"seeds": 1, "steps": 0}).start()
    job.thread.join(60)
    assert job.result is None and job.error and "\n" not in job.error


def test_one_experiment_trains_at_a_time_and_a_waiting_one_can_be_cancelled():
    from dropviz.job import Job
    first = Job("p-sweep", TINY, {"seeds": 3, "steps": 100_000}).start()
    while first.fraction == 0 and first.running:  # the first holds the server's slot
        first.thread.join(0.05)
    waiting = Job("p-sweep", TINY, {"seeds": 1, "steps": 20}).start()
    waiting.thread.join(1.0)
    assert waiting.running and waiting.fraction == 0 and "waiting for another experiment" in waiting.message
    waiting.stop.set()
    waiting.thread.join(5)
    assert waiting.cancelled and waiting.result is None
    first.stop.set()
    first.thread.join(30)
    assert first.cancelled
    after = Job("p-sweep", TINY, {"seeds": 1, "steps": 20}).start()  # the slot is free again
    after.thread.join(60)
    assert after.result is not None
