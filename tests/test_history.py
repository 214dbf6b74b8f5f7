"""The bounded history (dropviz/history.py): recent rows exact, older rows thinned, never more than the bound;
the one thinning rule for charts; and the Trainer, LiveSession and both loss charts reading it."""
import functools
import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dropviz.trainer
from dropviz import Config, Trainer
from dropviz.figures import curves_figure
from dropviz.figures.curves import MAX_POINTS as CHART_POINTS
from dropviz.history import KEYS, OLDER, RECENT, History, Row, thin
from dropviz.live import session as session_module
from dropviz.live.payload import MAX_POINTS as LIVE_POINTS
from dropviz.live.payload import curves_payload
from dropviz.live.session import LiveSession

SMALL = Config(n_train=40, width=16, depth=2, batch_size=16)


def row(number: int, p: float = 0.5) -> Row:
    """A row whose step is its number, so a kept row says which one it is."""
    return Row(number, p, 1.0 / (number + 1), 0.5, 0.7 + number, 0.25, 0.75)


@st.composite
def plays(draw):
    n = draw(st.integers(0, 1500))
    changes = draw(st.sets(st.integers(1, max(1, n - 1)), max_size=6)) if n > 1 else set()
    pins = draw(st.sets(st.integers(0, max(0, n - 1)), max_size=4)) if n else set()
    return n, draw(st.integers(1, 40)), draw(st.integers(1, 40)), changes, pins


@settings(max_examples=60, deadline=None)
@given(plays())
def test_the_bound_holds_for_any_length_and_kept_rows_are_recorded_rows(play):
    n, recent, older, changes, pins = play
    history, rows, p, must = History(recent, older), [], 0.5, set(pins)
    for i in range(n):
        if i in changes:  # p changes here: this row and the one before it are kept exactly
            p = round(1.0 - p, 2) if p != 0.5 else 0.2
            must.update((i - 1, i))
        rows.append(row(i, p))
        history.append(rows[-1], pin=i in pins)
        assert len(history) <= recent + older + len(must)  # at every length, not only at the end
    kept = list(history)
    assert history.recorded == n and len(kept) == len(history)
    if not n:
        return
    numbers = [r["step"] for r in kept]
    assert all(r is rows[i] for r, i in zip(kept, numbers))   # the rows themselves, never new values
    assert numbers == sorted(set(numbers))                     # in order, each once
    assert kept[0] is rows[0] and kept[-1] is rows[-1] and history[-1] is rows[-1] and history[0] is rows[0]
    tail = rows[-recent:]
    assert kept[-len(tail):] == tail and all(a is b for a, b in zip(kept[-len(tail):], tail))  # recent: all of them
    assert must <= set(numbers)                                # p changes and pinned rows are exact
    # older rows are evenly thinned: every multiple of the stride, nothing else but the pinned rows
    boundary = max(0, n - recent)
    thinned = [k for k in numbers if k < boundary and k not in must]
    assert thinned == [k for k in range(0, boundary, history.stride) if k not in must]
    if history.stride > 1:  # and not thinned further than the bound needs (pinned rows take some places)
        assert 2 * len(thinned) >= older - 2 * len(must)
    assert [history[i] for i in range(-len(kept), len(kept))] == kept + kept
    with pytest.raises(IndexError):
        history[len(kept)]


def test_at_the_defaults_a_long_run_keeps_at_most_recent_plus_older_rows():
    history = History()
    for i in range(3 * (RECENT + OLDER)):
        history.append(row(i))
    assert RECENT < len(history) <= RECENT + OLDER and history.stride > 1
    assert [r["step"] for r in history][-RECENT:] == list(range(3 * (RECENT + OLDER) - RECENT, 3 * (RECENT + OLDER)))


def test_a_row_reads_like_the_dict_it_replaces_in_less_memory():
    r = Row(3, 0.5, 0.9, 0.8, 1.1, 0.6, 0.55)
    as_dict = dict(step=3, p=0.5, train_loss=0.9, clean_train_loss=0.8, test_loss=1.1, train_acc=0.6, test_acc=0.55)
    assert dict(r) == as_dict and r == as_dict and list(r) == list(KEYS) and len(r) == len(KEYS)
    assert r["test_loss"] == 1.1 and r.get("p") == 0.5 and r.get("other") is None and "step" in r
    assert dict(r.items()) == as_dict
    with pytest.raises(KeyError):
        r["get"]  # a method's name is not a key
    assert not hasattr(r, "__dict__") and sys.getsizeof(r) < sys.getsizeof(as_dict)


def test_history_rejects_an_empty_bound():
    with pytest.raises(ValueError):
        History(recent=0)
    with pytest.raises(ValueError):
        History(older=0)


# ---------------------------------------------------------------- the one thinning rule for charts
@settings(max_examples=200, deadline=None)
@given(st.integers(0, 20_000), st.integers(2, 600))
def test_thin_caps_the_points_keeps_first_and_last_and_takes_rows_in_place(n, max_points):
    rows = list(range(n))
    kept = thin(rows, max_points)
    assert len(kept) <= max_points
    if n <= max_points:
        assert kept == rows
        return
    assert kept[0] == 0 and kept[-1] == n - 1 and kept == sorted(set(kept))
    if len(kept) > 2:  # (with two, those are the first and the last)
        stride = kept[1] - kept[0]
        assert stride & (stride - 1) == 0  # a power of two: the points kept stay put as rows are added
        assert kept == list(range(0, n, stride)) + ([n - 1] if (n - 1) % stride else [])
    assert 2 * len(kept) >= max_points - 1  # not thinned further than the cap needs
    with pytest.raises(ValueError):
        thin(rows, 1)


