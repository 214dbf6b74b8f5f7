"""The figure functions draw what the engine recorded: masks, scales, sums, gradients, curves."""
import math

import numpy as np
import plotly.graph_objects as go
import pytest

from dropviz import Config, Trainer
from dropviz.figures import (
    CAPTIONS,
    boundary_figure,
    curves_figure,
    digits_figure,
    gradient_figure,
    grid,
    rescale_figure,
)


def strict(fig):
    """Re-validate every property (the figures are built without plotly's validation, for speed);
    returns the figure itself, whose arrays are still numpy arrays."""
    raw = fig.to_dict()
    go.Figure(raw)
    for tr in raw["data"]:  # names are resolved by the validation we skip, and plotly.js reads some differently
        for holder in (tr, tr.get("marker", {})):
            assert not isinstance(holder.get("colorscale", []), str), tr.get("name")
    return fig


def trace(fig, prefix):
    found = [t for t in fig.data if (t.name or "").startswith(prefix)]
    assert len(found) == 1, [t.name for t in fig.data]
    return found[0]


def texts(fig):
    return [a.text for a in fig.layout.annotations]


@pytest.fixture(scope="module")
def small():
    t = Trainer(Config(width=8, depth=2, p=0.5))
    return t, t.step(5)


@pytest.fixture(scope="module")
def wide():
    t = Trainer(Config(width=256, depth=2, p=0.5))
    return t, t.step(3)


def test_rescale_sums_are_the_frames_sums():
    t = Trainer(Config(width=40, depth=2, p=0.5))
    frames = [t.step(1) for _ in range(6)]
    lf = frames[-1].layers[1]
    fig = strict(rescale_figure(frames, 1, "inverted"))
    notes = " ".join(texts(fig))
    for total in (lf.pre.sum(), (lf.pre * lf.mask).sum(), lf.post.sum()):
        assert f"sum = {total:.2f}" in notes
    bars = [tr for tr in fig.data if tr.type == "bar"]
    assert np.allclose(bars[0].y, lf.pre[:24]) and np.allclose(bars[2].y, lf.post[:24])
    assert np.allclose(np.asarray(bars[2].y)[~lf.mask[:24]], 0)
    ratios = [f.layers[1].post.sum() / f.layers[1].pre.sum() for f in frames]
    assert np.isclose(trace(fig, "running mean").y[-1], np.mean(ratios))


def test_rescale_classic_shows_test_time_keep_probability():
    t = Trainer(Config(width=10, depth=1, p=0.3, mode="classic"))
    frames = [t.step(1) for _ in range(3)]
    lf = frames[-1].layers[0]
    fig = strict(rescale_figure(frames, 0, "classic"))
    assert np.allclose(lf.post, lf.pre * lf.mask)  # no training scale
    notes = " ".join(texts(fig))
    assert f"{lf.test_pre.sum():.2f} ×0.70 = {lf.test_post.sum():.2f}" in notes
    assert "× (1−p) = ×0.70 at test time" in fig.layout.title.subtitle.text
    assert np.isclose(trace(fig, "1−p").y[0], 0.7)


@pytest.mark.parametrize("layer", [0, 1])
def test_gradient_bars_are_zero_exactly_at_dropped(small, layer):
    t, frame = small
    lf = frame.layers[layer]
    fig = strict(gradient_figure(frame, layer))
    bars = trace(fig, "gradient")
    assert np.array_equal(np.asarray(bars.y), lf.grad.astype(float))
    assert np.all(np.asarray(bars.y)[~lf.mask] == 0)
    assert list(trace(fig, "dropped").x) == list(np.flatnonzero(~lf.mask))
    assert bars.marker.cmin == -bars.marker.cmax


def test_gradient_heatmap_over_all_layers(wide):
    _, frame = wide
    fig = strict(gradient_figure(frame, max_neurons=32))
    heat = [tr for tr in fig.data if tr.type == "heatmap"][0]
    z = np.asarray(heat.z)
    assert z.shape == (32, 2) and heat.zmin == -heat.zmax
    dropped = np.array([~lf.mask[:32] for lf in frame.layers]).T
    assert np.all(z[dropped] == 0)
    assert len(trace(fig, "dropped").x) == dropped.sum()


