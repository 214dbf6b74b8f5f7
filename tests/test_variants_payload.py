"""What the browser's Variants view is sent (dropviz/variants/payload.py) and the page's playback
(dropviz/variants/playback.py): the marks are the engine's masks, the words are the Plotly panels', and
the frames sent are those computed, oldest first, the engine's own last."""
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dropviz.figures import variants as fv
from dropviz.live.keys import KEYS, MAX_TIMES, key_help
from dropviz.variants.payload import MAX_POINTS, curves_payload, frame_payload, view_payload
from dropviz.variants.playback import KEY_ACTIONS, Playback
from dropviz.variants.run import FRAMES_PER_PULL, Pair, Spec


@pytest.fixture(scope="module")
def pairs():
    """One stepped pair per variant drawn differently (module scope: training is the slow part)."""
    out = {}
    for family, variant in [("conv", "channel"), ("conv", "block"), ("conv", "none"), ("recurrent", "naive"),
                            ("recurrent", "variational"), ("dense", "standard"), ("dense", "dropconnect"),
                            ("dense", "none")]:
        pair = Pair(Spec(family, variant, 0.4))
        pair.step(3)
        out[family, variant] = pair
    return out


def dropped(text: str) -> np.ndarray:
    return np.array([c == "1" for c in text])


@pytest.mark.parametrize("variant", ["channel", "block", "none"])
def test_conv_marks_exactly_the_dropped_positions_and_whole_channels(pairs, variant):
    frame = pairs["conv", variant].frame
    layers = frame_payload(frame)["masks"]["layers"]
    assert [layer["channels"] for layer in layers] == [len(m) for m in frame.seen]
    for layer, maps, mask in zip(layers, frame.seen, frame.masks):
        assert len(layer["values"]) == maps.size and min(layer["values"]) >= 0 and max(layer["values"]) == 100
        if mask is None:
            assert layer["dropped"] == "" and layer["whole"] == []
            continue
        assert (dropped(layer["dropped"]) == (np.asarray(mask) == 0).ravel()).all()
        assert layer["whole"] == [c for c in range(len(mask)) if (np.asarray(mask[c]) == 0).all()]
    if variant == "channel":
        assert any(layer["whole"] for layer in layers)  # p = 0.4 over 24 channels: some are dropped whole


def test_the_rnn_grids_are_stripes_when_shared_and_noise_when_fresh(pairs):
    for variant in ("variational", "naive"):
        grids = frame_payload(pairs["recurrent", variant].frame)["masks"]["grids"]
        assert [(g["rows"], g["cols"]) for g in grids] == [(8, 8), (8, 64)]
        state = dropped(grids[1]["dropped"]).reshape(8, 64)
        same = all((state[t] == state[0]).all() for t in range(8))
        assert same == (variant == "variational") and state.any()


@pytest.mark.parametrize("variant", ["standard", "dropconnect", "none"])
def test_dense_marks_dropped_edges_or_dropped_units_of_the_drawn_pixels_and_units(pairs, variant):
    frame = pairs["dense", variant].frame
    m = frame_payload(frame)["masks"]
    ins, outs = fv.dense_shown(frame, m["inputs"])
    assert (m["inputs"], m["units"]) == (len(ins), len(outs))
    mask = frame.masks[0]
    if variant == "dropconnect":
        assert m["dropped_units"] == ""
        assert (dropped(m["edges"]).reshape(len(ins), len(outs)) == (mask[np.ix_(ins, outs)] == 0)).all()
    elif variant == "standard":
        assert m["edges"] == "" and (dropped(m["dropped_units"]) == (mask[outs] == 0)).all()
    else:
        assert m["edges"] == m["dropped_units"] == ""


def test_a_frame_says_what_the_plotly_panels_say(pairs):
    for pair in pairs.values():
        frame = pair.frame
        d = frame_payload(frame)
        assert d["counter"] == f"Iteration {frame.step}" and d["title"] == fv.masks_title(frame.spec)
        assert d["subtitle"] == fv.masks_subtitle(frame)
        assert f"{100 * frame.test_acc:.1f}%" in d["metrics"] and fv.variant_label(frame.spec) in d["metrics"]
        assert f"{100 * frame.twin_test_acc:.1f}%" in d["twin"]
        assert d["rescale"]["names"] == fv.rescale_names(frame, "\n")
        assert d["rescale"]["values"] == pytest.approx([frame.levels[k] for k in ("computed", "dropped", "scaled",
                                                                                  "test")], abs=1e-4)
    dc = frame_payload(pairs["dense", "dropconnect"].frame)["metrics"]
    assert "moment matching" in dc


