"""The 2014 paper's recipe besides dropout: momentum, L2 weight decay and the max-norm constraint."""
import copy

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from dropviz.batched import BatchedTrainer
from dropviz.cli import main
from dropviz.config import Config
from dropviz.figures.regularizers import regularizers_figure
from dropviz.regularizers import L2, METHODS, regularizers
from dropviz.trainer import Trainer

SMALL = Config(n_train=60, width=16, batch_size=20, noise=0.2)


def incoming_norms(weights) -> list[torch.Tensor]:
    """Per hidden layer, each neuron's incoming weight-vector length, (M, width)."""
    return [torch.linalg.vector_norm(w.detach(), dim=1) for w in weights[:-1]]


def test_max_norm_keeps_every_hidden_neurons_incoming_weights_within_the_bound():
    c = 0.6
    batched = BatchedTrainer([SMALL.replace(depth=2, lr=1.0, seed=1), SMALL.replace(depth=2, lr=1.0, seed=1,
                                                                                     max_norm=c)])
    for _ in range(40):
        batched.step(1)
        bounded = incoming_norms(batched.weights)
        assert all(float(n[1].max()) <= c * (1 + 1e-5) for n in bounded)
    free = incoming_norms(batched.weights)
    assert max(float(n[0].max()) for n in free) > 1.5 * c  # without the bound they grow past it: it acted
    assert any(float(n[1].max()) > 0.99 * c for n in bounded)  # neurons sit on the bound, not far inside it


def test_max_norm_leaves_short_vectors_and_the_output_layer_alone():
    big = 50.0  # longer than any weight vector here: the constraint must change nothing
    plain, bounded = Trainer(SMALL), Trainer(SMALL.replace(max_norm=big))
    plain.step(30), bounded.step(30)
    for a, b in zip(plain.params, bounded.params):
        torch.testing.assert_close(a, b)


