"""Dropout variants (dropviz/variants): mask shapes, scaling, gradients, seeds and twins, the experiment
through the CLI, the figures and the Variants page."""
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dropviz.cli import main
from dropviz.figures import variants as fv
from dropviz.variants import masks
from dropviz.variants.nets import FAMILIES, build
from dropviz.variants.run import FRAMES_PER_PULL, Pair, Spec, VariantRun, digits
from dropviz.variants.settings import Settings, from_query
from dropviz.variants.site import Site

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "variants.py")
ps = st.floats(0.05, 0.9)


def rng(seed=0):
    return np.random.default_rng(seed)


def within(rate, p, n, spread=1.0):
    """rate is p to within 5 binomial standard deviations of n draws (spread: variance inflation)."""
    return abs(rate - p) <= 5 * np.sqrt(spread * p * (1 - p) / n)


# ---------------------------------------------------------------------- mask shapes
@settings(max_examples=25, deadline=None)
@given(p=ps, seed=st.integers(0, 2**32 - 1))
def test_a_channel_mask_is_constant_over_the_positions_of_each_channel(p, seed):
    m = masks.channel(rng(seed), p, (6, 5, 8, 8))
    assert m.shape == (6, 5, 8, 8)
    flat = m.reshape(6, 5, 64)
    assert torch.equal(flat, flat[:, :, :1].expand_as(flat))
    assert set(m.unique().tolist()) <= {0.0, 1.0}


def test_channel_dropout_drops_whole_channels_at_rate_p():
    m = masks.channel(rng(), 0.3, (4000, 8, 8, 8))
    assert within(1 - m[:, :, 0, 0].mean().item(), 0.3, 4000 * 8)


def test_one_seed_drops_exactly_one_square_of_the_block_size():
    for size in (1, 2, 3, 5):
        seeds = torch.zeros(1, 1, 8 + size - 1, 8 + size - 1)
        seeds[0, 0, 6, 4] = 1  # covers rows 6-size+1..6, columns 4-size+1..4
        dropped = masks.squares(seeds, size)[0, 0]
        expected = torch.zeros(8, 8)
        expected[max(0, 7 - size):7, max(0, 5 - size):5] = 1
        assert torch.equal(dropped, expected), size


@pytest.mark.parametrize("size", [2, 3, 4])
def test_block_masks_are_unions_of_whole_squares(size):
    m = masks.block(rng(size), 0.3, size, (200, 2, 8, 8))
    dropped = (m == 0).float()
    # a position is in a dropped square iff some size x size window holding it (cut at the border) is all dropped
    windows = 1 - F.max_pool2d(1 - F.pad(dropped, (size - 1,) * 4, value=1), size, stride=1)  # window all dropped
    covered = F.max_pool2d(windows, size, stride=1)
    assert torch.equal(covered * dropped, dropped)
    assert dropped.sum() > 0


@pytest.mark.parametrize("p,size", [(0.5, 3), (0.2, 2), (0.7, 4), (0.3, 1)])
def test_block_masks_drop_every_position_at_rate_p(p, size):
    n = 3000
    m = masks.block(rng(), p, size, (n, 1, 8, 8))
    spread = (2 * size - 1) ** 2  # positions within a square's reach of each other are correlated
    assert within(1 - m.mean().item(), p, n * 64, spread)
    for y, x in ((0, 0), (7, 7), (3, 4)):  # the border as often as the middle: gamma is exact everywhere
        assert within(1 - m[:, 0, y, x].mean().item(), p, n)


def test_block_gamma_keeps_a_position_with_probability_1_minus_p():
    for p, size in ((0.5, 3), (0.1, 7), (0.9, 2)):
        assert (1 - masks.block_gamma(p, size)) ** (size * size) == pytest.approx(1 - p)


def test_a_block_larger_than_the_map_is_refused():
    with pytest.raises(ValueError, match="block_size=9 is out of range: expected an integer from 1 to 8"):
        masks.block(rng(), 0.3, 9, (1, 1, 8, 8))


def test_masks_follow_the_engines_keep_rule():
    u = masks.uniforms(rng(), (10_000,))
    for p in (0.0, 0.25, 0.5, 0.9):
        assert torch.equal(masks.keep(u, p), torch.from_numpy((u > np.float32(p)).astype(np.float32)))


