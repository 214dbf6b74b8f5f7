"""The dropout engine: what the frames record is what training did, and the dropout maths is right."""
import copy
import dataclasses
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dropviz import Config, Trainer
from dropviz.batched import BatchedTrainer
from dropviz.data import Dataset
from dropviz.model import LOSS_LIMIT, MaskStream, Runs, blown_up

ACT = {"relu": torch.relu, "tanh": torch.tanh}


def binomial_bound(p, n, sigmas=5.0):
    return sigmas * math.sqrt(p * (1 - p) / n)


def replay(model, frame, activation="relu"):
    """Re-run the frame's training pass by hand (weights from before the update, the frame's masks)
    and backpropagate the tracked example's own loss. Returns activations, logits and the model."""
    model.zero_grad(set_to_none=True)
    x = torch.tensor(frame.x)[None]
    if frame.input_mask is not None:
        x = x * torch.tensor(frame.input_mask, dtype=torch.float32) * frame.input_scale
    pres = []
    for layer, lf in zip(model.hidden, frame.layers):
        h = ACT[activation](x @ layer.weight.T + layer.bias)
        h.retain_grad()
        pres.append(h)
        x = h * torch.tensor(lf.mask, dtype=torch.float32) * lf.scale
    logits = x @ model.out.weight.T + model.out.bias  # every output neuron, no mask
    F.cross_entropy(logits, torch.tensor([frame.y])).backward()
    return pres, logits


def step_with_weights_before(trainer):
    """One iteration, and a copy of the model as it was when that iteration's batch went through."""
    before = copy.deepcopy(trainer.model)
    frame = trainer.step(1)
    assert not all(torch.equal(a, b) for a, b in zip(before.parameters(), trainer.model.parameters()))
    return frame, before


def runs_on(cfg, n=8):
    """The engine core for `cfg` on n copies of one 2-D point (a fixed input for expectations)."""
    x = np.tile(np.float32([[0.7, -0.4]]), (n, 1))
    y = np.zeros(n, np.int64)
    return Runs([cfg], Dataset(x, y, x, y, 2))


def sample(stream, rows, seed=1):
    """Training multipliers of `rows` examples of the one run of `stream`, from a fresh stream."""
    return stream.sample({0: np.random.default_rng(seed)}, rows, [0])


# ------------------------------------------------------------------ masks
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_masks_keep_each_neuron_with_probability_one_minus_p(p):
    stream = MaskStream([0], [2, 256], [Config(p=p)])
    mults = sample(stream, 2000)
    assert mults[0] is None  # input_p = 0: nothing drawn
    mult = mults[1][0]
    assert set(mult.unique().tolist()) <= {0.0, np.float32(1 / (1 - p))}
    mask = (mult != 0).float()
    n = mask.numel()
    assert abs((1 - mask.mean().item()) - p) < binomial_bound(p, n)
    # each example (row) draws its own mask
    assert len({tuple(row) for row in mask[:50].tolist()}) == 50
    assert sample(MaskStream([0], [2, 4], [Config(p=0.0)]), 3) == [None, None]


def test_recorded_mask_rate_matches_p_over_many_iterations():
    p = 0.3
    trainer = Trainer(Config(p=p, width=128, depth=2))
    masks = [layer.mask for _ in range(150) for layer in trainer.step(1).layers]
    dropped = 1 - np.concatenate(masks).mean()
    assert abs(dropped - p) < binomial_bound(p, 150 * 2 * 128)
    # masks are redrawn every iteration
    assert not np.array_equal(masks[0], masks[2])


def test_set_p_changes_the_rate_and_keeps_weights_and_optimizer_state():
    trainer = Trainer(Config(p=0.5, width=64, optimizer="adam", lr=0.01))
    trainer.step(5)
    weights = [w.detach().clone() for w in trainer.params]
    adam_steps = [trainer.opt.state[w]["step"].item() for w in trainer.params]
    trainer.set_p(0.1)
    assert trainer.cfg.p == 0.1
    assert all(torch.equal(a, b) for a, b in zip(weights, trainer.params))
    assert [trainer.opt.state[w]["step"].item() for w in trainer.params] == adam_steps
    frames = [trainer.step(1) for _ in range(100)]
    assert all(f.p == 0.1 and f.layers[0].p == 0.1 for f in frames)
    assert all(f.layers[0].scale == pytest.approx(1 / 0.9) for f in frames)
    dropped = 1 - np.concatenate([l.mask for f in frames for l in f.layers]).mean()
    assert abs(dropped - 0.1) < binomial_bound(0.1, 100 * 2 * 64)
    with pytest.raises(ValueError, match="p=1"):
        trainer.set_p(1.0)
    with pytest.raises(ValueError, match="depth"):
        trainer.update(depth=3)


