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
from dropviz.data import hold_out, make_dataset
from dropviz.experiments import (
    EXPERIMENTS,
    Cancelled,
    EarlyStop,
    cost,
    data_size,
    drawn,
    mc_vs_scaling,
    p_sweep,
    train_all,
)
from dropviz.figures.experiments import FIGURES, cost_figure, p_sweep_figure
from dropviz.stats import choose_p
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
    "p-sweep": {"variant", "p", "seed", "width", "train_loss", "test_loss", "train_acc", "test_acc", "val_loss",
                "val_acc", "iterations", "stopped_early", "diverged", "n_fit", "n_val", "cap"},
    "data-size": {"n_train", "p", "seed", "train_loss", "test_loss", "train_acc", "test_acc", "diverged"},
    "mc-vs-scaling": {"part", "seed", "p", "T", "mc_error", "mc_loss", "mc_ece", "scaled_error", "scaled_loss",
                      "scaled_ece", "metric", "diff", "lo", "hi", "n", "x1", "x2", "mc_mean", "mc_std", "label"},
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


# ---------------------------------------------------------------------- validation and early stopping
def _rows_of(x):
    return {row.tobytes() for row in x}


@pytest.mark.parametrize("dataset", ["moons", "digits"])
def test_validation_split_is_disjoint_from_fit_and_test_and_reproducible_from_data_seed(dataset):
    d = make_dataset(dataset, 60, 0.3, data_seed=4)
    fit, x_val, y_val = hold_out(d, data_seed=4)
    assert (len(fit.y_train), len(y_val)) == (48, 12)  # a fifth held out
    assert _rows_of(fit.x_train) | _rows_of(x_val) == _rows_of(d.x_train)
    assert not _rows_of(fit.x_train) & _rows_of(x_val)
    assert not _rows_of(x_val) & _rows_of(d.x_test) and np.array_equal(fit.x_test, d.x_test)  # test untouched
    again = hold_out(make_dataset(dataset, 60, 0.3, data_seed=4), data_seed=4)
    assert np.array_equal(again[1], x_val) and np.array_equal(again[0].y_train, fit.y_train)
    other = hold_out(d, data_seed=5)[1]
    assert not np.array_equal(other, x_val)
    assert len(hold_out(make_dataset("moons", 4, 0.3, 0), 0)[2]) == 1  # at least one, and some left to fit


