"""The Why page's engine side (dropviz.ensemble): thinned networks, their average, the weight-scaled pass, and the
first-layer features of a run and its twin. Checked against a plain NumPy forward pass written here."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dropviz import Config, Trainer
from dropviz import ensemble as E
from dropviz.live.session import twin_config

MOONS = Config(dataset="moons", n_train=60, noise=0.3, depth=2, width=32, p=0.5, lr=0.1, seed=3)
DIGITS = Config(dataset="digits", n_train=200, noise=0.0, depth=1, width=16, p=0.5, input_p=0.2, lr=0.1, seed=1)


@pytest.fixture(scope="module")
def moons():
    return E.trained(MOONS, 150)


def numpy_probs(trainer, x, hidden_mults=None, input_mult=None, test_scale=1.0):
    """Class probabilities by hand: each hidden layer's output times its multiplier (one per neuron, the same
    for every point), or times `test_scale` for every neuron."""
    layers = trainer.model.layers
    h = np.asarray(x, np.float64) * (1.0 if input_mult is None else input_mult)
    for l, layer in enumerate(layers[:-1]):
        h = np.maximum(h @ layer.weight.detach().numpy().T + layer.bias.detach().numpy(), 0)
        h = h * (test_scale if hidden_mults is None else hidden_mults[l])
    z = h @ layers[-1].weight.detach().numpy().T + layers[-1].bias.detach().numpy()
    z = np.exp(z - z.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def test_each_thinned_network_is_the_network_with_one_mask_for_every_point(moons):
    x = moons.data.x_test[:50]
    for net in E.thinned_multipliers(moons, 3, seed=7):
        mults = [m[0, 0].numpy() for m in net[1:]]
        assert all(set(np.unique(m)) <= {0.0, 2.0} for m in mults)  # dropped: 0; kept: x 1/(1-p) = 2
        np.testing.assert_allclose(E.network_probs(moons, x, net), numpy_probs(moons, x, mults), atol=1e-5)


def test_ensemble_average_is_the_mean_of_the_k_thinned_networks(moons):
    x = moons.data.x_test[:80]
    ens = E.ensemble(moons, x, k=8, seed=2)
    each = [numpy_probs(moons, x, [m[0, 0].numpy() for m in net[1:]])
            for net in E.thinned_multipliers(moons, 8, seed=2)]
    assert ens.probs.shape == (8, 80, 2) and ens.k == 8
    np.testing.assert_allclose(ens.probs, np.stack(each), atol=1e-5)
    np.testing.assert_allclose(ens.average, np.mean(each, axis=0), atol=1e-5)
    assert not np.allclose(ens.average, ens.probs[0])  # an average of different networks, not one of them


@pytest.mark.parametrize("mode", ["inverted", "classic"])
def test_weight_scaled_pass_uses_no_mask(mode):
    trainer = E.trained(MOONS.replace(mode=mode), 100)
    x = trainer.data.x_test[:60]
    scale = 1.0 if mode == "inverted" else 1.0 - MOONS.p  # classic: every neuron x keep probability, none dropped
    np.testing.assert_allclose(E.weight_scaled_probs(trainer, x), numpy_probs(trainer, x, test_scale=scale),
                               atol=1e-5)
    for seed in (0, 1):
        np.testing.assert_array_equal(E.ensemble(trainer, x, 2, seed=seed).scaled, E.weight_scaled_probs(trainer, x))


def test_the_k_masks_differ_and_come_back_from_the_seed(moons):
    x = moons.data.x_test[:5]
    a, again, other = (E.ensemble(moons, x, 8, seed=s) for s in (0, 0, 1))
    masks = [np.concatenate(k) for k in a.kept]
    assert len({m.tobytes() for m in masks}) == 8  # eight different thinned networks
    assert all(0 < m.mean() < 1 for m in masks)
    for m, n in zip(a.kept, again.kept):
        assert all(np.array_equal(u, v) for u, v in zip(m, n))
    np.testing.assert_array_equal(a.probs, again.probs)
    assert not np.array_equal(np.concatenate(a.kept[0]), np.concatenate(other.kept[0]))


def test_drawing_thinned_networks_leaves_training_unchanged():
    looked, plain = Trainer(MOONS), Trainer(MOONS)
    looked.step(20)
    plain.step(20)
    E.ensemble(looked, looked.data.x_test, 8)
    assert looked.step(30).train_loss == plain.step(30).train_loss


def test_gap_counts_class_changes_and_probability_differences():
    average = np.array([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5], [0.2, 0.8]])
    scaled = np.array([[0.8, 0.2], [0.6, 0.4], [0.5, 0.5], [0.2, 0.8]])
    g = E.gap(average, scaled)
    assert g.disagree == 0.25 and g.max_abs == pytest.approx(0.2) and g.mean_abs == pytest.approx(0.075)
    assert E.gap(scaled, scaled) == E.Gap(0.0, 0.0, 0.0)


# ---------------------------------------------------------------- co-adaptation
def test_feature_images_are_the_first_layer_weights_and_both_arms_start_equal():
    run, twin = Trainer(DIGITS), Trainer(twin_config(DIGITS))
    a, b = E.first_layer_images(run), E.first_layer_images(twin)
    assert a.shape == (16, 8, 8)
    np.testing.assert_array_equal(a, b)  # the same initial weights
    w = run.model.hidden[0].weight.detach().numpy()  # (width, 64): unit j's incoming weights
    for j in (0, 7, 15):
        np.testing.assert_array_equal(a[j], w[j].reshape(8, 8))


def test_trained_pair_is_a_dropout_run_and_its_no_dropout_twin_on_the_same_batches():
    run, twin = E.trained_pair(DIGITS, 30)
    assert (run.cfg.p, run.cfg.input_p) == (0.5, 0.2) and (twin.cfg.p, twin.cfg.input_p) == (0.0, 0.0)
    assert run.data is twin.data and run.step_count == twin.step_count == 30
    assert not np.array_equal(E.first_layer_images(run), E.first_layer_images(twin))  # dropout changed the path
    fa = E.features(run)
    np.testing.assert_array_equal(fa.images, E.first_layer_images(run))
    assert fa.roughness == pytest.approx(E.roughness(fa.images).mean())
    assert fa.top_energy == pytest.approx(E.top_energy(fa.images).mean())


def test_locality_measures_on_known_images():
    dot = np.zeros((1, 8, 8))
    dot[0, 3, 4] = 2.0
    flat = np.ones((1, 8, 8))
    checker = np.indices((8, 8)).sum(0)[None] % 2 * 2.0 - 1.0
    assert E.top_energy(dot)[0] == 1.0 and E.top_energy(flat)[0] == pytest.approx(8 / 64)
    assert E.roughness(flat)[0] == 0.0
    assert E.roughness(checker)[0] == pytest.approx(2 * 2 * 7 * 8 / 64)  # every neighbour differs by 2
    assert E.roughness(dot)[0] > E.roughness(flat)[0]


@settings(max_examples=40, deadline=None)
@given(st.floats(0.01, 100), st.integers(0, 2**32 - 1))
def test_locality_measures_do_not_depend_on_the_weights_scale(scale, seed):
    images = np.random.default_rng(seed).normal(size=(3, 8, 8))
    np.testing.assert_allclose(E.roughness(images * scale), E.roughness(images), rtol=1e-9)
    np.testing.assert_allclose(E.top_energy(images * scale), E.top_energy(images), rtol=1e-9)


def test_first_layer_images_need_image_data(moons):
    with pytest.raises(ValueError, match="digits"):
        E.first_layer_images(moons)


def test_input_dropout_on_a_digit_drops_pixels_and_scales_the_rest():
    trainer = Trainer(DIGITS)
    digit = trainer.data.x_test[0] + 0.5  # every pixel nonzero, so a dropped one shows
    copies = E.input_dropped(trainer, digit, 200, seed=4)
    dropped = copies == 0
    assert abs(dropped.mean() - 0.2) < 0.02  # 12,800 pixels: ~5 standard errors
    np.testing.assert_allclose(copies[~dropped], np.broadcast_to(digit / 0.8, copies.shape)[~dropped], rtol=1e-6)
    np.testing.assert_array_equal(copies, E.input_dropped(trainer, digit, 200, seed=4))
    torch.testing.assert_close(torch.as_tensor(E.input_dropped(Trainer(DIGITS.replace(input_p=0.0)), digit, 2)),
                               torch.as_tensor(np.stack([digit, digit])))