# ------------------------------------------------------------------ what a frame records
@pytest.mark.parametrize("cfg", [
    Config(p=0.5, mode="inverted"),
    Config(p=0.4, mode="classic", activation="tanh", depth=3, width=32),
    Config(p=0.5, input_p=0.3, dataset="digits", n_train=60, width=32),
])
def test_frame_is_what_training_did(cfg):
    trainer = Trainer(cfg)
    trainer.step(3)
    frame, before = step_with_weights_before(trainer)
    assert frame.tracked_in_batch  # full batch
    assert len(frame.layers) == cfg.depth  # hidden layers only: the output layer has no mask
    scale = 1 / (1 - cfg.p) if cfg.mode == "inverted" else 1.0
    pres, logits = replay(before, frame, cfg.activation)
    for lf, h in zip(frame.layers, pres):
        assert lf.mask.dtype == bool and lf.mask.shape == (cfg.width,)
        assert lf.scale == scale
        np.testing.assert_array_equal(lf.post, lf.pre * lf.mask * np.float32(lf.scale))
        np.testing.assert_allclose(lf.pre, h[0].detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(lf.grad, h.grad[0].numpy(), rtol=1e-4, atol=1e-7)
    # the output probabilities come from all output neurons of that same thinned pass
    assert frame.output.shape == (trainer.data.n_classes,)
    np.testing.assert_allclose(frame.output, torch.softmax(logits[0], 0).detach().numpy(), rtol=1e-4, atol=1e-7)
    if cfg.input_p:
        assert frame.input_mask.shape == (trainer.data.n_inputs,) and not frame.input_mask.all()
        assert frame.input_scale == pytest.approx(1 / (1 - cfg.input_p))
    else:
        assert frame.input_mask is None


@pytest.mark.parametrize("input_p", [0.0, 0.3])
def test_dropped_neurons_get_no_gradient_from_the_tracked_example(input_p):
    trainer = Trainer(Config(p=0.5, input_p=input_p, depth=3, width=48))
    trainer.step(2)
    frame, before = step_with_weights_before(trainer)
    replay(before, frame)
    nexts = [*before.hidden[1:], before.out]
    for layer, nxt, lf in zip(before.hidden, nexts, frame.layers):
        dropped = ~lf.mask
        assert dropped.any() and lf.mask.any()
        assert np.all(lf.grad[dropped] == 0)
        assert np.all(lf.post[dropped] == 0)
        assert torch.all(layer.weight.grad[dropped] == 0)   # weights into a dropped neuron
        assert torch.all(layer.bias.grad[dropped] == 0)
        assert torch.all(nxt.weight.grad[:, dropped] == 0)  # weights out of it
        # kept neurons do get gradient (so the zeros above are not vacuous)
        assert np.any(lf.grad[lf.mask] != 0)
    if input_p:
        assert torch.all(before.hidden[0].weight.grad[:, ~frame.input_mask] == 0)


def test_tracked_example_outside_the_batch_is_still_consistent():
    trainer = Trainer(Config(n_train=200, batch_size=16, p=0.5, width=32))
    seen = set()
    for _ in range(40):
        frame, before = step_with_weights_before(trainer)
        if frame.tracked_in_batch in seen:
            continue
        seen.add(frame.tracked_in_batch)
        pres, logits = replay(before, frame)
        for lf, h in zip(frame.layers, pres):
            np.testing.assert_array_equal(lf.post, lf.pre * lf.mask * np.float32(lf.scale))
            np.testing.assert_allclose(lf.pre, h[0].detach().numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(lf.grad, h.grad[0].numpy(), rtol=1e-4, atol=1e-7)
            assert np.all(lf.grad[~lf.mask] == 0)
        np.testing.assert_allclose(frame.output, torch.softmax(logits[0], 0).detach().numpy(), rtol=1e-4)
        if seen == {True, False}:
            break
    assert seen == {True, False}


# ------------------------------------------------------------------ test time
def manual_test_forward(model, x, p, input_p, mode, activation="relu"):
    keep, in_keep = (1 - p, 1 - input_p) if mode == "classic" else (1.0, 1.0)
    h = torch.as_tensor(x) * in_keep
    for layer in model.hidden:
        h = ACT[activation](h @ layer.weight.T + layer.bias) * keep
    return torch.softmax(h @ model.out.weight.T + model.out.bias, 1)


@pytest.mark.parametrize("mode", ["inverted", "classic"])
def test_test_time_uses_no_mask(mode):
    cfg = Config(p=0.4, input_p=0.2, mode=mode, width=64)
    trainer = Trainer(cfg)
    frame = trainer.step(20)
    x = trainer.data.x_test[:50]
    with torch.no_grad():
        expected = manual_test_forward(trainer.model, x, cfg.p, cfg.input_p, mode).numpy()
    np.testing.assert_allclose(trainer.predict(x), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(trainer.predict(x), trainer.predict(x))  # deterministic
    test_scale = 1 - cfg.p if mode == "classic" else 1.0
    for lf in frame.layers:
        assert lf.test_scale == pytest.approx(test_scale)
        np.testing.assert_array_equal(lf.test_post, lf.test_pre * np.float32(lf.test_scale))
    np.testing.assert_allclose(frame.test_output, trainer.predict(trainer.data.x_train[:1])[0], rtol=1e-5)


def test_inverted_scaling_keeps_each_neurons_expected_output():
    p, n = 0.6, 40000
    x = torch.tensor([[0.7, -0.4]]).expand(n, 2)
    for mode, expected_scale in [("inverted", 1.0), ("classic", 1 - p)]:
        runs = runs_on(Config(p=p, mode=mode, width=64, depth=1, seed=3))
        mult = sample(runs.masks, n, seed=4)
        with torch.no_grad():
            _, (h,) = runs.forward(x, mult, keep=True)
            post = h[0] * mult[1][0]
        clean = h[0, 0]
        mean = post.mean(0)
        # std of one neuron's training output: h * sqrt(p(1-p)) / keep^(inverted)
        sd = clean * math.sqrt(p * (1 - p)) / ((1 - p) if mode == "inverted" else 1.0)
        assert torch.all((mean - clean * expected_scale).abs() <= 5 * sd / math.sqrt(n) + 1e-6)
        # and the test-time multiplier is exactly that expectation
        tm = runs.masks.test_mults[1]
        assert (1.0 if tm is None else tm.item()) == pytest.approx(expected_scale)


def test_classic_and_inverted_give_the_same_expected_test_time_output():
    p, n = 0.5, 40000
    x = torch.tensor([[0.3, 0.9]])
    runs = {mode: runs_on(Config(p=p, mode=mode, activation="tanh", width=32, depth=1, seed=5))
            for mode in ("inverted", "classic")}
    with torch.no_grad():
        for mode, r in runs.items():
            test_logits, _ = r.forward(x, r.masks.test_mults)
            train_logits, _ = r.forward(x.expand(n, 2), sample(r.masks, n, seed=6))
            mean, sd = train_logits[0].mean(0), train_logits[0].std(0)
            assert torch.all((mean - test_logits[0, 0]).abs() < 5 * sd / math.sqrt(n)), mode
        # the two modes are one network parametrised two ways: classic weights W act as inverted W * keep
        inverted, classic = runs["inverted"], runs["classic"]
        assert all(torch.equal(a, b) for a, b in zip(inverted.params, classic.params))  # same seed
        inverted.weights[-1].mul_(1 - p)
        classic_out, _ = classic.forward(x, classic.masks.test_mults)
        inverted_out, _ = inverted.forward(x, inverted.masks.test_mults)
        torch.testing.assert_close(classic_out, inverted_out)


def test_monte_carlo_prediction():
    trainer = Trainer(Config(p=0.3, width=64))
    trainer.step(150)
    x = trainer.data.x_test[:80]
    det = trainer.predict(x)
    mean, std = trainer.predict(x, samples=300)
    assert mean.shape == std.shape == (80, 2)
    np.testing.assert_allclose(mean.sum(1), 1, rtol=1e-5)
    assert np.all(std >= 0) and np.any(std > 0)
    # inverted mode: the MC average approaches the deterministic prediction
    assert np.abs(mean - det).mean() < 0.05
    assert (mean.argmax(1) == det.argmax(1)).mean() >= 0.9
    # with nothing to drop, every pass is the deterministic one
    trainer.set_p(0.0)
    mean0, std0 = trainer.predict(x, samples=5)
    np.testing.assert_allclose(mean0, trainer.predict(x), rtol=1e-6, atol=1e-7)
    assert np.all(std0 < 1e-6)


# ------------------------------------------------------------------ randomness
def params_equal(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.params, b.params))


@pytest.mark.parametrize("cfg", [Config(), Config(n_train=100, batch_size=16, input_p=0.2)])
def test_same_seed_reproduces_bit_for_bit_and_recording_changes_nothing(cfg):
    a, b = Trainer(cfg), Trainer(cfg)
    fa = a.step(50)
    for _ in range(50):
        fb = b.step(1)
    b.predict(b.data.x_test[:5], samples=3)  # Monte-Carlo passes use their own stream
    assert params_equal(a, b)
    assert fa.step == fb.step == 50
    for name in ("train_loss", "test_loss", "clean_train_loss", "train_acc", "test_acc"):
        assert getattr(fa, name) == getattr(fb, name)
    for la, lb in zip(fa.layers, fb.layers):
        np.testing.assert_array_equal(la.mask, lb.mask)
        np.testing.assert_array_equal(la.grad, lb.grad)
    a.step(10), b.step(10)
    assert params_equal(a, b)
    assert not params_equal(a, Trainer(cfg.replace(seed=1)))


def test_initial_weights_and_batches_do_not_depend_on_p():
    base = Config(n_train=100, batch_size=16, p=0.0)
    trainers = [Trainer(base.replace(**c)) for c in ({}, {"p": 0.7}, {"input_p": 0.5, "mode": "classic"})]
    assert all(params_equal(trainers[0], t) for t in trainers[1:])
    batches = [[t.runs.order.next().tolist() for _ in range(20)] for t in trainers]
    assert batches[0] == batches[1] == batches[2]


# ------------------------------------------------------------------ robustness and learning
def test_divergence_is_caught_and_freezes_the_run():
    trainer = Trainer(Config(optimizer="sgd", lr=50))
    frame = trainer.step(300)
    assert frame.diverged and trainer.diverged
    assert "diverged" in frame.message and "learning rate" in frame.message
    values = [frame.train_loss, frame.clean_train_loss, frame.test_loss, frame.train_acc, frame.test_acc]
    assert all(math.isfinite(v) for v in values)
    arrays = [frame.output, frame.test_output] + [a for l in frame.layers for a in (l.pre, l.post, l.grad)]
    assert all(np.isfinite(a).all() for a in arrays)
    assert all(math.isfinite(v) for h in trainer.history for k, v in h.items())
    weights = [w.clone() for w in trainer.params]
    later = trainer.step(20)
    assert later.step == frame.step and later.diverged
    assert all(torch.equal(a, b) for a, b in zip(weights, trainer.params))


@pytest.mark.parametrize("lr", [5.0, 50.0])
def test_divergence_message_names_the_iteration_on_the_counter_and_no_raw_numbers(lr):
    trainer = Trainer(Config(optimizer="sgd", lr=lr, width=64))
    frame = trainer.step(300)
    assert frame.diverged and frame.step == trainer.step_count
    assert frame.message.startswith(f"Training diverged after iteration {frame.step}: in iteration {frame.step + 1} ")
    assert f"The weights of iteration {frame.step} are kept" in frame.message
    assert not re.search(r"\d[eE][+-]?\d", frame.message)  # "about 10^7", never 2.64e+30
    assert trainer.history[-1]["step"] == frame.step  # the chart ends where the counter stopped


def test_a_loss_past_the_limit_counts_as_blown_up_in_both_engines():
    assert blown_up(float("nan")) and blown_up(float("inf")) and blown_up(2.64e30)
    assert not blown_up(LOSS_LIMIT) and not blown_up(0.0)
    assert blown_up(np.array([0.1, 1e5, np.nan])).tolist() == [False, True, True]
    cfgs = [Config(optimizer="sgd", lr=5.0, width=64, p=p) for p in (0.0, 0.5)]
    batched = BatchedTrainer(cfgs)
    batched.step(300)
    for i, cfg in enumerate(cfgs):
        alone = Trainer(cfg)
        alone.step(300)
        assert bool(batched.diverged[i]) == alone.diverged
        if alone.diverged:  # the iteration whose loss blew up, in both engines
            assert batched.diverged_at[i] == alone.step_count + 1


def test_step_0_is_recorded_when_made_and_reading_the_frame_changes_nothing():
    trainer = Trainer(Config(p=0.5, width=16))
    assert [h["step"] for h in trainer.history] == [0]
    first = trainer.frame
    assert trainer.frame is first and trainer.frame.step == 0 and len(trainer.history) == 1
    trainer.step(3)
    assert trainer.frame is trainer.frame and [h["step"] for h in trainer.history] == [0, 3]
    with pytest.raises(dataclasses.FrozenInstanceError):
        trainer.frame.message = "changed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        trainer.frame.layers[0].p = 0.1


def test_digits_trains_well_above_chance():
    trainer = Trainer(Config(dataset="digits", n_train=300, batch_size=64, width=64, p=0.2, optimizer="adam", lr=0.005))
    start = trainer.frame
    frame = trainer.step(150)
    assert start.step == 0 and frame.step == 150
    assert frame.x.shape == (64,) and frame.output.shape == (10,)
    assert frame.test_acc > 0.75 > 3 * start.test_acc  # chance is 0.1
    assert frame.test_loss < start.test_loss