def test_curves_follow_the_history_thinned_and_keep_its_last_row(pairs):
    pair = pairs["conv", "channel"]
    history = [(s, 0.5, 1.0 / (s + 1), 0.6, 0.9 / (s + 1)) for s in range(1000)]
    c = curves_payload(history, pair.spec)
    assert len(c["step"]) <= MAX_POINTS and c["step"][0] == 0 and c["step"][-1] == 999
    assert c["loss"][-1] == pytest.approx(1 / 1000, abs=1e-4) and c["twin_acc"][-1] == 0.6
    assert c["names"] == [fv.variant_label(pair.spec), fv.TWIN_NAME]
    short = curves_payload(pair.history, pair.spec)
    assert short["step"] == [row[0] for row in pair.history]


def test_a_diverged_number_travels_as_null_not_nan(pairs):
    spec = pairs["conv", "channel"].spec
    c = curves_payload([(0, float("nan"), float("inf"), 0.5, 1.0)], spec)
    json.dumps(c, allow_nan=False)
    assert c["acc"] == [None] and c["loss"] == [None]


# ---------------------------------------------------------------------- playback
def test_paused_the_browser_gets_the_engines_frame_and_a_request_trains_nothing():
    play = Playback(Pair(Spec("conv", "channel", 0.3)))
    assert play.pull(1) == 0 and play.pair.frame.step == 0
    d = play.payload()
    assert [f["step"] for f in d["frames"]] == [0] and d["playing"] is False and d["pulled"] == 1
    json.dumps(d, allow_nan=False)


def test_playing_each_request_computes_a_few_frames_now_and_sends_them_oldest_first_the_engines_last():
    play = Playback(Pair(Spec("recurrent", "variational", 0.3)))
    play.play()
    n = play.pull(1)
    assert 1 <= n <= FRAMES_PER_PULL
    d = play.payload()
    assert [f["step"] for f in d["frames"]] == list(range(1, n + 1)) and d["frames"][-1]["step"] == play.pair.frame.step
    assert d["curves"]["step"][-1] == n
    assert [f["step"] for f in play.payload()["frames"]] == [n]  # sent once; after that the engine's frame only
    play.pause()
    play.step()
    assert play.pair.frame.step == n + 1 and play.payload()["playing"] is False


def test_a_new_run_starts_a_new_epoch_and_a_stale_request_number_changes_nothing():
    play = Playback(Pair(Spec("dense", "standard", 0.3)))
    play.play()
    play.pull(3)
    play.new_run(Pair(Spec("dense", "dropconnect", 0.3)))
    d = play.payload()
    assert d["epoch"] == 1 and [f["step"] for f in d["frames"]] == [0] and not d["playing"]
    play.pull(2)
    assert play.pulled == 3  # an older request answered late does not go back


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=8), st.floats(), st.sampled_from([float("inf"), float("nan"), "1e999"]),
                 st.lists(st.integers(), max_size=2)))
def test_any_request_value_from_the_browser_is_a_number_or_ignored(request):
    play = Playback(Pair(Spec("dense", "none", 0.3)))
    play.pull(request)
    assert isinstance(play.pulled, int) and play.pair.frame.step == 0


def test_the_view_payload_is_json(pairs):
    pair = pairs["conv", "block"]
    json.dumps(view_payload([pair.frame], pair.history, pair.spec, 0, 50), allow_nan=False)


def test_within_a_request_only_the_last_frame_is_evaluated_and_the_others_say_from_which_iteration():
    pair = Pair(Spec("conv", "channel", 0.3))
    frames = pair.pull(3, seconds=60)
    assert [f.step for f in frames] == [1, 2, 3] and [row[0] for row in pair.history] == [0, 3]
    assert [f.evaluated_at for f in frames] == [0, 0, None]
    first, last = frame_payload(frames[0]), frame_payload(frames[-1])
    assert first["metrics"].endswith("(iteration 0)") and first["curves_note"].startswith("iteration 0:")
    assert "(iteration" not in last["metrics"] and last["curves_note"].startswith("iteration 3:")
    assert last["metrics"].count(f"{100 * pair.history[-1][1]:.1f}%") == 1


