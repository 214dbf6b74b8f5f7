"""Going back to the frame on screen: a run rewound to iteration S is, bit for bit, the run that stopped at S.

The live view computes about two seconds of frames per request and draws them one by one; at Pause the browser says
which frame it shows, and the session goes back to it (LiveSession.pause_at). These tests pin that the run it goes
back to is exactly the one that never computed the later frames: weights, optimizer, batches, masks, frame, history
and the twin, and that it then goes on exactly as that run would.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dropviz import Config, Trainer
from dropviz.history import History, Row
from dropviz.live.session import LiveSession

SMALL = Config(n_train=40, width=16)


def same_run(a: Trainer, b: Trainer) -> None:
    assert a.step_count == b.step_count
    for x, y in zip(a.params, b.params):
        assert torch.equal(x, y)
    assert [dict(r) for r in a.history] == [dict(r) for r in b.history]
    assert [dict(r) for r in a.twin.history] == [dict(r) for r in b.twin.history]
    fa, fb = a.frame, b.frame
    assert (fa.step, fa.train_loss, fa.test_loss, fa.test_acc) == (fb.step, fb.train_loss, fb.test_loss, fb.test_acc)
    for la, lb in zip(fa.layers, fb.layers):
        assert np.array_equal(la.mask, lb.mask) and np.array_equal(la.grad, lb.grad)
    assert a.twin.frame == b.twin.frame


def frames(trainer: Trainer, sizes) -> list[int]:
    """Steps the trainer frame by frame (sizes: iterations per frame); the step of each frame."""
    return [trainer.step(n).step for n in sizes]


@settings(max_examples=12, deadline=None)
@given(optimizer=st.sampled_from(["sgd", "adam"]), momentum=st.sampled_from([0.0, 0.9]),
       batch_size=st.sampled_from([8, 40]), before=st.lists(st.integers(1, 4), min_size=0, max_size=3),
       after=st.lists(st.integers(1, 4), min_size=1, max_size=6), data=st.data())
def test_a_rewound_run_is_the_run_that_stopped_there(optimizer, momentum, batch_size, before, after, data):
    cfg = Config(n_train=40, width=16, optimizer=optimizer, momentum=momentum, batch_size=batch_size,
                 lr=0.05 if optimizer == "sgd" else 0.01)
    played, stopped = Trainer(cfg, twin=True), Trainer(cfg, twin=True)
    frames(played, before)
    frames(stopped, before)
    checkpoint = played.checkpoint()
    steps = [checkpoint.step, *frames(played, after)]  # the frames the browser may show
    shown = data.draw(st.sampled_from(steps))
    played.rewind(checkpoint, shown)
    frames(stopped, [n for n, s in zip(after, steps[1:]) if s <= shown])
    same_run(played, stopped)
    frames(played, [3, 1])  # and it goes on as that run does
    frames(stopped, [3, 1])
    same_run(played, stopped)


def test_rewind_goes_back_across_a_change_of_settings_to_the_checkpoints():
    trainer = Trainer(SMALL, twin=True)
    trainer.step(2)
    checkpoint = trainer.checkpoint()
    trainer.step(3)
    trainer.update(p=0.2, lr=0.05)
    trainer.step(3)
    trainer.rewind(checkpoint, 5)
    assert (trainer.cfg.p, trainer.cfg.lr) == (Config().p, Config().lr)
    alone = Trainer(SMALL, twin=True)
    alone.step(2)
    alone.step(3)
    same_run(trainer, alone)


def test_rewind_refuses_a_step_outside_the_checkpoint_and_the_run():
    trainer = Trainer(SMALL, twin=True)
    trainer.step(2)
    checkpoint = trainer.checkpoint()
    trainer.step(2)
    for step in (1, 5):
        with pytest.raises(ValueError, match=f"step={step} is out of range: expected 2 to 4"):
            trainer.rewind(checkpoint, step)
    assert trainer.step_count == 4


def test_history_forgets_only_the_rows_after_a_step():
    history = History(recent=4, older=100)
    for step in range(10):
        history.append(Row(step, 0.5, 1.0, 1.0, 1.0, 0.5, 0.5))
    history.drop_after(7)
    assert [r["step"] for r in history] == list(range(8)) and history.recorded == 8
    history.append(Row(8, 0.5, 2.0, 1.0, 1.0, 0.5, 0.5))
    assert [r["step"] for r in history][-2:] == [7, 8]
    with pytest.raises(ValueError, match="no longer recent"):
        history.drop_after(2)


def test_pause_at_the_frame_on_screen_undoes_the_frames_computed_after_it():
    live = LiveSession(SMALL)
    live.play()
    first = [f for f, _ in live.pull()]
    second = [f for f, _ in live.pull()]
    shown = second[len(second) // 2].step  # the browser drew up to here when Pause was pressed
    assert live.pause_at(shown)
    assert not live.playing and live.step_count == shown and live.frame.scored_at is None
    same_run(live.trainer, _replayed(SMALL, [*first, *second], shown))
    assert live.recent[-1].step == shown and all(f.step <= shown for f in live.recent)
    live.step_once()  # Step goes on from the frame on screen
    assert live.step_count == shown + 1


def _replayed(cfg: Config, frames: list, until: int) -> Trainer:
    """A trainer stepped frame by frame like a session's pulls (scoring the frames they scored), stopping at
    `until`, which is scored (a paused frame is)."""
    trainer, last = Trainer(cfg, twin=True), 0
    for frame in frames:
        if frame.step > until:
            break
        trainer.step(frame.step - last, score=frame.scored_at is None or frame.step == until)
        last = frame.step
    return trainer


def test_pause_at_a_frame_it_cannot_go_back_to_pauses_where_it_is():
    live = LiveSession(SMALL)
    live.play()
    first = live.pull()[-1][0].step
    for _ in range(4):
        end = live.pull()[-1][0].step  # the browser shows a frame of the latest requests, never the first's
    for bad in (first - 1, end + 1, "x", None, 10**30):
        live.play()
        assert not live.pause_at(bad)
        assert live.step_count == end and not live.playing


def test_a_change_made_while_an_earlier_frame_was_on_screen_applies_from_that_frame():
    """p raised while the browser showed iteration S, the run already computed past it: going back to S, the new p
    applies from S on, as if the run had been paused there for the change; the chart's marker moves to S."""
    cfg = SMALL
    live = LiveSession(cfg)
    live.play()
    live.pull()
    steps = [f.step for f, _ in live.pull()]
    end, shown = steps[-1], steps[3]
    live.apply(cfg.replace(p=0.2, lr=0.05))  # applied at `end`, the engine's frame
    assert live.p_changes == [(end, 0.2)]
    assert live.rewind(shown)
    assert live.step_count == shown and live.p_changes == [(shown, 0.2)]
    assert live.live_changes == [(shown, {"p": 0.2, "lr": 0.05})]
    assert (live.trainer.cfg.p, live.trainer.cfg.lr) == (0.2, 0.05)
    live.step(5)
    alone = _replayed(cfg, frames_before(live, shown), shown)
    alone.update(p=0.2, lr=0.05)
    alone.step(5)
    same_run(live.trainer, alone)


def frames_before(live: LiveSession, shown: int) -> list:
    return [f for f in live.recent if 0 < f.step <= shown]


def test_going_back_to_a_frame_after_a_change_replays_it_with_the_new_settings():
    cfg = SMALL
    live = LiveSession(cfg, speed="1 iteration per frame")
    live.play()
    live.pull()
    live.apply(cfg.replace(p=0.3))
    changed = live.step_count
    steps = [f.step for f, _ in live.pull()]
    assert live.rewind(steps[2]) and live.p_changes == [(changed, 0.3)]
    alone = Trainer(cfg, twin=True)
    alone.step(changed)
    alone.update(p=0.3)
    alone.step(steps[2] - changed)
    assert all(torch.equal(a, b) for a, b in zip(live.trainer.params, alone.params))
