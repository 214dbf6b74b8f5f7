"""Batched trainer, experiments and their figures (the `experiment` CLI: test_cli.py; jobs: test_job.py)."""
import threading
import weakref

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch

from dropviz import experiments
from dropviz.batched import BatchedTrainer
from dropviz.config import Config
from dropviz.experiments import EXPERIMENTS, Cancelled, cost, p_sweep, train_all
from dropviz.figures.experiments import FIGURES
from dropviz.trainer import Trainer

TINY = Config(width=12, n_train=24, depth=2)
TINY_ARGS = {
    "p-sweep": dict(ps=(0.0, 0.5), constant_pn=True),
    "data-size": dict(n_values=(16, 32)),
    "mc-vs-scaling": dict(passes=4, grid_size=6),
    "sparsity": dict(bins=8),
    "cost": dict(timing_iterations=5, points=5),
    "regularizers": dict(),
    "variants": dict(block_size=2),
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
    "regularizers": {"method", "seed", "test_acc", "test_loss"},
    "variants": {"family", "variant", "p", "seed", "test_acc", "test_loss", "test_rule"},
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
            for p, s, m, act in ((0.5, 0, "inverted", "relu"), (0.3, 1, "classic", "relu"),
                                 (0.6, 2, "inverted", "tanh"))]
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


@pytest.mark.parametrize("kwargs, message", [
    (dict(seeds=0), "seeds=0 is out of range: expected an integer from 1 to 50"),
    (dict(seeds="abc"), "seeds='abc' is not valid: expected an integer from 1 to 50"),
    (dict(steps=0), "steps=0 is out of range: expected an integer from 1 to 1000000"),
    (dict(steps=2.5), "steps=2.5 is not valid: expected an integer from 1 to 1000000"),
    (dict(ps=(0.0, 1.2)), "p=1.2 is out of range: expected a number from 0 to 0.95"),
])
def test_bad_experiment_parameters_name_the_parameter_and_its_range(kwargs, message):
    with pytest.raises(ValueError) as error:
        p_sweep(TINY, **{"steps": 10, **kwargs})
    assert str(error.value).startswith(message)  # the words of Field.problem, as for Config and the CLI


def test_counts_are_checked_and_converted_by_their_field():
    from dropviz.experiments import mc_vs_scaling
    with pytest.raises(ValueError, match=r"^passes=0 is out of range: expected an integer from 1 to 1000$"):
        mc_vs_scaling(TINY, passes=0, steps=10)
    df = p_sweep(TINY, ps=(0.5,), seeds=np.int64(2), steps=10.0)  # whole numbers of any type are fine
    assert sorted(df["seed"]) == [0, 1]



# ---------------------------------------------------------------------- chunks of training, by time
class _Clock:
    """A stand-in for the clock of train_all: each iteration takes `per_iteration` seconds."""
    def __init__(self, per_iteration: float):
        self.per_iteration, self.now, self.chunks, self.trainers = per_iteration, 0.0, [], []

    def __call__(self) -> float:
        return self.now

    def trainer_class(self):
        clock = self

        class Timed(BatchedTrainer):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                clock.trainers.append(weakref.ref(self))

            def step(self, n=1):
                clock.chunks.append(n)
                clock.now += n * clock.per_iteration
                return super().step(n)
        return Timed


@pytest.fixture
def timed(monkeypatch):
    def make(per_iteration: float) -> _Clock:
        clock = _Clock(per_iteration)
        monkeypatch.setattr(experiments, "_clock", clock)
        monkeypatch.setattr(experiments, "BatchedTrainer", clock.trainer_class())
        return clock
    return make


@pytest.mark.parametrize("per_iteration, chunks", [
    (1.5, [1] * 8),  # the heavy settings: a check after every iteration
    (0.2, [1, 2, 2, 2, 1]),  # about half a second each
    (0.001, [1, 4, 16, 64, 256, 500, 500, 500, 500, 159]),  # quick ones grow by at most 4x
])
def test_chunks_of_training_are_sized_by_measured_time(timed, per_iteration, chunks):
    clock = timed(per_iteration)
    train_all([TINY], sum(chunks))
    assert clock.chunks == chunks


@pytest.mark.parametrize("how", ["callable", "event"])
@pytest.mark.parametrize("per_iteration, stop_after", [(1.5, 1), (0.001, 1), (0.001, 4)])
def test_cancel_is_honoured_before_the_next_chunk(timed, how, per_iteration, stop_after):
    """A stop set during a chunk (here: at its progress report) lets no further iteration run."""
    clock, event = timed(per_iteration), threading.Event()

    def progress(fraction, message):
        if len(clock.chunks) == stop_after:
            event.set()

    with pytest.raises(Cancelled):
        train_all([TINY, TINY.replace(seed=1)], 100_000, progress,
                  cancel=event if how == "event" else event.is_set)
    assert len(clock.chunks) == stop_after  # not one chunk more
    assert sum(clock.chunks) == (1 if per_iteration > 1 else sum(4 ** k for k in range(stop_after)))


def test_results_do_not_depend_on_the_chunking(timed):
    cfgs = [TINY.replace(p=p, seed=s, batch_size=8) for p in (0.0, 0.5) for s in (0, 1)]
    results = []
    for per_iteration in (1.5, 0.05, 1e-6):  # one iteration a chunk; a few; as many as allowed
        clock = timed(per_iteration)
        runs = train_all(cfgs, 120, record_every=7)
        results.append([(r.final, r.curve) for r in runs])
        assert max(clock.chunks) <= 7 and (max(clock.chunks) > 1) == (per_iteration < 1)
    assert results[0] == results[1] == results[2]  # exactly: floats compared for equality


def test_a_finished_groups_trainer_is_let_go_before_the_next_group_trains(timed):
    clock = timed(0.01)
    alive = []

    def progress(fraction, message):
        alive.append([ref() is not None for ref in clock.trainers])

    cfgs = [TINY.replace(n_train=n) for n in (16, 24, 32)]  # three groups: the data differ
    runs = train_all(cfgs, 10, progress)
    assert len(runs) == 3 and len(clock.trainers) == 3
    assert all(sum(a) == 1 and a[-1] for a in alive)  # only the group training now is held
    assert all(ref() is None for ref in clock.trainers)
    kept, where = train_all(cfgs, 10, keep_trainers=True)
    assert [w[0].base.n_train for w in where] == [16, 24, 32]
