"""MC dropout on 1-D regression: the squared-error loss in the engine, and the predictive spread."""
import numpy as np
import pytest
import torch

from dropviz.batched import BatchedTrainer
from dropviz.config import Config
from dropviz.data import GAP, gap_regression
from dropviz.figures.uncertainty import uncertainty_figure
from dropviz.trainer import Trainer
from dropviz.uncertainty import SETTINGS, predictive

CFG = Config(n_train=30, width=16, depth=2, p=0.2, optimizer="adam", lr=0.01, batch_size=10)


def test_the_gap_data_set_has_no_inputs_in_the_gap_and_follows_sin():
    d = gap_regression(200, 0.0, 0)
    x = d.x_train[:, 0]
    assert d.regression and d.n_outputs == 1 and d.x_train.shape == (200, 1)
    assert not np.any((x > GAP[0]) & (x < GAP[1])) and x.min() >= -3 and x.max() <= 3
    assert (x < 0).sum() > 60 and (x > 0).sum() > 60  # both sides
    np.testing.assert_allclose(d.y_train, np.sin(x), atol=1e-6)  # noise 0: the function itself


def test_one_training_step_is_sgd_on_the_mean_squared_error():
    """The engine's hand-written backward pass against autograd on the same thinned forward pass."""
    cfg = CFG.replace(optimizer="sgd", lr=0.1, p=0.3)
    data = gap_regression(cfg.n_train, 0.1, 0)
    bt = BatchedTrainer([cfg], data=data)
    before = [t.detach().clone().requires_grad_() for t in bt.runs.params]
    losses = bt.runs.train_forward()
    batch = bt.runs.batch
    h = batch.x[0]
    for l in range(cfg.depth):
        h = torch.relu(h @ before[2 * l][0] + before[2 * l + 1][0]) * batch.mults[l + 1][0]
    out = (h @ before[-2][0] + before[-1][0])[:, 0]
    loss = ((out - batch.y[0]) ** 2).mean()
    assert np.isclose(losses[0], loss.item(), rtol=1e-5)
    grads = torch.autograd.grad(loss, before)
    bt.runs.train_backward()
    for after, b, g in zip(bt.runs.params, before, grads):
        torch.testing.assert_close(after.detach(), (b - cfg.lr * g).detach(), rtol=1e-4, atol=1e-6)


def test_regression_is_scored_by_squared_error_and_has_no_accuracy():
    data = gap_regression(30, 0.1, 0)
    bt = BatchedTrainer([CFG], data=data)
    bt.step(200)
    ev = bt.evaluate()
    assert np.isnan(ev["test_acc"]).all() and np.isnan(ev["train_acc"]).all()
    test_out = bt.logits(data.x_test)[0, :, 0].numpy()
    assert np.isclose(ev["test_loss"][0], np.mean((test_out - data.y_test) ** 2), rtol=1e-5)
    assert ev["train_loss"][0] < 0.1  # it learned sin(x) on the data (variance of y is about 0.5)


def test_the_live_view_trainer_refuses_a_regression_set():
    with pytest.raises(ValueError, match="classifiers"):
        Trainer(CFG, gap_regression(30, 0.1, 0))


def test_the_monte_carlo_spread_is_larger_in_the_gap_than_on_the_data():
    result = predictive(SETTINGS.replace(width=64), steps=600, passes=60)
    assert result.std_in_gap > 1.2 * result.std_on_data, (result.std_in_gap, result.std_on_data)
    again = predictive(SETTINGS.replace(width=64), steps=600, passes=60)
    np.testing.assert_array_equal(result.std, again.std)  # seeded: the same numbers each time
    fig = uncertainty_figure(result)
    assert f"{result.std_in_gap:.3f}" in fig.layout.title.subtitle.text
    assert f"(p = {result.p:g})" in fig.layout.title.subtitle.text
    retain = uncertainty_figure(result, notation="retain").layout.title.subtitle.text
    assert f"(retain = {1 - result.p:g})" in retain
    band = fig.data[0]
    np.testing.assert_allclose(np.asarray(band.y)[:len(result.x)], result.mean + 2 * result.std, rtol=1e-6)