def _played_past(play: Playback, step: int) -> None:
    """Play, and answer the browser's requests until the engine is past iteration `step` (a request computes
    fewer frames on a loaded machine, Pair.pull, and at least one): `step` is among the latest requests'."""
    play.play()
    for request in range(1, step + 2):
        play.pull(request)
        if play.pair.frame.step > step:
            break
    assert play.pair.frame.step > step


def _weights_equal(a: Pair, b: Pair) -> bool:
    return all(torch.equal(x, y) for r, s in ((a.run, b.run), (a.twin, b.twin))
               for x, y in zip(r.net.parameters(), s.net.parameters()))


@pytest.mark.parametrize("family, variant", [("conv", "block"), ("recurrent", "variational"), ("dense", "dropconnect")])
def test_pause_takes_the_engine_back_to_the_frame_on_screen_bit_for_bit(family, variant):
    paused, straight = Playback(Pair(Spec(family, variant, 0.3))), Pair(Spec(family, variant, 0.3))
    _played_past(paused, 3)
    paused.pause_at(3)  # the browser still shows iteration 3 when Pause is pressed: later ones were computed
    d = paused.payload()
    assert not d["playing"] and [f["step"] for f in d["frames"]] == [3] and d["curves"]["step"][-1] == 3
    for _ in range(4):  # from there on, as if the later iterations had never run
        straight.step(1)
    paused.pair.step(1)
    assert paused.pair.frame.step == straight.frame.step == 4
    assert _weights_equal(paused.pair, straight) and paused.pair.history[-1] == straight.history[-1]


def test_pause_at_a_step_it_cannot_go_back_to_pauses_where_the_engine_is():
    play = Playback(Pair(Spec("dense", "standard", 0.3)))
    play.play()
    play.pull(1)
    ahead = play.pair.frame.step  # FRAMES_PER_PULL, fewer on a loaded machine
    for bad in (None, "x", -1, 10**6, float("inf")):
        play.pause_at(bad)
        assert not play.playing and play.pair.frame.step == ahead


# ---------------------------------------------------------------------- the presentation keys
@settings(max_examples=6, deadline=None)
@given(st.integers(0, MAX_TIMES))
def test_the_step_key_pressed_n_times_steps_n_iterations_from_the_frame_on_screen(times):
    keyed, straight = Playback(Pair(Spec("dense", "standard", 0.3))), Pair(Spec("dense", "standard", 0.3))
    _played_past(keyed, 2)
    keyed.pause_at(2)  # Pause with iteration 2 on screen: the keys go on from there
    keyed.key("step", times)
    straight.step(2)
    for _ in range(times):
        straight.step(1)
    assert keyed.pair.frame.step == straight.frame.step == 2 + times
    assert _weights_equal(keyed.pair, straight) and keyed.pair.history[-1] == straight.history[-1]


def test_keys_while_playing_leave_the_run_to_the_browser():
    """→ while playing does nothing (the Step button is disabled then); Space's Play and Pause are the buttons
    the browser presses (view.js), never a toggle here: the key's trigger may come after the Pause that kept
    the frame on screen, and a toggle would start the run again."""
    play = Playback(Pair(Spec("conv", "channel", 0.3)))
    _played_past(play, 2)
    ahead = play.pair.frame.step
    play.key("step", 3)
    play.key("play_pause", 1)
    assert play.playing and play.pair.frame.step == ahead
    play.pause_at(2)
    play.key("play_pause", 1)
    play.key("p_up", 1)  # a key this page does not take
    assert not play.playing and play.pair.frame.step == 2


def test_the_page_takes_space_and_the_step_keys_of_the_one_key_table():
    assert {KEYS[" "], KEYS["ArrowRight"], KEYS["."]} == set(KEY_ACTIONS)
    shown = key_help(KEY_ACTIONS)  # the page's key help names these, and no key it does not take
    assert "Space: Play / Pause" in shown and "→: Step +1" in shown and "↑" not in shown and "PageDown" not in shown
