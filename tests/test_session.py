"""LiveSession: the main run and its p = 0 twin, live vs structural changes, ghosts, divergence; LivePage."""
import time

import numpy as np
import pytest
import torch

from dropviz import Config, Trainer
from dropviz.live import session as session_module
from dropviz.live.page_state import LivePage
from dropviz.live.session import DEFAULT_SPEED, MAX_GHOSTS, SPEED_BY_KEY, LiveSession, speed_from_query, twin_config

SMALL = Config(n_train=40, width=16, depth=2, batch_size=16)


def weights(trainer):
    return [p.detach().clone() for p in trainer.model.parameters()]


def test_twin_starts_from_identical_weights_without_dropout():
    live = LiveSession(SMALL)
    assert live.twin.cfg.p == 0 and live.twin.cfg.input_p == 0
    assert live.twin.cfg.replace(p=SMALL.p, input_p=SMALL.input_p) == SMALL
    for a, b in zip(weights(live.trainer), weights(live.twin)):
        assert torch.equal(a, b)


def test_main_and_twin_step_in_lockstep_and_twin_is_a_plain_p0_run():
    live = LiveSession(SMALL)
    live.step(7)
    assert live.trainer.step_count == live.twin.step_count == 7
    assert [h["step"] for h in live.trainer.history] == [h["step"] for h in live.twin.history]
    alone = Trainer(twin_config(SMALL))
    alone.step(7)
    assert live.twin.frame.test_loss == alone.frame.test_loss  # same weights, batches: bit for bit
    assert live.trainer.frame.test_loss != alone.frame.test_loss  # dropout made a difference


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_stacking_the_twin_with_the_run_changes_neither(optimizer):
    """The run and its twin train in one stacked pass; each is, bit for bit, the Trainer of its own config, through
    live changes of p, input_p and the learning rate (the twin takes the learning rate only)."""
    cfg = SMALL.replace(optimizer=optimizer, lr=0.01 if optimizer == "adam" else 0.1)
    live = LiveSession(cfg)
    run, twin = Trainer(cfg), Trainer(twin_config(cfg))
    for changes in ({}, {"p": 0.2}, {"lr": cfg.lr / 2, "input_p": 0.1}):
        if changes:
            live.apply(live.cfg.replace(**changes))
            run.update(**changes)
            twin.update(**{k: v for k, v in changes.items() if k == "lr"})
        live.step(5)
        run.step(5)
        twin.step(5)
        assert [dict(r) for r in live.trainer.history] == [dict(r) for r in run.history]
        assert [dict(r) for r in live.twin.history] == [dict(r) for r in twin.history]
    assert live.twin.cfg == twin_config(live.cfg) and live.twin.cfg.lr == cfg.lr / 2
    for a, b in zip(weights(live.twin), weights(twin)):
        assert torch.equal(a, b)
    assert np.array_equal(live.frame.layers[0].mask, run.frame.layers[0].mask)


def test_a_twin_that_blows_up_ends_its_curve_and_the_run_goes_on():
    live = LiveSession(SMALL)
    live.step(3)
    with torch.no_grad():
        live.trainer.runs.weights[-1][1] *= 1e12  # the twin's output layer only: its loss blows up
    live.step(4)
    assert live.twin.diverged and live.twin.frame.diverged and live.twin.step_count == 3
    assert not live.diverged and live.step_count == 7
    assert [r["step"] for r in live.twin.history] == [0, 3]  # its curve ends where it was last finite
    alone = Trainer(SMALL)
    alone.step(3)
    alone.step(4)
    assert live.frame.test_loss == alone.frame.test_loss  # the run is untouched by its twin's fate
    live.step(2)
    assert live.step_count == 9 and live.twin.step_count == 3


def test_play_frames_returns_each_frame_with_its_twin_frame_scored_five_times_a_second():
    """At full speed (25 frames/s) the test set is scored on every 5th frame; the frames between show the last
    scored numbers, with the twin's of the same iteration, and add no point to the curves."""
    live = LiveSession(SMALL, speed="2 iterations per frame")
    live.play()
    pairs = live.play_frames(12)
    assert [f.step for f, _ in pairs] == list(range(2, 25, 2))
    scored = [f.step for f, _ in pairs if f.scored_at is None]
    assert scored == [10, 20]
    for frame, twin in pairs:
        assert twin.step == (frame.step if frame.scored_at is None else frame.scored_at)
        assert frame.scored_at in (None, max([0, *[s for s in scored if s < frame.step]]))
    assert [r["step"] for r in live.trainer.history] == [0, 10, 20] == [r["step"] for r in live.twin.history]
    live.pause()  # a paused frame has its own numbers
    assert live.frame.scored_at is None and live.twin.frame.step == 24 and live.trainer.history[-1]["step"] == 24