def test_weight_decay_shrinks_weights_that_get_no_gradient_geometrically():
    """A ReLU neuron that never fires gets no loss gradient on its incoming or outgoing weights: with L2
    each step multiplies them by 1 - lr x weight_decay, and its bias (not decayed) stays put."""
    lr, decay, steps = 0.2, 0.05, 25
    runs = {}
    for wd in (0.0, decay):
        trainer = Trainer(SMALL.replace(depth=1, p=0.3, lr=lr, weight_decay=wd))
        with torch.no_grad():
            trainer.runs.biases[0][0, 0, 0] = -1e3  # neuron 0 of the hidden layer is dead for every input
        w_in = trainer.runs.weights[0][0, :, 0].detach().clone()
        w_out = trainer.runs.weights[1][0, 0, :].detach().clone()
        trainer.step(steps)
        runs[wd] = (trainer, w_in, w_out)
    trainer, w_in, w_out = runs[0.0]
    assert torch.equal(trainer.runs.weights[0][0, :, 0], w_in)  # no gradient, no decay: untouched
    trainer, w_in, w_out = runs[decay]
    shrink = (1 - lr * decay) ** steps
    torch.testing.assert_close(trainer.runs.weights[0][0, :, 0].detach(), w_in * shrink, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(trainer.runs.weights[1][0, 0, :].detach(), w_out * shrink, rtol=1e-5, atol=1e-7)
    assert float(trainer.runs.biases[0].detach()[0, 0, 0]) == -1e3
    # the live neurons' weights moved by their gradients as well, so the layer is not simply scaled
    assert not torch.allclose(trainer.runs.weights[0], runs[0.0][0].runs.weights[0] * shrink, atol=1e-3)


def test_momentum_and_weight_decay_match_torch_sgd_on_the_same_batches():
    """The engine's SGD with momentum and L2 against torch.optim.SGD on a plain nn.Module copy of the
    initial network (weights decayed, biases not), fed the batches the engine drew (p = 0: no masks)."""
    cfg = SMALL.replace(p=0.0, depth=2, lr=0.05, momentum=0.9, weight_decay=0.01)
    trainer = Trainer(cfg)
    net = copy.deepcopy(trainer.model)
    opt = torch.optim.SGD([{"params": [l.weight for l in net.layers], "weight_decay": cfg.weight_decay},
                           {"params": [l.bias for l in net.layers], "weight_decay": 0.0}],
                          lr=cfg.lr, momentum=cfg.momentum)
    x, y = torch.from_numpy(trainer.data.x_train), torch.from_numpy(trainer.data.y_train)
    for _ in range(60):
        trainer.step(1)
        idx = torch.from_numpy(trainer.runs.batch.idx[0])
        h = x[idx]
        for layer in net.hidden:
            h = torch.relu(layer(h))
        opt.zero_grad()
        F.cross_entropy(net.out(h), y[idx]).backward()
        opt.step()
    for ours, theirs in zip(trainer.model.layers, net.layers):
        torch.testing.assert_close(ours.weight, theirs.weight, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(ours.bias, theirs.bias, rtol=1e-4, atol=1e-5)
    plain = Trainer(cfg.replace(momentum=0.0, weight_decay=0.0))
    plain.step(60)
    assert not torch.allclose(plain.model.out.weight, net.out.weight, atol=1e-3)  # the settings made a difference


def test_adam_ignores_momentum():
    cfg = SMALL.replace(optimizer="adam", lr=0.01)
    a, b = Trainer(cfg), Trainer(cfg.replace(momentum=0.9))
    a.step(20), b.step(20)
    assert np.isclose(a.frame.train_loss, b.frame.train_loss, rtol=0, atol=0)


def test_the_label_names_the_regularizers_that_are_on():
    assert "L2" not in Config().label() and "max-norm" not in Config().label()
    label = Config(momentum=0.9, weight_decay=1e-4, max_norm=3).label()
    assert "momentum=0.9" in label and "L2=0.0001" in label and "max-norm=3" in label
    assert "momentum" not in Config(optimizer="adam", momentum=0.9).label()  # adam ignores it


# ---------------------------------------------------------------------- the regularizers experiment
def test_regularizers_csv_has_each_method_and_seed_trained_with_its_own_settings(capsys, tmp_path):
    out = tmp_path / "reg.csv"
    assert main(["experiment", "regularizers", "--dataset", "digits", "--n-train", "40", "--width", "8",
                 "--momentum", "0.5", "--max-norm", "0.7", "--seeds", "2", "--steps", "20", "--csv", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns[:4]) == ["method", "seed", "test_acc", "test_loss"]
    assert sorted(zip(df["method"], df["seed"])) == sorted((m, s) for m in METHODS for s in (0, 1))
    by = df.set_index(["method", "seed"])
    assert by.loc[("none", 0), ["p", "weight_decay", "max_norm"]].tolist() == [0, 0, 0]
    assert by.loc[("dropout + max-norm", 1), ["p", "weight_decay", "max_norm"]].tolist() == [0.5, 0, 0.7]
    assert by.loc[("L2", 0), ["p", "weight_decay", "max_norm"]].tolist() == [0, L2, 0]  # the base has none
    # each row is the run its config gives alone
    cfg = Config(dataset="digits", n_train=40, width=8, momentum=0.5, p=0.5, max_norm=0.7, seed=1)
    alone = BatchedTrainer([cfg])
    alone.step(20)
    assert np.isclose(alone.evaluate()["test_loss"][0], by.loc[("dropout + max-norm", 1), "test_loss"], atol=1e-5)
    capsys.readouterr()


def test_regularizers_refuses_an_arm_without_its_regularizer():
    with pytest.raises(ValueError, match=r"^max_norm=0 is out of range: its arms need max_norm above 0"):
        regularizers(Config(), seeds=1, steps=1, max_norm=0)


def test_regularizers_figure_shows_every_method_and_labels_the_paper_numbers_as_mnist():
    df = pd.DataFrame([dict(method=m, seed=s, test_acc=0.9 + 0.01 * s, test_loss=0.3) for m in METHODS
                       for s in range(3)] + [dict(method="L2", seed=3, test_acc=np.nan, test_loss=np.nan)])
    fig = regularizers_figure(df)
    diamonds = [t for t in fig.data if t.type == "scatter" and t.marker["symbol"] == "diamond"][0]
    assert list(diamonds.y) == list(METHODS)
    np.testing.assert_allclose(diamonds.x, 100 * (1 - 0.91), rtol=1e-6)  # the mean over the finished seeds
    bars = [t for t in fig.data if t.type == "bar"][0]
    assert list(bars.text) == ["not in Table 9", "1.62%", "1.35%", "not in Table 9", "1.25%", "1.05%"]
    titles = [a.text for a in fig.layout.annotations]
    assert any("MNIST" in t for t in titles)
    assert "1 diverged runs left out" in fig.layout.title.subtitle.text
