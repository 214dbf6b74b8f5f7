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
from dropviz.figures.labels import TWIN
from dropviz.figures.style import SMALL


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


# ---------------------------------------------------------------- readability (issue 8, item 5)
def _whiteness(scale, values):
    """How far each colour value's colour is from white (0: white), summed over r, g, b."""
    from plotly.colors import sample_colorscale, unlabel_rgb
    scale = [[float(t), c] for t, c in scale]
    return np.array([765 - sum(unlabel_rgb(c)) for c in sample_colorscale(scale, list((np.asarray(values) + 1) / 2))])


def test_signed_log_keeps_tiny_gradients_coloured_and_only_zero_white():
    from dropviz.figures.gradient import FLOOR, signed_log
    z = signed_log([1e-45, -1e-40, 0.0, 1e-3, -1.0], 1.0)
    assert list(z[:3]) == [FLOOR, -FLOOR, 0.0] and z[4] == -1.0 and FLOOR < z[3] < 1
    assert list(signed_log([0.0, 0.0], 0.0)) == [0.0, 0.0]  # a layer with no gradient at all


def test_gradient_view_readable_late_in_deep_network_training():
    """The Deep network preset after 900 iterations: gradients of 1e-37 and less, which a shared linear
    scale drew white in layers 2-7. Kept neurons stay coloured, dropped ones grey and crossed."""
    from dropviz.figures.gradient import FLOOR, SCALE_NOTE
    from dropviz.presets import PRESETS
    frame = Trainer(PRESETS["Deep network"].config).step(900)
    fig = strict(gradient_figure(frame))
    heat = fig.data[0]
    z = np.asarray(heat.z)
    raw = np.array([lf.grad[:32] for lf in frame.layers]).T
    kept = np.array([lf.mask[:32] for lf in frame.layers]).T
    tiny = kept & (raw != 0)
    assert tiny.sum() > 100 and np.abs(raw[tiny]).max() < 1e-30  # the situation of the report
    assert np.all(np.abs(z[tiny]) >= FLOOR) and np.array_equal(np.sign(z[tiny]), np.sign(raw[tiny]))
    assert _whiteness(heat.colorscale, z[tiny]).min() > 150  # visibly coloured, in every layer
    assert _whiteness(heat.colorscale, [0.0])[0] < 30         # only an exact zero is (nearly) white
    for j, lf in enumerate(frame.layers):  # relative to each layer's own largest gradient
        if np.argmax(np.abs(lf.grad)) < 32:
            assert np.isclose(np.abs(z[:, j]).max(), 1.0)
    assert np.all(z[~kept] == 0)
    grey = trace(fig, "grey cells")
    assert np.array_equal(~np.isnan(np.asarray(grey.z, float)), ~kept)
    crosses = trace(fig, "dropped: gradient exactly 0")
    assert sorted(zip(crosses.y, crosses.x)) == sorted((r, c + 1) for r, c in zip(*np.nonzero(~kept)))
    bar = heat.colorbar
    assert {"+100%", "+1%", "0", "−0.01%"} <= set(bar.ticktext) and "%" in bar.title.text
    assert SCALE_NOTE in fig.layout.title.subtitle.text and "log scale" in SCALE_NOTE
    assert [t.split("<br>")[1] for t in fig.layout.xaxis.ticktext] == [f"{np.abs(lf.grad).max():.0e}"
                                                                      for lf in frame.layers]


def test_gradient_marks_a_kept_neuron_with_exactly_zero_gradient(small):
    import dataclasses
    _, frame = small
    lf = frame.layers[0]
    i = int(np.flatnonzero(lf.mask)[0])
    grad = lf.grad.copy()
    grad[i] = 0.0
    frame = dataclasses.replace(frame, layers=[dataclasses.replace(lf, grad=grad), *frame.layers[1:]])
    fig = strict(gradient_figure(frame))
    assert np.asarray(fig.data[0].z)[i, 0] == 0
    zero = trace(fig, "kept, gradient exactly 0")
    assert list(zero.x) == [1] and list(zero.y) == [i]


def crowded_runs(changes=((100, 0.3), (120, 0.4), (140, 0.25), (400, 0.5), (780, 0.2))):
    def history(steps, p):
        return [dict(step=s, p=p, train_loss=1 / s, clean_train_loss=1 / s, test_loss=1.2 / s, train_acc=0.9,
                     test_acc=0.8) for s in range(1, steps + 1)]
    label = "moons n=40 2x256 relu p={} inverted sgd lr=0.1 seed=0"
    ghosts = [dict(label=label.format(q), history=history(600, q), style="ghost") for q in (0.3, 0.6)]
    return [*ghosts, dict(label=label.format(0.2), history=history(800, 0.2), style="main", p_changes=list(changes)),
            dict(label="twin", history=history(800, 0.0), style="twin", p_changes=[])]