def test_play_frames_does_nothing_when_paused():
    live = LiveSession(SMALL)
    assert live.play_frames(5) == []
    assert live.step_count == 0


def test_live_change_keeps_the_run_and_marks_p():
    live = LiveSession(SMALL)
    live.step(5)
    trainer, before = live.trainer, weights(live.trainer)
    assert live.apply(SMALL.replace(p=0.2, lr=0.003)) == "live"
    assert live.trainer is trainer and live.step_count == 5
    assert all(torch.equal(a, b) for a, b in zip(before, weights(live.trainer)))
    assert live.trainer.cfg.p == 0.2
    assert live.p_changes == [(5, 0.2)]
    assert live.twin.cfg.p == 0 and live.twin.opt.param_groups[0]["lr"] == 0.003
    assert live.trainer.opt.param_groups[0]["lr"] == 0.003
    assert not live.ghosts


def test_structural_change_starts_a_new_run_and_keeps_a_ghost():
    live = LiveSession(SMALL)
    live.step(4)
    old_label, old_history = SMALL.label(), list(live.trainer.history)
    assert live.apply(SMALL.replace(depth=3)) == "new run"
    assert live.step_count == 0 and live.twin.step_count == 0
    assert len(live.trainer.frame.layers) == 3
    assert [g["label"] for g in live.ghosts] == [old_label]
    assert live.ghosts[0]["history"] == old_history and live.ghosts[0]["style"] == "ghost"
    assert live.p_changes == []


def test_same_settings_change_nothing_and_untrained_runs_leave_no_ghost():
    live = LiveSession(SMALL)
    assert live.apply(SMALL) == "same"
    live.apply(SMALL.replace(seed=3))
    assert not live.ghosts


def test_ghosts_keep_only_the_last_few_runs():
    live = LiveSession(SMALL)
    for seed in range(1, MAX_GHOSTS + 3):
        live.step(1)
        live.apply(SMALL.replace(seed=seed))
    labels = [g["label"] for g in live.ghosts]
    assert len(labels) == MAX_GHOSTS
    assert labels[-1] == SMALL.replace(seed=MAX_GHOSTS + 1).label()
    styles = [r["style"] for r in live.runs()]
    assert styles == ["ghost"] * MAX_GHOSTS + ["main", "twin"]


def test_reset_starts_again_paused_and_keeps_the_old_run_as_ghost():
    live = LiveSession(SMALL)
    live.play()
    live.step(3)
    live.reset()
    assert live.step_count == 0 and not live.playing and len(live.ghosts) == 1


def test_divergence_pauses_with_a_message_naming_the_learning_rate():
    live = LiveSession(Config(optimizer="sgd", lr=50))
    live.play()
    for _ in range(20):
        live.play_frames()
        if not live.playing:
            break
    assert live.diverged and not live.playing
    assert "learning rate" in live.message and "Reset" in live.message
    steps = live.step_count
    live.play()
    assert not live.playing  # cannot play a diverged run
    live.step(3)
    assert live.step_count == steps


def test_speed_from_query():
    assert speed_from_query("5-per-frame") == (SPEED_BY_KEY["5-per-frame"].label, None)
    speed, warning = speed_from_query("warp")
    assert speed == DEFAULT_SPEED and "speed='warp'" in warning and "1-per-s" in warning
    with pytest.raises(ValueError, match="speed"):
        LiveSession(SMALL).set_speed("warp")


def test_slow_motion_is_one_frame_per_rerun_and_fast_speeds_compute_several():
    live = LiveSession(SMALL, speed="slow motion: 1 iteration/s")
    assert live.frames_per_rerun == 1 and live.rerun_interval == 1.0
    live.set_speed("1 iteration per frame")
    assert live.frames_per_rerun > 1
    assert live.rerun_interval == pytest.approx(live.frames_per_rerun * live.interval)


def test_play_button_toggles_and_step_button_pauses_then_does_one_iteration():
    live = LiveSession(Config(width=8))
    live.toggle()
    assert live.playing
    before = live.step_count
    live.step_once()
    assert not live.playing and live.step_count == before + 1
    live.toggle()
    live.toggle()
    assert not live.playing