# ---------------------------------------------------------------------- recurrent masks
@settings(max_examples=20, deadline=None)
@given(p=ps, seed=st.integers(0, 2**32 - 1))
def test_a_variational_mask_is_the_same_at_every_step_and_differs_between_sequences(p, seed):
    m = masks.over_time(rng(seed), p, 8, (50, 64), shared=True)
    assert all(torch.equal(m[t], m[0]) for t in range(8))
    rows = {tuple(r.tolist()) for r in m[0]}
    assert len(rows) > 1  # 50 sequences, 64 units: equal masks for all would be a bug


@settings(max_examples=20, deadline=None)
@given(p=ps, seed=st.integers(0, 2**32 - 1))
def test_the_naive_mask_differs_between_steps(p, seed):
    m = masks.over_time(rng(seed), p, 8, (50, 64), shared=False)
    assert all(not torch.equal(m[t], m[t - 1]) for t in range(1, 8))


def test_the_rnn_uses_its_shared_mask_on_inputs_and_state_at_every_step():
    net = build("recurrent", "variational", 0.4, "inverted", torch.Generator().manual_seed(0))
    net(torch.rand(5, 64), rng())
    for site in net.sites:
        assert site.last.shape[0] == 8 and all(torch.equal(site.last[t], site.last[0]) for t in range(8))
    naive = build("recurrent", "naive", 0.4, "inverted", torch.Generator().manual_seed(0))
    naive(torch.rand(5, 64), rng())
    assert not torch.equal(naive.sites[1].last[1], naive.sites[1].last[0])


# ---------------------------------------------------------------------- DropConnect
def test_dropconnect_masks_weights_at_rate_p():
    net = build("dense", "dropconnect", 0.3, "inverted", torch.Generator().manual_seed(0))
    net(torch.rand(32, 64), rng())
    mask = net.site.last
    assert mask.shape == (32, 64, 64)  # one mask per example over every weight of the layer
    assert within(1 - mask.mean().item(), 0.3, mask.numel())


@pytest.mark.parametrize("mode", ["inverted", "classic"])
def test_dropconnect_scaling_keeps_the_expected_pre_activation(mode):
    """Averaged over masks, the training pre-activation x(W o M) x factor is the test-time one."""
    g = torch.Generator().manual_seed(1)
    x, w = torch.rand(8, generator=g), torch.randn(8, 4, generator=g)
    site = Site(0.4, mode, "weight")
    n = 40_000
    mask = site.draw(rng(), (n, 8, 4))
    pre = torch.einsum("i,nio->no", x, site.train(w, mask))
    expected = x @ site.test(w)
    se = pre.std(0) / np.sqrt(n)
    assert torch.all((pre.mean(0) - expected).abs() < 5 * se)
    assert not torch.allclose(pre.mean(0), x @ w * (1 - 0.4) if mode == "inverted" else x @ w, atol=5 * se.max())


def test_dropconnect_moment_matching_uses_the_mask_mean_and_variance():
    net = build("dense", "dropconnect", 0.5, "inverted", torch.Generator().manual_seed(0))
    x = torch.rand(3, 64)
    # many stochastic passes of the hidden layer, averaged after the ReLU, vs the Gaussian's closed form
    n, site = 4000, net.site
    w = net.fc.weight.T
    mask = site.draw(rng(), (n, 64, 64))
    hidden = torch.relu(torch.einsum("bi,nio->nbo", x, site.train(w, mask)) + net.fc.bias).mean(0)
    f = site.factors
    mu = F.linear(x, net.fc.weight) + net.fc.bias
    sd = torch.sqrt(f.p / f.keep * F.linear(x * x, net.fc.weight ** 2))
    z = mu / sd
    normal = torch.distributions.Normal(0.0, 1.0)
    gauss = mu * normal.cdf(z) + sd * normal.log_prob(z).exp()
    assert torch.allclose(hidden, gauss, atol=0.05)  # the Gaussian is an approximation: close, not equal
    assert torch.allclose(net.moment_logits(x), net.head(gauss), atol=1e-5)