def test_p_change_notes_stay_inside_their_panel_and_apart():
    from dropviz.figures.curves import MAX_LEVELS, NOTE_GAP_PX, NOTE_SHIFT_PX, PANEL_PX, note_width_px
    changes = [(100, 0.3), (120, 0.4), (140, 0.25), (400, 0.5), (780, 0.2), (790, 0.1)]
    fig = strict(curves_figure(crowded_runs(changes)))
    notes = [a for a in fig.layout.annotations if a.text.startswith("p → ")]
    assert [a.text for a in notes[::2]] == [f"p → {p:g}" for _, p in changes]  # one per panel, in order
    for panel, edge in (("y domain", 1), ("y2 domain", 0)):
        mine = [a for a in notes if a.yref == panel]
        assert len(mine) == len(changes)
        shown = [a for a in mine if a.visible is not False]
        assert shown[-1].text == "p → 0.1" and len(shown) >= 4  # the latest always; thinned only when crowded
        for a in shown:
            # inside the plot area, from its top (loss) or bottom (accuracy) edge inward: never up in the
            # band of the panel titles and the gap note, which lie above the plot area
            assert a.y == edge and a.yanchor == ("top" if edge else "bottom")
            assert (a.yshift < 0) if edge else (a.yshift > 0)
            assert abs(a.yshift) <= 2 + 24 * (MAX_LEVELS - 1)
        def span(a):  # along the panel in iterations, at the narrowest width the notes are laid out for
            w = (note_width_px(a.text) + NOTE_SHIFT_PX) / PANEL_PX * 800
            return (a.x, a.x + w) if a.xanchor == "left" else (a.x - w, a.x)

        for i, a in enumerate(shown):
            assert span(a)[0] >= 0 and span(a)[1] <= 800  # never past the panel's side
            for b in shown[i + 1:]:
                if abs(a.x - b.x) < (note_width_px(b.text) + NOTE_GAP_PX) / PANEL_PX * 800:  # close lines
                    assert a.yshift != b.yshift, (a.text, b.text)
                if a.yshift == b.yshift:  # one level: side by side, never touching
                    assert span(a)[1] <= span(b)[0] or span(b)[1] <= span(a)[0], (a.text, b.text)
    titles = [a for a in fig.layout.annotations if a.yref == "paper" and a.yanchor == "bottom" and a.y == 1]
    gap = [a for a in titles if "this run − twin" in a.text]
    panel_titles = [a for a in titles if "this run − twin" not in a.text]
    assert len(panel_titles) == 2 and all(not a.yshift for a in panel_titles)
    assert gap and gap[0].yshift >= 1.4 * (SMALL + 1)  # a line above the panel titles, not on them


def test_earlier_runs_are_named_in_the_legend_not_on_the_curves():
    fig = strict(curves_figure(crowded_runs()))
    shown = sorted((s for s in fig.layout.shapes if s.showlegend), key=lambda s: s.legendrank)  # as listed
    entries = {s.name: s for s in shown}
    assert list(entries) == ["test", "train", "this run (dropout, p = 0.2)", TWIN, "earlier: p=0.3", "earlier: p=0.6"]
    assert entries["earlier: p=0.3"].legendgroup == "run0" and entries["earlier: p=0.3"].opacity < 1
    assert all(tr.showlegend is False for tr in fig.data)  # the legend items are those entries
    assert not [a for a in fig.layout.annotations if "earlier" in a.text or "moons" in a.text]
    ghost = [tr for tr in fig.data if tr.legendgroup == "run0"]
    assert len(ghost) == 4 and all("moons n=40 2x256 relu p=0.3" in tr.hovertemplate for tr in ghost)


def test_log_axis_ticks_are_few_and_inside_the_data():
    from dropviz.figures.experiments import log_ticks
    assert log_ticks(range(1, 101)) == [1, 10, 100]
    assert log_ticks([0.27, 2.0]) == [0.5, 1, 2]
    narrow = log_ticks([0.31, 0.72])
    assert 3 <= len(narrow) <= 6 and all(0.29 <= t <= 0.76 for t in narrow)
    assert log_ticks([]) == [1.0]