def test_the_page_asks_the_session_not_the_trainer():
    live = LiveSession(SMALL)
    live.step(3)
    assert live.data is live.trainer.data and live.current_pair() == (live.trainer.frame, live.twin.frame)
    assert np.allclose(live.test_predictions(), live.trainer.predict(live.data.x_test))
    grid_x, grid_y, probs, extent = live.grid_prediction(n=20)
    assert probs.shape == (400, 2) and len(grid_x) == len(grid_y) == 20
    xx, yy = np.meshgrid(grid_x, grid_y)
    assert np.allclose(probs, live.trainer.predict(np.c_[xx.ravel(), yy.ravel()]), atol=1e-6)
    assert extent[0] < grid_x[1] and extent[1] > grid_x[-2]


# ---------------------------------------------------------------- the page's state
def test_page_from_query_warns_about_bad_parameters_and_falls_back():
    page = LivePage.from_query({"p": "1.5", "width": "24", "speed": "warp"})
    assert page.live.cfg == Config(width=24) and page.live.speed == DEFAULT_SPEED
    assert [w.split("=")[0] for w in page.url_warnings] == ["p", "speed"]
    assert page.epoch == 0 and not page.panels_ready and not page.figures


def test_page_figures_are_rebuilt_only_when_they_would_differ():
    page = LivePage(LiveSession(SMALL))
    built = []

    def make():
        built.append(page.live.step_count)
        return f"figure at {page.live.step_count}"

    page.full_run()
    assert page.figure("gradient", make) == "figure at 0"
    assert page.figure("gradient", make) == "figure at 0" and built == [0]  # same inputs: not rebuilt
    page.figure("gradient", make, depends=(2,))
    assert built == [0, 0]  # what it depends on changed
    page.live.step(1)
    page.figure("gradient", make, depends=(2,))
    assert built == [0, 0, 1]  # paused: a new iteration is drawn at once


def test_while_playing_a_full_run_resends_the_last_figure_and_the_timer_updates_it():
    page = LivePage(LiveSession(SMALL))
    page.full_run()
    page.figure("rescale", lambda: "first")
    page.live.play()
    page.live.play_frames(2)
    page.full_run()  # a slider moved while playing: the page runs in full
    assert page.figure("rescale", lambda: "rebuilt") == "first"
    assert page.figure("rescale", lambda: "rebuilt") == "rebuilt"  # the panels' timer, same epoch
    page.live.apply(SMALL.replace(depth=3))  # a new run is never shown with the old run's figure
    page.full_run()
    assert page.figure("rescale", lambda: "new run") == "new run"


def test_while_playing_the_panels_show_the_frame_before_a_request_computes_ahead(monkeypatch):
    """The redraw after a frame request sends the panels as they were just before it computed two seconds of
    frames: the iteration about to be on screen, not the last one computed."""
    monkeypatch.setattr(session_module, "PULL_COMPUTE", 60.0)
    page = LivePage(LiveSession(SMALL))
    live = page.live

    def make(name):
        return lambda: f"{name} at {live.step_count}"

    page.full_run()
    live.play()
    page.pulled = 1
    page.pulled_frames += live.pull()
    assert page.figure("gradient", make("gradient"), (1,)) == "gradient at 75"
    page.figure("rescale", make("rescale"))
    page.figure("digits", make("digits"))
    page.pulled = 2  # the next request, with a redraw of the panels
    page.draw_ahead()
    page.pulled_frames += live.pull()
    assert live.step_count == 225
    assert page.figure("gradient", make("gradient"), (1,)) == "gradient at 75"  # the screen's, built before
    assert page.figure("rescale", make("rescale")) == "rescale at 75"  # the others are no longer drawn
    page.pulled = 3
    page.draw_ahead()
    page.figure("gradient", make("gradient"), (1,))
    live.play_frames(1)
    page.pulled = 4
    page.draw_ahead()
    assert page.figures["digits"].figure == "digits at 75"  # not drawn since: not built again
    assert page.figure("gradient", make("gradient"), (1,)) == "gradient at 228"
    live.play_frames(1)
    page.pulled = 5  # later requests' redraws
    page.draw_ahead()
    live.play_frames(2)
    assert page.figure("gradient", make("gradient"), (1,)) == "gradient at 231"
    assert page.figure("gradient", make("gradient"), (2,)) == "gradient at 237"  # another layer: built now
    live.pause()
    assert page.figure("gradient", make("gradient"), (2,)) == "gradient at 237"
    live.step(1)
    assert page.figure("gradient", make("gradient"), (2,)) == "gradient at 238"  # paused: the engine's frame