# ---------------------------------------------------------------------- scaling and gradients
@pytest.mark.parametrize("shape", ["element", "channel", "block"])
@pytest.mark.parametrize("mode", ["inverted", "classic"])
def test_the_scaling_keeps_the_expected_output_of_every_position(shape, mode):
    h = torch.rand(1, 3, 8, 8).expand(20_000, 3, 8, 8)
    site = Site(0.5, mode, shape, block_size=3)
    out = site.train(h, site.draw(rng(), h.shape))
    expected = site.test(h[0])
    se = out.std(0) / np.sqrt(len(out))
    assert torch.all((out.mean(0) - expected).abs() < 5 * se + 1e-6)


def test_a_dropped_channel_gets_exactly_zero_gradient_from_that_example():
    net = build("conv", "channel", 0.5, "inverted", torch.Generator().manual_seed(0))
    x, y = torch.rand(1, 64), torch.tensor([3])
    logits, seen = net(x, rng(3), keep=True)
    F.cross_entropy(logits, y).backward()
    dropped = net.sites[1].last[0, :, 0, 0] == 0
    active = seen[1][0].flatten(1).amax(1) > 0  # a channel whose ReLU is off everywhere passes none anyway
    assert dropped.any() and (~dropped & active).any()
    grad = net.conv2.weight.grad.flatten(1).abs().sum(1)
    assert torch.all(grad[dropped] == 0) and torch.all(net.conv2.bias.grad[dropped] == 0)
    assert torch.all(grad[~dropped & active] > 0)


def test_a_dropped_edge_gets_exactly_zero_gradient_from_that_example():
    net = build("dense", "dropconnect", 0.5, "inverted", torch.Generator().manual_seed(0))
    x, y = torch.rand(1, 64) + 0.1, torch.tensor([3])
    F.cross_entropy(net(x, rng(4)), y).backward()
    dropped = (net.site.last[0] == 0).T  # (out, in), as the weight is stored
    grad = net.fc.weight.grad
    assert torch.all(grad[dropped] == 0)
    live = (grad != 0).any(1)  # units whose ReLU is on pass gradient through every kept edge
    assert torch.all(grad[live][~dropped[live]] != 0)


def test_dropped_positions_get_exactly_zero_gradient_in_element_and_block_dropout():
    for shape in ("element", "block"):
        site = Site(0.5, "inverted", shape)
        h = torch.rand(2, 3, 8, 8, requires_grad=True)
        mask = site.draw(rng(), h.shape)
        (site.train(h, mask) * torch.rand(2, 3, 8, 8)).sum().backward()
        assert torch.all(h.grad[mask == 0] == 0) and torch.all(h.grad[mask == 1] > 0)


# ---------------------------------------------------------------------- seeds and twins
DATA = digits(200)


@pytest.mark.parametrize("family,variant", [("conv", "block"), ("recurrent", "variational"), ("dense", "dropconnect")])
def test_a_seed_reproduces_bit_for_bit_and_another_seed_differs(family, variant):
    def trained(seed):
        run = VariantRun(Spec(family, variant, 0.4), seed, DATA)
        run.step(15)
        return [p.detach().clone() for p in run.net.parameters()], run.net.sites[-1].last.clone()

    (a, mask_a), (b, mask_b), (c, _) = trained(5), trained(5), trained(6)
    assert all(torch.equal(x, y) for x, y in zip(a, b)) and torch.equal(mask_a, mask_b)
    assert not all(torch.equal(x, y) for x, y in zip(a, c))


@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_twin_starts_from_identical_weights_and_sees_identical_batches(family):
    pair = Pair(Spec(family, FAMILIES[family][-1], 0.5), seed=3, data=DATA)
    mine, twin = pair.run.net.state_dict(), pair.twin.net.state_dict()
    assert mine.keys() == twin.keys() and all(torch.equal(mine[k], twin[k]) for k in mine)
    assert all(s.p == 0 for s in pair.twin.net.sites) and all(s.p == 0.5 for s in pair.run.net.sites)
    for _ in range(5):
        assert np.array_equal(pair.run.order.next(), pair.twin.order.next())


def test_a_twin_draws_no_masks():
    pair = Pair(Spec("conv", "standard", 0.5), data=DATA)
    state = pair.twin.rng.bit_generator.state
    pair.step(3)
    assert pair.twin.rng.bit_generator.state == state and pair.run.rng.bit_generator.state != state


