"""The Why page's figures draw what the engine measured: each thinned network's map, the average against the
weight-scaled pass and their difference, each unit's weights as an image. Validated strictly by plotly."""
import numpy as np
import pytest

from dropviz import Config
from dropviz import ensemble as E
from dropviz.figures.boundary import grid
from dropviz.figures.ensemble import average_figure, thinned_figure
from dropviz.figures.features import features_figure, input_dropout_figure, mosaic
from dropviz.figures.style import SMALL
from tests.test_figures import strict, texts


@pytest.fixture(scope="module")
def moons():
    trainer = E.trained(Config(n_train=40, width=16, p=0.5, seed=2), 60)
    gx, gy, points, extent = grid(trainer.data, 20)
    return trainer, gx, gy, extent, E.ensemble(trainer, points, 4, seed=1)


def heatmaps(fig):
    return [t for t in fig.data if t.type == "heatmap"]


def test_each_small_multiple_is_one_thinned_networks_map(moons):
    trainer, gx, gy, extent, ens = moons
    fig = strict(thinned_figure(trainer.data, gx, gy, ens.probs, ens.kept, [0.9, 0.8, 0.7, 0.6], extent))
    maps = heatmaps(fig)
    assert len(maps) == 4
    for m, probs in zip(maps, ens.probs):
        np.testing.assert_array_equal(m.z, probs[:, 1].reshape(20, 20))
    kept = [int(sum(k.sum() for k in net)) for net in ens.kept]
    assert [t.startswith(f"#{i + 1}: {kept[i]}/32 kept") for i, t in enumerate(texts(fig))] == [True] * 4
    assert all(a.font.size >= SMALL for a in fig.layout.annotations)


def test_average_figure_shows_the_average_the_scaled_pass_and_their_difference(moons):
    trainer, gx, gy, extent, ens = moons
    fig = strict(average_figure(trainer.data, gx, gy, ens.average, ens.scaled, extent, 4, 0.9, 0.91, 0.05))
    avg, one, diff = heatmaps(fig)
    np.testing.assert_array_equal(avg.z, ens.average[:, 1].reshape(20, 20))
    np.testing.assert_array_equal(one.z, ens.scaled[:, 1].reshape(20, 20))
    np.testing.assert_allclose(diff.z, np.abs(avg.z - one.z))
    assert "5.0% of the plane changes class" in fig.layout.title.subtitle.text


def test_feature_mosaic_is_each_units_weights_to_its_own_scale():
    images = np.random.default_rng(0).normal(size=(5, 8, 8))
    canvas = mosaic(images, per_row=2)
    assert canvas.shape == (3 * 9 - 1, 2 * 9 - 1)
    np.testing.assert_allclose(canvas[9:17, 0:8], images[2] / np.abs(images[2]).max())
    assert np.isnan(canvas[8]).all() and np.isnan(canvas[18:, 9:]).all()  # gaps, and no 6th image
    run = E.Features(images, 1.0, 0.5, 0.9)
    fig = strict(features_figure([("dropout", run), ("twin", run)], n_show=4, per_row=2))
    assert len(heatmaps(fig)) == 2 and "top-8 share 50%" in texts(fig)[0]


def test_input_dropout_figure_shows_the_digit_then_its_copies():
    digit = np.arange(64, dtype=float)
    copies = np.stack([digit * (np.arange(64) % 3 > 0)] * 2)
    fig = strict(input_dropout_figure(digit, copies, (8, 8), 0.2, "input p = 0.2"))
    maps = heatmaps(fig)
    assert len(maps) == 3
    np.testing.assert_array_equal(maps[0].z, digit.reshape(8, 8))
    np.testing.assert_array_equal(maps[2].z, copies[1].reshape(8, 8))
    assert "input p = 0.2" in fig.layout.title.text
