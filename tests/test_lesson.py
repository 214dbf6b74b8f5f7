"""The guided lesson: its structure and wording, and each step's claim checked on the step's own setup.

Every claim test opens the step as the page does (`open_session`: the step's Config, speed and warm-up)
and checks what the step says happens. The setups and margins were chosen so each claim holds on seeds
0, 1 and 2 and with differently drawn masks; by default the tests run the step's own seed (0).
To check other seeds:  LESSON_SEEDS=0,1,2 python -m pytest tests/test_lesson.py
No test asserts a timing.
"""
import dataclasses
import itertools
import os
import re

import numpy as np
import pytest
import torch
from torch import nn

from dropviz.config import Config
from dropviz.lesson import STEPS, LessonStep, Setup, open_session
from dropviz.live.page_state import PANELS
from dropviz.live.session import SPEED_BY_KEY
from dropviz.trainer import Trainer

torch.set_num_threads(1)

SEEDS = tuple(int(s) for s in os.environ.get("LESSON_SEEDS", "0").split(","))
# The same pattern as tests/test_teaching_text.py (re-declared so this file stands alone): "multiplied
# by p", "scaled down by p", "rescaled by a factor of p", "times p" are wrong when p is the drop
# probability. A quoted phrase (naming what some texts say) is not a claim.
WRONG = re.compile(r'(?<!")\b(?:multipl\w*|(?:re)?scal\w*)\s+(?:down\s+|up\s+)?by\s+(?:a\s+factor\s+(?:of\s+)?)?p\b'
                   r'|\btimes\s+p\b', re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def step(number: int) -> LessonStep:
    """Step `number`, counting from 1 as the page does."""
    return STEPS[number - 1]


@pytest.fixture(params=SEEDS, ids=lambda s: f"seed{s}")
def seed(request):
    return request.param


def opened(number: int, seed: int):
    """The live session step `number` opens with (its own seed replaced by `seed`)."""
    s = step(number)
    setup = dataclasses.replace(s.setup, config=s.setup.config.replace(seed=seed))
    return open_session(dataclasses.replace(s, setup=setup))


def play_until(live, last_step: int):
    """Press Play until iteration `last_step`: (main frame, twin frame) of every displayed frame."""
    out = []
    while live.step_count < last_step:
        out.append((live.tick(), live.twin.frame))
    return out


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


# ---------------------------------------------------------------------------------------------- structure

def test_ten_steps_in_the_seed_explainers_order():
    assert len(STEPS) == 10
    keys = ["forward pass", "mask", "1/(1-p)", "backpropagation", "test time", "overfitting",
            "choosing p", "costs", "why it works", "where"]
    for s, key in zip(STEPS, keys):
        assert key in s.title.lower(), (s.title, key)


def test_titles_are_short_and_unique():
    titles = [s.title for s in STEPS]
    assert len(set(titles)) == len(titles)
    assert all(0 < len(t) <= 45 for t in titles), titles


@pytest.mark.parametrize("s", STEPS, ids=lambda s: s.title)
def test_texts_are_short_enough_for_a_projector(s):
    assert 2 <= len(SENTENCE_END.findall(s.text)) <= 4, s.text
    assert 1 <= len(SENTENCE_END.findall(s.answer)) <= 2, s.answer
    assert s.question.endswith("?") and s.question.count("?") == 1, s.question
    for sentence in sentences(s.text) + sentences(s.answer) + sentences(s.question):
        assert len(sentence.split()) <= 25, sentence
    assert s.claim


@pytest.mark.parametrize("s", STEPS, ids=lambda s: s.title)
def test_setup_is_valid(s):
    setup = s.setup
    assert isinstance(setup.config, Config)
    assert Config.from_query(setup.config.to_query()) == (setup.config, [])  # also a shareable URL
    assert setup.speed in SPEED_BY_KEY
    assert setup.panel in PANELS
    assert isinstance(setup.test_time, bool)
    assert isinstance(setup.warmup, int) and setup.warmup >= 0


def test_a_step_names_its_panel_as_the_url_does():
    # one name per panel, the presenter view's panel= (the stage and the URL); no other spelling loads
    assert {s.setup.panel for s in STEPS} <= set(PANELS) and "gradient" in {s.setup.panel for s in STEPS}
    with pytest.raises(ValueError, match="gradients"):
        Setup(STEPS[0].setup.config, speed="1-per-s", panel="gradients", test_time=False)


@pytest.mark.parametrize("s", STEPS, ids=lambda s: s.title)
def test_p_is_never_what_anything_is_scaled_by(s):
    for text in (s.title, s.text, s.question, s.answer, s.claim):
        assert not WRONG.search(" ".join(text.split())), text


def test_numbers_in_the_texts_match_the_setups():
    """Whoever changes a step's Config sees here which sentence to change with it."""
    def cfg(n):
        return step(n).setup.config

    def words(n):
        s = step(n)
        return f"{s.text} {s.question} {s.answer}"

    hidden = {n: cfg(n).depth * cfg(n).width for n in range(1, 11)}
    expected = {
        1: ["two hidden layers" if cfg(1).depth == 2 else "?", f"{cfg(1).width} neurons", f"p = {cfg(1).p:g}"],
        2: [f"p = {cfg(2).p:g}", f"{hidden[2]} hidden neurons", f"About {hidden[2] * cfg(2).p:g}"],
        3: [f"here by {1 / (1 - cfg(3).p):g}"],
        4: [],
        5: [f"p = {cfg(5).p:g}", f"1-p = {1 - cfg(5).p:g}"],
        6: [f"two layers of {cfg(6).width}" if cfg(6).depth == 2 else "?", f"{cfg(6).n_train} noisy points"],
        7: [f"p = {cfg(7).p:g}", f"{cfg(7).n_train} points"],
        8: [],
        9: [f"{hidden[9]} hidden neurons", f"2^{hidden[9]}"],
        10: ["8x8" if cfg(10).dataset == "digits" else "?"],
    }
    for n, phrases in expected.items():
        for phrase in phrases:
            assert phrase in words(n), (n, phrase)


def test_the_wrong_statement_is_only_quoted_and_corrected():
    s = step(5)
    assert '"scaled down by p"' in s.question
    assert "1-p = 0.8" in s.answer and "2014" in s.answer and "keeping" in s.answer
    assert s.setup.config.p != 0.5  # at p = 0.5, p and 1-p coincide and the mistake cannot be seen


def test_open_session_trains_the_warmup_and_records_it():
    s = step(4)
    live = open_session(s)
    assert live.step_count == s.setup.warmup and live.twin.step_count == s.setup.warmup
    assert live.speed_key == s.setup.speed
    assert [h["step"] for h in live.trainer.history] == list(range(0, s.setup.warmup + 1, 10))
    fresh = open_session(step(1))
    assert fresh.step_count == 0 and fresh.cfg == step(1).setup.config


# ---------------------------------------------------------------------------------------------- claims

def test_step1_one_forward_pass_with_nothing_dropped(seed):
    live = opened(1, seed)
    frame, model = live.frame, live.trainer.model
    assert frame.step == 0 and live.cfg.p == 0
    h = torch.from_numpy(frame.x)
    with torch.no_grad():
        for layer, lf in zip(model.hidden, frame.layers):
            assert lf.mask.all()  # nothing dropped
            h = torch.relu(layer(h))  # by hand, layer by layer
            np.testing.assert_allclose(lf.pre, h.numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_array_equal(lf.post, lf.pre)
        probs = torch.softmax(model.out(h), 0).numpy()
    np.testing.assert_allclose(frame.output, probs, rtol=1e-5, atol=1e-6)
    assert frame.output.sum() == pytest.approx(1, abs=1e-6)
    np.testing.assert_allclose(frame.output, frame.test_output, rtol=1e-5, atol=1e-6)  # p = 0: no difference


def test_step2_new_mask_each_iteration_dropped_fraction_near_p_outputs_never_dropped(seed):
    live = opened(2, seed)
    p, ticks = live.cfg.p, 60
    masks = []
    for _ in range(ticks):
        out = live.trainer.model.out
        w, b = out.weight.detach().clone(), out.bias.detach().clone()  # the weights this pass uses
        frame = live.tick()
        assert frame.tracked_in_batch
        masks.append(np.concatenate([lf.mask for lf in frame.layers]))
        for lf in frame.layers:
            assert np.all(lf.post[~lf.mask] == 0)  # a dropped neuron sends 0
        # every output neuron takes part: the output is the full output layer applied to the last layer
        probs = torch.softmax(w @ torch.from_numpy(frame.layers[-1].post) + b, 0).numpy()
        np.testing.assert_allclose(frame.output, probs, rtol=1e-4, atol=1e-6)
    masks = np.array(masks)
    assert live.step_count == ticks  # slow motion: one iteration a step
    assert all((a != b).any() for a, b in itertools.pairwise(masks)), "consecutive masks should differ"
    dropped = 1 - masks.mean()
    bound = 4 * np.sqrt(p * (1 - p) / masks.size)  # 4 standard deviations of a binomial fraction
    assert abs(dropped - p) < bound, (dropped, p, bound)


def running_mean(frames, layer):
    """As figures/rescale.py computes it: mean over the frames of sum|post| / sum|pre| (frames with pre > 0)."""
    post = np.array([np.sum(np.abs(f.layers[layer].post), dtype=np.float64) for f in frames])
    pre = np.array([np.sum(np.abs(f.layers[layer].pre), dtype=np.float64) for f in frames])
    ok = pre > 0
    return float(np.mean(post[ok] / pre[ok])), int(ok.sum())


def test_step3_running_mean_of_the_rescaled_sum_comes_within_5_percent_of_1(seed):
    live = opened(3, seed)
    play_until(live, live.step_count + 100)  # "after about 100 iterations"
    frames = list(live.recent)  # what the page hands the rescaling panel
    assert len(frames) == 100 and frames[-1].step == live.step_count
    for layer in range(live.cfg.depth):
        mean, n = running_mean(frames, layer)
        assert n >= 90
        assert abs(mean - 1) < 0.05, (layer, mean)
        # one iteration alone is far less reliable: that is why the panel shows a running mean
        single = [running_mean([f], layer)[0] for f in frames[-20:]]
        assert max(abs(r - 1) for r in single) > 0.05


def test_step4_dropped_neurons_get_zero_gradient_yet_their_weights_move(seed):
    live = opened(4, seed)
    assert live.step_count == step(4).setup.warmup
    active_dropped = moved = kept_with_gradient = 0
    for _ in range(20):
        before = [layer.weight.detach().clone() for layer in live.trainer.model.hidden]
        frame = live.tick()
        for lf, layer, w in zip(frame.layers, live.trainer.model.hidden, before):
            dropped = ~lf.mask
            assert np.all(lf.grad[dropped] == 0), "exactly zero gradient from the tracked example"
            changed = (layer.weight.detach() != w).any(1).numpy()  # weights into each neuron
            active = dropped & (lf.pre > 0)  # dropped, though it would have fired for this example
            active_dropped += int(active.sum())
            moved += int((active & changed).sum())
        kept_with_gradient += sum(int(np.sum(lf.grad[lf.mask] != 0)) for lf in frame.layers)
    assert kept_with_gradient > 0  # kept neurons do get gradients (not in every frame: a kept one may be inactive)
    # the other examples of the batch drew their own masks and kept these neurons (measured: all of them)
    assert active_dropped >= 20
    assert moved >= 0.9 * active_dropped, (moved, active_dropped)


def forward_by_hand(model, x, factor):
    """Test time by hand: every neuron on, each hidden layer's output multiplied by `factor`."""
    h = torch.from_numpy(x)
    for layer in model.hidden:
        h = torch.relu(layer(h)) * factor
    return torch.softmax(model.out(h), 1).numpy()


def test_step5_test_time_drops_nothing_and_classic_is_inverted_with_weights_times_keep(seed):
    """The invariant: a classic-mode network at test time (activations x (1-p)) computes exactly what the
    inverted-mode network with the same weights computes after its hidden layers' outgoing weights are
    multiplied by the keep probability 1-p (the 2014 paper's weight scaling, its p being our 1-p).
    Multiplying them by p instead gives a different network."""
    live = opened(5, seed)
    classic, cfg = live.trainer, live.cfg
    assert cfg.mode == "classic" and step(5).setup.test_time
    keep, x = 1 - cfg.p, classic.data.x_test
    frame = live.frame
    for lf in frame.layers:
        assert lf.test_scale == pytest.approx(keep)
        np.testing.assert_allclose(lf.test_post, lf.test_pre * keep, rtol=1e-6)
    probs = classic.predict(x)
    np.testing.assert_array_equal(probs, classic.predict(x))  # no mask: the same every time
    with torch.no_grad():
        np.testing.assert_allclose(probs, forward_by_hand(classic.model, x, keep), atol=1e-5)

    def inverted_with_outgoing_weights_times(factor):
        inverted = Trainer(cfg.replace(mode="inverted"), data=classic.data)
        inverted.model.load_state_dict(classic.model.state_dict())
        with torch.no_grad():
            for layer in [*inverted.model.hidden[1:], inverted.model.out]:
                layer.weight.mul_(factor)
        return inverted

    inverted = inverted_with_outgoing_weights_times(keep)
    assert all(lf.test_scale == 1 for lf in inverted.frame.layers)  # inverted: nothing rescaled at test time
    np.testing.assert_allclose(inverted.predict(x), probs, atol=1e-5)
    wrong = inverted_with_outgoing_weights_times(cfg.p).predict(x)
    assert np.abs(wrong - probs).mean() > 0.1  # measured about 0.3


def test_step6_twin_test_loss_passes_the_dropout_runs_within_the_named_iterations(seed):
    s = step(6)
    named = int(re.search(r"within about (\d+) iterations", s.text, re.IGNORECASE).group(1))
    last = int(re.search(r"after (\d+) iterations", s.question, re.IGNORECASE).group(1))
    live = opened(6, seed)
    frames = play_until(live, last)
    gap = {f.step: t.test_loss - f.test_loss for f, t in frames}  # twin minus dropout run
    assert min(g for i, g in gap.items() if i < named) <= 0, "the twin should start at or below"
    assert all(g > 0 for i, g in gap.items() if i >= named), \
        {i: round(g, 3) for i, g in gap.items() if i >= named and g <= 0}
    assert gap[max(gap)] > 0.05
    twin = [t.test_loss for _, t in frames]
    assert twin[-1] > min(twin) + 0.1  # the twin's test loss climbs
    assert frames[-1][1].clean_train_loss < frames[-1][0].clean_train_loss  # the twin fits the training set


def test_step7_too_much_dropout_underfits_and_a_moderate_p_does_better(seed):
    live = opened(7, seed)
    assert live.cfg.p == 0.9
    frames = play_until(live, 400)
    later = [(f, t) for f, t in frames if f.step >= 300]
    assert min(f.clean_train_loss - t.clean_train_loss for f, t in later) > 0.1
    assert min(f.clean_train_loss for f, _ in later) > 0.2  # stays high, not just slower
    moderate = Trainer(live.cfg.replace(p=0.5), data=live.trainer.data)
    moderate.step(400)
    assert moderate.frame.test_loss < live.frame.test_loss - 0.05
    assert moderate.frame.test_acc > live.frame.test_acc


def iterations_to(frames, loss):
    return next((f.step for f in frames if f.clean_train_loss <= loss), None)


def test_step8_dropout_converges_slower_and_seeds_vary_but_reproduce(seed):
    live = opened(8, seed)
    frames = []
    while live.step_count < 700 and (not frames or frames[-1][0].clean_train_loss > 0.15):
        frames.append((live.tick(), live.twin.frame))  # Play until the dropout run gets there
    drop = iterations_to([f for f, _ in frames], 0.15)
    twin = iterations_to([t for _, t in frames], 0.15)
    assert twin is not None and drop is not None, (twin, drop)
    assert drop >= 1.25 * twin, (drop, twin)  # measured about 1.5x

    cfg = live.cfg

    def losses(c):
        t = Trainer(c)
        for _ in range(5):
            t.step(10)
        return [h["test_loss"] for h in t.history]

    assert losses(cfg) == losses(cfg)  # the same seed: bit for bit
    other = losses(cfg.replace(seed=cfg.seed + 1))
    assert other != losses(cfg) and abs(other[-1] - losses(cfg)[-1]) > 1e-4


def test_step9_scaled_pass_approximates_the_ensemble_of_thinned_networks(seed):
    s = step(9)
    live = opened(9, seed)
    cfg, trainer = live.cfg, live.trainer
    hidden = cfg.depth * cfg.width
    assert f"2^{hidden}" in s.text and 2 ** hidden > 4e9  # "over four billion"
    x = trainer.data.x_test
    single = trainer.predict(x)
    mean, std = trainer.predict(x, samples=100)
    diff = np.abs(single - mean)[:, 1]
    assert diff.mean() < 0.1, diff.mean()  # "a few hundredths"
    assert diff.mean() < std[:, 1].mean()  # closer to the average than one thinned network is
    assert (single.argmax(1) == mean.argmax(1)).mean() >= 0.98
    # a new thinned network nearly every iteration: in 100 iterations no mask repeats
    masks = {np.concatenate([lf.mask for lf in live.tick().layers]).tobytes() for _ in range(100)}
    assert len(masks) == 100


def test_step10_dense_networks_one_mask_entry_per_neuron(seed):
    s = step(10)
    text = s.text.lower()
    assert "dense" in text and "channel" in text and "time step" in text and "share" in text
    live = opened(10, seed)
    model, frame = live.trainer.model, live.frame
    assert live.trainer.data.image_shape == (8, 8)
    assert all(isinstance(m, nn.Linear) for m in [*model.hidden, model.out])  # dense layers only
    for lf in frame.layers:
        assert lf.mask.shape == (live.cfg.width,)  # one mask entry per neuron
        assert 0 < lf.mask.sum() < live.cfg.width
    assert frame.test_acc > 0.7  # the dense network with dropout learns the digits