def test_draw_ahead_builds_with_the_inputs_the_page_draws_now_and_leaves_a_failure_to_the_redraw(monkeypatch):
    monkeypatch.setattr(session_module, "PULL_COMPUTE", 60.0)
    page = LivePage(LiveSession(SMALL))
    live, built = page.live, []

    def make(layer):
        def build():
            built.append((layer, live.step_count))
            return f"layer {layer} at {live.step_count}"
        return build

    page.full_run()
    live.play()
    page.pulled = 1
    page.pulled_frames += live.pull()
    page.figure("rescale", make(1), (1,))
    page.full_run()  # another layer picked while playing: the full run resends the figure it has
    assert page.figure("rescale", make(2), (2,)) == "layer 1 at 75"
    page.pulled = 2
    page.draw_ahead()  # built with the layer the page draws now
    page.pulled_frames += live.pull()
    assert page.figure("rescale", make(2), (2,)) == "layer 2 at 75" and built == [(1, 75), (2, 75)]

    def broken():
        raise RuntimeError("boom")

    page.figures["rescale"].make = broken
    page.pulled = 3
    page.draw_ahead()  # no exception in the frame request: the redraw builds it again and says what failed
    assert "rescale" not in page.figures
    with pytest.raises(RuntimeError):
        page.figure("rescale", broken, (2,))


def test_a_figure_that_fails_leaves_nothing_cached():
    page = LivePage(LiveSession(SMALL))

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        page.figure("curves", broken)
    assert "curves" not in page.figures and page.figure("curves", lambda: "ok") == "ok"


def test_pull_computes_two_seconds_of_frames_only_while_playing_and_hands_over_each(monkeypatch):
    monkeypatch.setattr(session_module, "PULL_COMPUTE", 60.0)  # however busy the machine running the tests
    live = LiveSession(SMALL, speed="3 iterations per frame")
    assert live.pull() == [] and live.step_count == 0  # paused: nothing
    live.play()
    assert live.frames_per_checkpoint == 25 and live.frames_per_pull == 50  # 1 s and 2 s at 25 frames/s
    first = live.pull()  # the first request after Play: 1 s of frames, so the first shows sooner
    assert [f.step for f, _ in first] == list(range(3, 76, 3))
    pairs = live.pull()
    steps = list(range(78, 226, 3))
    assert [f.step for f, _ in pairs] == steps and sorted({t.step for _, t in pairs}) == [75, *steps[4::5]]
    assert pairs[-1][0] is live.frame and live.step_count == 225 and live.twin.step_count == 225
    live.pause()
    assert live.pull() == [] and live.step_count == 225  # nothing computed after Pause
    live.step_once()
    assert live.step_count == 226
    live.set_speed("slow motion: 1 iteration/s")
    assert live.frames_per_pull == 1


def test_pausing_on_a_pulled_frame_replays_at_most_a_checkpoints_worth(monkeypatch):
    """A pull keeps the state every CHECKPOINT_SECONDS of its frames: Pause on a late frame of a 2 s pull goes back
    from the checkpoint before it (here 69 iterations replayed, not 144) and lands on the same weights."""
    monkeypatch.setattr(session_module, "PULL_COMPUTE", 60.0)
    live = LiveSession(SMALL, speed="3 iterations per frame")
    twin_run = LiveSession(SMALL, speed="3 iterations per frame")
    live.play()
    live.pull()  # to iteration 75
    pairs = live.pull()  # 50 frames, to 225, with checkpoints at 75 and 150
    assert live.frames_per_checkpoint == 25 and pairs[-1][0].step == 225
    replayed = []
    step = live.trainer.step
    monkeypatch.setattr(live.trainer, "step", lambda n=1, score=True: replayed.append(n) or step(n, score))
    assert live.pause_at(219) and live.step_count == 219 and not live.playing
    assert sum(replayed) == 219 - 150
    twin_run.step(219)
    assert all(torch.equal(a, b) for a, b in zip(live.trainer.params, twin_run.trainer.params))