def test_curves_drop_non_finite_and_style_runs():
    main = Trainer(Config(width=8, depth=1, p=0.5))
    twin = Trainer(Config(width=8, depth=1, p=0.0))
    for _ in range(4):
        main.step(2)
        twin.step(2)
    history = [dict(row) for row in main.history]
    history[1]["test_loss"], history[2]["clean_train_loss"] = float("nan"), float("inf")
    ghost = [dict(step=s, p=0.3, train_loss=1.0, clean_train_loss=1.0, test_loss=1.2, train_acc=0.5,
                  test_acc=0.5) for s in (1, 2, 3)]
    fig = strict(curves_figure([
        dict(label="moons 2x8 p=0.3", history=ghost, style="ghost", p_changes=[]),
        dict(label="main", history=history, style="main", p_changes=[(4, 0.2)]),
        dict(label="twin", history=twin.history, style="twin", p_changes=[]),
    ]))
    for tr in fig.data:
        assert all(math.isfinite(v) for v in tr.y)
    main_test = [tr for tr in fig.data if tr.legendgroup == "run1" and tr.name == "test" and tr.yaxis == "y"][0]
    assert len(main_test.y) == len(history) - 1 and main_test.line.dash == "solid"
    twin_lines = [tr for tr in fig.data if tr.legendgroup == "run2"]
    assert twin_lines and all(tr.line.dash == "10px,7px" for tr in twin_lines)
    assert "moons 2x8 p=0.3" in fig.data[0].legendgrouptitle.text and fig.data[0].opacity < 1
    gap = round(history[-1]["test_loss"] - twin.history[-1]["test_loss"], 3)
    assert f"test loss, this run − twin: {'−' if gap < 0 else '+'}{abs(gap):.3f}" in " ".join(texts(fig))
    gap_note = [a for a in fig.layout.annotations if "this run − twin" in a.text][0]
    assert gap_note.xref == "paper" and gap_note.x == 0 and gap_note.xanchor == "left"  # never clipped at the left
    assert "p → 0.2" in texts(fig)


def test_boundary_heatmap_shape_and_tracked_example(small):
    t, frame = small
    gx, gy, points, extent = grid(t.data, n=30)
    assert points.shape == (900, 2)
    both = np.concatenate([t.data.x_train, t.data.x_test])
    assert extent[0] < both[:, 0].min() and extent[1] > both[:, 0].max()
    assert extent[2] < both[:, 1].min() and extent[3] > both[:, 1].max()
    probs = t.predict(points)
    fig = strict(boundary_figure(t.data, gx, gy, probs[:, 1].reshape(30, 30), frame, extent))
    heat = [tr for tr in fig.data if tr.type == "heatmap"][0]
    z = np.asarray(heat.z)
    assert z.shape == (30, 30)
    i, j = 7, 22  # row = y index, column = x index: the prediction at (gx[j], gy[i])
    assert np.isclose(z[i, j], t.predict([[gx[j], gy[i]]])[0, 1], atol=1e-6)
    ring = trace(fig, "tracked")
    assert np.allclose([ring.x[0], ring.y[0]], t.data.x_train[frame.tracked_index])
    assert np.allclose(strict(boundary_figure(t.data, gx, gy, probs, frame, extent)).data[0].z, z)
    assert list(fig.layout.xaxis.range) == [extent[0], extent[1]]


def test_digits_figure_marks_right_and_wrong():
    t = Trainer(Config(dataset="digits", n_train=60, width=16, depth=1))
    t.step(3)
    probs = t.predict(t.data.x_test)
    fig = strict(digits_figure(t.data, probs, n_show=10))
    right = probs.argmax(1) == t.data.y_test
    assert f"{right.mean():.1%}" in fig.layout.title.text
    notes = fig.layout.annotations
    assert len(notes) == 10
    for i, note in enumerate(notes):
        assert note.text.startswith(f"<b>{probs[i].argmax()}</b>")
        assert (note.font.color == "#1b7f3a") == right[i]


def test_captions_define_p_as_drop_probability():
    text = " ".join(CAPTIONS.values())
    assert "probability p" in CAPTIONS["network"] and "1/(1−p)" in CAPTIONS["network_inverted"]
    assert "keep probability 1−p (not by p)" in CAPTIONS["network_classic"]
    assert "nothing is rescaled at test time" in CAPTIONS["test_time"]
    assert "its own mask" in CAPTIONS["network"] and "zero gradient" in CAPTIONS["gradient"]
    assert "multiplied by p " not in text


def test_empty_frames_give_a_message_not_an_error():
    assert "No iterations" in strict(rescale_figure([], 0, "inverted")).layout.annotations[0].text


def test_rescale_running_mean_converges_on_one_with_tanh_too():
    """tanh layer sums nearly cancel; the panel compares magnitudes, whose expectation is kept."""
    trainer = Trainer(Config(activation="tanh", width=64, p=0.5))
    frames = [trainer.step(1) for _ in range(200)]
    fig = rescale_figure(frames, 0, "inverted")
    mean = next(t for t in fig.data if t.name == "running mean")
    assert len(mean.y) == 200 and abs(mean.y[-1] - 1) < 0.05
    assert any("sum of |a| after ÷ before" in a.text for a in fig.layout.annotations)