def test_a_snapshot_waits_for_a_step_in_progress():
    """A page's runs overlap (a click's rerun starts while the last tick still steps): the frame it draws
    must be the one of the weights it reports, with run and twin at the same iteration."""
    import threading
    import time
    pair = Pair(Spec("conv", "standard", 0.5), data=DATA)
    worker = threading.Thread(target=pair.step, args=(30,))
    worker.start()
    time.sleep(0.05)
    frame, history = pair.snapshot()
    assert frame.step == pair.run.step_count == pair.twin.step_count == history[-1][0] == 30
    worker.join()


# ---------------------------------------------------------------------- the experiment, through the CLI
def test_cli_writes_the_csv_and_every_variant_trains_above_half_accuracy(tmp_path, capsys):
    out = tmp_path / "variants.csv"
    assert main(["experiment", "variants", "--seeds", "1", "--steps", "200", "--csv", str(out)]) == 0
    df = pd.read_csv(out)
    assert set(df.columns) >= {"family", "variant", "p", "seed", "test_acc", "test_loss"}
    seen = set(zip(df["family"], df["variant"]))
    assert seen == {(f, v) for f, vs in FAMILIES.items() for v in vs}
    assert set(df.loc[df["variant"] == "none", "p"]) == {0.0} and set(df.loc[df["variant"] != "none", "p"]) == {0.5}
    low = df[df["test_acc"] <= 0.5]
    assert low.empty, low.to_string()
    said = capsys.readouterr().out
    assert "10 rows" not in said  # DropConnect's moment-matching rows come too: 11
    # the closing line names what was trained: digits (the default config's data set is moons)
    assert "(digits n=500, dense/conv/RNN nets, p=0.5 inverted, first seed=0, 1 seed, 200 iterations" in said
    assert "moons" not in said


def test_a_bad_block_size_is_one_clear_sentence():
    from dropviz.config import Config
    from dropviz.experiments import EXPERIMENTS
    with pytest.raises(ValueError, match="block_size=0 is out of range"):
        EXPERIMENTS["variants"].run(Config(), seeds=1, steps=1, block_size=0)


# ---------------------------------------------------------------------- figures
def _frame(family, variant, steps=2):
    pair = Pair(Spec(family, variant, 0.5, block_size=2), data=DATA)
    pair.step(steps)
    return pair


def test_the_conv_figure_crosses_out_exactly_the_dropped_positions_and_channels():
    for variant in ("standard", "channel", "block", "none"):
        frame = _frame("conv", variant).frame
        fig = fv.conv_maps_figure(frame)
        go.Figure(fig.to_dict())
        scatters = [t for t in fig.data if t.type == "scatter"]
        crosses = [t for t in scatters if t.mode == "markers"]
        marked = len(crosses[0].x) if crosses else 0
        whole = sum(1 for t in scatters if t.mode == "lines" and t.fill is None)
        expected_whole = sum(int((m == 0).reshape(len(m), -1).all(1).sum()) for m in frame.masks if m is not None)
        expected_marked = sum(int((m == 0).sum()) for m in frame.masks if m is not None) - 64 * expected_whole
        assert (marked, whole) == (expected_marked, expected_whole), variant
        if variant == "channel":
            assert marked == 0


def test_the_rnn_figure_draws_the_time_by_unit_masks():
    frame = _frame("recurrent", "variational").frame
    fig = fv.rnn_mask_figure(frame)
    go.Figure(fig.to_dict())
    grid = np.asarray(fig.data[1].z)
    assert grid.shape == (8, 64) and np.array_equal(grid, frame.masks[1])
    assert (grid == grid[0]).all()  # vertical stripes
    assert "stripes" in fig.layout.title.text


def test_the_dense_figures_draw_dropped_units_or_dropped_edges():
    standard, connect = _frame("dense", "standard").frame, _frame("dense", "dropconnect").frame
    names = {t.name for t in fv.dense_figure(standard).data}
    assert "dropped unit" in names and "dropped edge" not in names
    names = {t.name for t in fv.dense_figure(connect).data}
    assert "dropped edge" in names and "dropped unit" not in names
    assert connect.moment_acc is not None and standard.moment_acc is None