def test_early_stopping_reports_the_network_at_its_lowest_validation_loss():
    d = make_dataset("moons", 24, 0.3, 0)
    fit, x_val, y_val = hold_out(d, 0)
    cfgs = [TINY.replace(p=p, seed=s) for p, s in ((0.0, 0), (0.5, 1))]
    stop = EarlyStop(x_val, y_val, every=5, patience=20)
    runs = train_all(cfgs, 200, data=lambda cfg: fit, stop=stop)
    for cfg, run in zip(cfgs, runs):
        it = run.final["iterations"]
        assert it % 5 == 0 and 0 < it <= 200
        # the same network trained for exactly that many iterations: the same results, bit for bit
        plain = BatchedTrainer([cfg], data=fit)
        val_losses = []
        for _ in range(200 // 5):
            plain.step(5)
            logits = plain.logits(x_val)[0]
            val_losses.append(torch.nn.functional.cross_entropy(logits, torch.from_numpy(y_val)).item())
            if plain.step_count == it:
                at_best = plain.evaluate()
        assert run.final["test_loss"] == pytest.approx(float(at_best["test_loss"][0]), rel=1e-6)
        assert run.final["val_loss"] == pytest.approx(min(val_losses[:it // 5 + 4]), rel=1e-6)
        if run.final["stopped_early"]:  # nothing lower within the patience after it
            assert min(val_losses[it // 5: it // 5 + 4]) >= run.final["val_loss"] - 1e-7
        else:
            assert it > 200 - 20  # still improving when the cap came


def test_a_diverged_seed_is_counted_marked_and_left_out_of_the_mean():
    df = p_sweep(TINY.replace(depth=3, lr=10.0), ps=(0.0, 0.5), seeds=3, steps=20)  # lr 10: some seeds blow up
    diverged = df[df["diverged"]]
    assert len(diverged) and diverged[["val_loss", "test_loss", "test_acc"]].isna().all().all()
    c = choose_p(df)
    for p, rows in df.groupby("p"):
        assert c.loc[p, "diverged"] == rows["diverged"].sum()
        assert c.loc[p, "finished"] == (~rows["diverged"]).sum()
        assert c.loc[p, "val_loss"] == pytest.approx(rows.loc[~rows["diverged"], "val_loss"].mean())
    fig = p_sweep_figure(df)
    marks = [a.text for a in fig.layout.annotations if "✕" in (a.text or "")]
    assert sorted(marks) == sorted(f"✕<br>{int(n)}/3" for n in df.groupby("p")["diverged"].sum() if n)
    assert any(t.name == "✕ k/n: k of n runs diverged, left out of the means" for t in fig.data)
    val_line = next(t for t in fig.data if t.name == "validation (chooses p)")
    assert list(val_line.y) == pytest.approx(c["val_loss"].tolist(), nan_ok=True)


def test_p_sweep_chart_marks_best_p_on_validation_and_shades_exactly_the_plateau():
    df = p_sweep(TINY, ps=(0.0, 0.3, 0.6, 0.9), seeds=3, steps=60)
    c = choose_p(df)
    fig = p_sweep_figure(df)
    shaded = [round((s.x0 + s.x1) / 2, 6) for s in fig.layout.shapes if s.type == "rect"]
    assert set(shaded) == set(c.index[c["plateau"]]) and len(shaded) == 3 * c["plateau"].sum()  # on all 3 rows
    best = c.index[c["best"]][0]
    assert best == c["val_loss"].idxmin()  # validation decides, not test
    assert any(a.text.startswith(f"<b>best p = {best:g}</b> (validation)") for a in fig.layout.annotations)
    assert "95% t-interval over finished seeds (of 3); validation: 5 of 24" in fig.layout.title.subtitle.text
    # in the 2014 paper's notation: the same chart, read as retain = 1 - p (reversed, like its Fig 9)
    paper = p_sweep_figure(df, notation="retain")
    assert list(paper.layout.xaxis.tickvals) == [0.0, 0.3, 0.6, 0.9]
    assert list(paper.layout.xaxis.ticktext) == ["1", "0.7", "0.4", "0.1"]
    assert paper.layout.xaxis.autorange == "reversed" and paper.layout.xaxis3.title.text.startswith("retain")
    assert any(a.text.startswith(f"<b>best retain = {1 - best:g}</b>") for a in paper.layout.annotations)


def test_p_sweep_csv_from_the_cli_has_validation_columns_and_the_choice_is_printed(tmp_path, capsys):
    from dropviz.cli import main
    out = tmp_path / "sweep.csv"
    assert main(["experiment", "p-sweep", "--width", "8", "--n-train", "30", "--seeds", "2", "--steps", "20",
                 "--csv", str(out)]) == 0
    df = pd.read_csv(out)
    assert {"val_loss", "val_acc", "iterations"} <= set(df.columns) and df["val_loss"].notna().all()
    assert (df["n_val"] == 6).all() and (df["n_fit"] == 24).all()
    stdout = capsys.readouterr().out
    assert "2 seeds" in stdout and "best p on validation loss = " in stdout and "(for reading only)" in stdout


def test_experiments_default_to_five_seeds_where_the_budget_allows():
    assert [EXPERIMENTS[n].default_seeds for n in ("p-sweep", "mc-vs-scaling", "sparsity", "cost")] == [5] * 4


# ---------------------------------------------------------------------- amount of data, test-time rule, cost
def test_each_seed_draws_its_own_nested_training_points_and_the_test_set_is_shared():
    pool = make_dataset("moons", 64, 0.3, 0)
    a8, a16 = (drawn(pool, TINY.replace(n_train=n, seed=0)) for n in (8, 16))
    b16 = drawn(pool, TINY.replace(n_train=16, seed=1))
    assert np.array_equal(a16.x_train[:8], a8.x_train)  # nested within a seed
    assert not np.array_equal(a16.x_train, b16.x_train)  # another seed, other points
    assert _rows_of(b16.x_train) <= _rows_of(pool.x_train) and np.array_equal(a16.x_test, b16.x_test)
    df = data_size(TINY, n_values=(8,), seeds=2, steps=5)
    assert (df["pool"] == 16).all()


def test_mc_paired_interval_is_over_every_seed_and_test_point():
    df = mc_vs_scaling(TINY, passes=6, seeds=2, steps=40, grid_size=4)
    curve, paired = df[df["part"] == "curve"], df[df["part"] == "paired"]
    for metric in ("error", "loss"):
        p = paired[paired["metric"] == metric].set_index("T")
        diff = (curve[f"mc_{metric}"] - curve[f"scaled_{metric}"]).groupby(curve["T"]).mean()
        np.testing.assert_allclose(p["diff"].to_numpy(), diff.to_numpy(), atol=1e-6)  # same points per seed
        assert (p["n"] == 2 * 500).all() and (p["lo"] <= p["diff"]).all() and (p["diff"] <= p["hi"]).all()
    assert curve[["mc_ece", "scaled_ece"]].apply(lambda v: v.between(0, 1)).all().all()


def test_cost_chart_shows_the_run_to_run_spread_of_both_arms():
    df = cost(TINY, seeds=3, steps=40, p=0.5, timing_iterations=5, points=8)
    fig = cost_figure(df)
    curve = df[(df["part"] == "curve") & (df["run"] == "seed")]
    last = curve[curve["step"] == curve["step"].max()]
    sd = last.groupby("p")["test_loss"].std(ddof=1)
    title = fig.layout.annotations[2].text
    assert title == f"final test loss, sd over seeds:<br>{sd[0.5]:.2g} with, {sd[0.0]:.2g} without dropout"
    lines = [t for t in fig.data if t.xaxis == "x3" and t.name.endswith("one line a seed")]
    assert sorted(t.name for t in lines) == ["p = 0, one line a seed"] * 3 + ["p = 0.5, one line a seed"] * 3
    assert len({t.line.color for t in lines}) == 2


def test_a_sweep_where_every_run_diverged_still_draws_its_marks_and_chooses_nothing():
    df = p_sweep(TINY.replace(depth=3, lr=100.0), ps=(0.0, 0.5), seeds=2, steps=20)
    assert df["diverged"].all()
    fig = p_sweep_figure(df)
    texts = [a.text for a in fig.layout.annotations]
    assert texts.count("✕<br>2/2") == 2 and not any("best p" in t for t in texts)