def test_the_live_view_always_ends_on_the_engines_frame(monkeypatch):
    """Pulled frames go out in order, the engine's frame last; frames a pull in an overlapping rerun added
    after a newer state went out (here: after Pause and Step) are dropped, never sent in the Step's place."""
    monkeypatch.setattr(session_module, "PULL_COMPUTE", 60.0)
    page = LivePage(LiveSession(SMALL, speed="3 iterations per frame"))
    live = page.live
    live.play()
    page.pulled_frames += live.pull()
    assert [f.step for f, _ in page.frames_to_send()] == list(range(3, 76, 3))
    assert page.pulled_frames == []
    late = live.pull()  # an overlapping rerun's pull ...
    live.pause()
    assert [f.step for f, _ in page.frames_to_send()] == [225]  # ... whose frames the pause's run sent
    page.pulled_frames += late  # ... and which adds them only now
    live.step_once()
    sent = page.frames_to_send()
    assert [f.step for f, _ in sent] == [226] and sent[-1] == live.current_pair()
    assert [f.step for f, _ in page.frames_to_send()] == [226]  # nothing pulled: the engine's frame


def test_play_id_counts_presses_of_play():
    live = LiveSession(SMALL)
    live.play()
    live.play()  # already playing: the same play
    first = live.play_id
    live.pause()
    live.play()
    assert live.play_id == first + 1


def test_clear_ghosts_keeps_this_run():
    live = LiveSession(SMALL)
    live.step(2)
    live.apply(SMALL.replace(depth=1))
    live.step(2)
    assert len(live.ghosts) == 1
    live.clear_ghosts()
    assert not live.ghosts and live.step_count == 2 and [r["style"] for r in live.runs()] == ["main", "twin"]


def test_a_frame_gets_fewer_iterations_when_they_would_take_too_long_and_says_why():
    live = LiveSession(SMALL, speed="25 iterations per frame")
    live.play()
    assert live.iterations_per_frame() == 25 and live.shared == ""  # not measured yet: as asked
    live.seconds_per_iteration = session_module.FRAME_SECONDS / 5  # heavy settings: 5 fit in a frame's time
    assert live.iterations_per_frame() == 5 and live.shared == "heavy settings: 5 iterations per frame"
    live.seconds_per_iteration = 10.0  # one iteration is already too long: still one per frame
    assert live.iterations_per_frame() == 1 and live.shared == "heavy settings: 1 iteration per frame"
    frame = live.tick()
    assert frame.step == 1
    live.set_speed("1 iteration per frame")
    assert live.iterations_per_frame() == 1 and live.shared == ""
    live.pause()


def test_runs_playing_together_share_the_training_thread_and_say_so():
    for other in list(session_module._PLAYING):  # runs other tests left playing
        other.pause()
    lives = [LiveSession(SMALL, speed="25 iterations per frame") for _ in range(4)]
    for live in lives:
        live.play()
        live.pulled_at = live.last_pull = time.monotonic()  # their browsers are asking for frames
    live = lives[0]
    # 25 iterations fit in a frame's time for one run alone; 4 runs through one training thread get a quarter each
    live.seconds_per_iteration = session_module.FRAME_SECONDS / 25
    threads = session_module.TRAINING_THREADS
    assert live.iterations_per_frame() == 25 * threads // 4
    assert live.shared == f"shared server: {25 * threads // 4} iterations per frame"
    for other in lives[1:]:
        other.pause()
        other.pulled_at = other.last_pull = 0.0
    assert live.iterations_per_frame() == 25 and live.shared == ""  # alone again: as asked
    live.pause()


def test_a_request_for_frames_takes_at_most_its_time_but_always_one_frame():
    live = LiveSession(SMALL, speed="1 iteration per frame")
    live.play()
    assert len(live.play_frames(5, seconds=0.0)) == 1  # out of time at once: still one frame
    assert len(live.play_frames(5, seconds=60.0)) == 5
    live.pause()


def test_play_is_refused_with_a_sentence_when_the_server_plays_its_most(monkeypatch):
    monkeypatch.setenv("DROPVIZ_MAX_PLAYING", "1")
    first, second = LiveSession(SMALL), LiveSession(SMALL)
    for other in list(session_module._PLAYING):  # runs other tests left playing
        other.pause()
    first.play()
    first.pull()
    second.play()
    assert not second.playing and "busy" in second.busy and "DROPVIZ_MAX_PLAYING" in second.busy
    assert second.pull() == [] and second.step_count == 0
    first.pause()
    second.play()
    assert second.playing and second.busy == ""
    second.pause()