def test_the_rescaling_figure_shows_the_training_factor_and_the_test_factor():
    for mode, train, test in (("inverted", "×2.00", "×1"), ("classic", "×1", "×0.50")):
        pair = Pair(Spec("conv", "standard", 0.5, mode), data=DATA)
        fig = fv.rescale_figure(pair.frame)
        go.Figure(fig.to_dict())
        assert fig.data[0].x[2].endswith(train) and fig.data[0].x[3].endswith(test)
        lv = pair.frame.levels
        assert lv["scaled"] == pytest.approx(lv["dropped"] * pair.frame.train_factor)
        assert lv["test"] == pytest.approx(lv["computed"] * pair.frame.test_factor)


def test_the_curves_and_experiment_figures_validate():
    pair = _frame("conv", "block", 3)
    go.Figure(fv.curves_figure(pair.history, pair.spec).to_dict())
    df = pd.DataFrame([dict(family=f, variant=v, p=0.5, seed=s, test_acc=0.8 + 0.01 * s, test_loss=0.5,
                            test_rule="scaling") for f, vs in FAMILIES.items() for v in vs for s in range(3)])
    go.Figure(fv.variants_figure(df).to_dict())


def test_the_interval_is_the_student_t_interval_and_gains_are_paired():
    mean, hw = fv.interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and hw == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)
    df = pd.DataFrame(dict(family="conv", variant=["none", "none", "block", "block"], seed=[0, 1, 0, 1],
                           test_acc=[0.5, 0.9, 0.6, 1.0], test_loss=1.0, test_rule="scaling"))
    row = fv.summary(df).set_index("variant").loc["block"]
    assert row["gain"] == pytest.approx(0.1) and row["gain_pm"] == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------- URL settings
@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["family", "variant", "p", "mode", "block", "seed"]),
                       st.one_of(st.text(max_size=30), st.lists(st.text(max_size=10), min_size=1, max_size=3))))
def test_any_url_gives_valid_settings_and_one_sentence_per_bad_value(params):
    s, warnings = from_query(params)
    assert s.variant in FAMILIES[s.family] and 0 <= s.p <= 0.95 and 1 <= s.block <= 8
    assert len(warnings) <= len(params)
    assert all("\n" not in w and "=" in w for w in warnings)


def test_a_url_restores_the_settings():
    s = Settings("recurrent", "variational", 0.25, "classic", 3, 7)
    assert from_query(s.query()) == (s, [])


# ---------------------------------------------------------------------- the page
def test_the_variants_page_renders_steps_and_plays_and_pauses():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"family": "conv", "variant": "block", "p": "0.3", "block": "2"})
    at.run()
    assert not at.exception and not at.error
    play = at.session_state["v_playback"]
    assert play.pair.spec == Spec("conv", "block", 0.3, "inverted", 2) and play.pair.frame.step == 0
    at.button(key="v_step").click().run()
    assert play.pair.frame.step == 1
    at.button(key="v_play").click().run()
    assert at.button(key="v_pause").label == "❚❚ Pause" and at.button(key="v_step").disabled
    assert play.playing and play.pull(1) == FRAMES_PER_PULL  # the browser's first request: frames computed now
    at.button(key="v_pause").click().run()
    assert at.button(key="v_play").label == "▶ Play" and not play.playing
    paused = play.pair.frame.step
    at.run()
    assert play.pull(2) == 0 and play.pair.frame.step == paused  # paused: nothing trains
    assert len(at.expander) == 1  # paused: the panels as Plotly charts, to download
    for family in FAMILIES:
        at.sidebar.radio(key="v_family").set_value(family).run()
        assert not at.exception and not at.error
        assert at.query_params["family"] in (family, [family])
        assert at.session_state["v_playback"].pair.spec.family == family


def test_a_bad_url_value_warns_in_one_sentence_and_keeps_the_default():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"family": "conv", "p": "1.5", "variant": "[x](http://example.invalid)"})
    at.run()
    assert not at.exception and not at.error
    warnings = [w.value.replace("\\", "") for w in at.warning]
    assert any("p=1.5" in w and "0 to 0.95" in w for w in warnings)
    assert any("variant=" in w and "none, standard, channel, block" in w for w in warnings)
    assert at.session_state["v_playback"].pair.spec == Spec("conv", "channel", 0.3)