def long_runs(rows: int) -> list[dict]:
    ghost = [dict(row(i, 0.3)) for i in range(rows)]  # ghosts are lists of plain rows
    main, twin = History(), History()
    for i in range(rows):
        main.append(row(i, 0.5 if i < rows // 2 else 0.2))
        twin.append(row(i, 0.0))
    return [dict(label="earlier p=0.3", history=ghost, style="ghost", p_changes=[]),
            dict(label="main", history=main, style="main", p_changes=[(rows // 2 - 1, 0.2)]),
            dict(label="twin", history=twin, style="twin", p_changes=[])]


def points(fig) -> int:
    return sum(len(trace.x) for trace in fig.data)


def test_the_loss_chart_draws_at_most_a_few_thousand_points_first_and_last_included():
    runs = long_runs(8_000)
    fig = curves_figure(runs)
    assert points(fig) <= CHART_POINTS
    whole = curves_figure(runs, max_points=None)
    assert points(whole) == sum(4 * len(run["history"]) for run in runs) > CHART_POINTS
    for trace in fig.data:
        history = runs[int(trace.legendgroup.removeprefix("run"))]["history"]
        assert trace.x[0] == history[0]["step"] and trace.x[-1] == history[-1]["step"]
        steps = {r["step"]: r for r in history}  # each point is a recorded row's, exactly
        key = {("test", "y"): "test_loss", ("train", "y"): "clean_train_loss",
               ("test", "y2"): "test_acc", ("train", "y2"): "train_acc"}[trace.name, trace.yaxis]
        assert all(steps[x][key] == y for x, y in zip(trace.x, trace.y))
    notes = [a.text for a in fig.layout.annotations]
    assert notes == [a.text for a in whole.layout.annotations]  # the gap note and p markers are the same
    assert [s.x0 for s in fig.layout.shapes] == [s.x0 for s in whole.layout.shapes]


# ---------------------------------------------------------------- the Trainer and the live session
@pytest.fixture
def small_history(monkeypatch):
    """Trainers made in this test keep 6 recent rows and 4 thinned ones, so a short run is a long one."""
    monkeypatch.setattr(dropviz.trainer, "History", functools.partial(History, recent=6, older=4))


def test_a_trainer_records_every_frame_and_keeps_the_bounded_part(small_history):
    trainer, frames = Trainer(SMALL), []
    frames.append(trainer.frame)
    for i in range(40):
        if i == 25:
            trainer.set_p(0.2)
        frames.append(trainer.step(1 + i % 3))
    history = trainer.history
    assert history.recorded == len(frames) and len(history) <= 6 + 4 + 2
    assert [dict(r) for r in history][-6:] == [{k: getattr(f, k) for k in KEYS} for f in frames[-6:]]
    steps = [r["step"] for r in history]
    assert steps[0] == 0 and steps[-1] == trainer.step_count
    changed = next(i for i, f in enumerate(frames) if f.p == 0.2)
    assert frames[changed - 1].step in steps and frames[changed].step in steps  # the bend, exact
    by_step = {f.step: f for f in frames}
    assert all(r == {k: getattr(by_step[r["step"]], k) for k in KEYS} for r in history)


def test_a_long_play_keeps_memory_bounded_and_both_charts_capped(small_history, monkeypatch):
    monkeypatch.setattr(session_module, "FRAME_SECONDS", 60.0)  # every frame 25 iterations, however busy the machine
    live = LiveSession(SMALL, speed="25 iterations per frame")
    live.play()
    shown = []
    while len(shown) < 30:
        if len(shown) >= 12 and live.cfg.p != 0.2:
            live.apply(live.cfg.replace(p=0.2))
        shown += [frame for frame, _ in live.pull()]
    live.pause()  # a paused frame is scored: the curves end on it
    # a row per scored frame (5 a second of play), one for the frame the change was made on, one for the pause
    (step, _), = live.p_changes
    scored = sorted({0, step, live.step_count, *(f.step for f in shown if f.scored_at is None)})
    for trainer in (live.trainer, live.twin):
        assert trainer.history.recorded == len(scored) and len(trainer.history) <= 6 + 4 + 2
        assert [r["step"] for r in trainer.history][-6:] == scored[-6:]
    rows = list(live.trainer.history)
    at = [r["step"] for r in rows].index(step)  # the change is drawn where it happened
    assert (rows[at]["p"], rows[at + 1]["p"]) == (0.5, 0.2)
    sent = curves_payload(live)
    assert all(len(s["x"]) <= LIVE_POINTS and s["x"][-1] == live.step_count for s in sent["series"])
    fig = curves_figure(live.runs())
    assert points(fig) <= CHART_POINTS and max(max(t.x) for t in fig.data) == live.step_count
    assert all(math.isfinite(y) for t in fig.data for y in t.y)
