"""One viewer's live training session, free of Streamlit so its logic can be tested directly.

A LiveSession holds the main Trainer and its p = 0 twin (same seed, so identical initial weights
and batches), steps them in lockstep, keeps the last few finished runs as ghosts, remembers where
p was changed, keeps recent frames for the rescaling panel, and knows whether it is playing.

While playing, the browser asks for about two seconds of frames at a time (pull), which are computed ahead of
what it shows; a checkpoint every second of them lets the run go back to the frame on screen (pause_at at
Pause, rewind when a setting changed while an earlier frame was shown), bit for bit.
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..config import FIELDS, Config
from ..data import Dataset
from ..figures.boundary import grid
from ..figures.labels import TWIN
from ..frame import Frame
from ..trainer import Trainer, twin_config  # noqa: F401 - twin_config: the twin's rule, for callers
from ..upload import Table

MAX_GHOSTS = 3
RECENT_FRAMES = 100
FRAME_INTERVAL = 0.04  # seconds between displayed frames at full speed (25 frames/s)
RERUN_SECONDS = 0.4    # while playing, one Streamlit rerun computes this many seconds of frames, which
                       # the browser plays back: one rerun per 0.4 s, not one per frame
PULL_SECONDS = 2.0     # frames of play computed per browser request (pull): a request is a Streamlit rerun, which
                       # costs the server tens of ms of CPU, so two seconds' frames share one (bench/classroom.py
                       # --clients wire, 4 sessions: 3.6-4.2 ms a frame against 4.7-4.9 with 1 s). Pause stays
                       # immediate: the browser stops at the frame on screen and the run goes back to it (pause_at)
CHECKPOINT_SECONDS = 1.0  # a pull keeps the state this often, so going back replays at most this much play
PULL_COMPUTE = 0.25    # training time one request may take at most (at least one frame): heavy settings get fewer
                       # frames, never a long wait, and Pause and Step never queue behind a long request
FRAME_SECONDS = 0.1    # training time one displayed frame may take; a frame whose iterations would take longer
                       # gets fewer (said in the status line), so heavy settings still show ~10 frames/s
SCORE_SECONDS = 0.2    # while playing, the test set is scored on a frame this often (5 times a second at full speed:
                       # the curves get a point every 15 iterations at the default speed); that pass is most of a
                       # frame's cost, and no one reads a number 25 times a second. A paused frame is always scored
ACTIVE_SECONDS = 3.0   # a playing run whose browser asked for frames this recently is using the server

# The server's training time, shared by every playing run in this process: one trains at a time (with one PyTorch
# thread), and when more runs play than it can serve each frame's share shrinks. One, not one per core: a frame is
# ~60 small tensor ops, each of which releases and retakes the GIL, so two runs training at once pass the GIL back
# and forth on every op: 4 runs through 2 slots cost more CPU per frame than through 1, and finished later
# (bench/frame_cost.py --runs 4; the figures are in the README). Rewinds, Step and the panels' passes train outside
# the slot: short, and a session does one at a time.
TRAINING_THREADS = 1
_SLOTS = threading.BoundedSemaphore(TRAINING_THREADS)
_PLAYING: weakref.WeakSet = weakref.WeakSet()


MAX_PLAYING = 8 * TRAINING_THREADS  # runs one training thread serves at 20 frames/s or more at default settings
                                    # (bench/classroom.py --clients wire: 8 sessions at 20-25 frames/s each)


def _max_playing() -> int:
    """DROPVIZ_MAX_PLAYING: how many runs may play at once on this server (default MAX_PLAYING)."""
    raw = os.environ.get("DROPVIZ_MAX_PLAYING", "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else MAX_PLAYING


def playing_runs(pulling: bool = False) -> int:
    """Runs playing now on this server whose browsers are still asking for frames (pulling: that have asked
    already, not only pressed Play)."""
    now = time.monotonic()
    return sum(1 for run in list(_PLAYING) if now - (run.pulled_at if pulling else run.last_pull) < ACTIVE_SECONDS)


@dataclass(frozen=True)
class Speed:
    key: str           # in the URL
    label: str
    per_tick: int      # training iterations per displayed frame
    interval: float    # seconds between frames


SPEEDS: tuple[Speed, ...] = (
    Speed("1-per-s", "slow motion: 1 iteration/s", 1, 1.0),
    Speed("2-per-s", "2 iterations/s", 1, 0.5),
    Speed("5-per-s", "5 iterations/s", 1, 0.2),
    Speed("1-per-frame", "1 iteration per frame", 1, FRAME_INTERVAL),
    Speed("2-per-frame", "2 iterations per frame", 2, FRAME_INTERVAL),
    Speed("3-per-frame", "3 iterations per frame", 3, FRAME_INTERVAL),
    Speed("5-per-frame", "5 iterations per frame", 5, FRAME_INTERVAL),
    Speed("10-per-frame", "10 iterations per frame", 10, FRAME_INTERVAL),
    Speed("25-per-frame", "25 iterations per frame", 25, FRAME_INTERVAL),
)
SPEED_NAMES = tuple(s.label for s in SPEEDS)
# Fast enough that the overfitting lesson (the twin's test loss climbing above the dropout run's,
# ~600-1000 iterations at default settings) shows within ~20 s of pressing Play; every frame still
# shows a new mask. Slow motion stays one click away on the slider.
DEFAULT_SPEED = "3 iterations per frame"
SPEED_BY_NAME = {s.label: s for s in SPEEDS}
SPEED_BY_KEY = {s.key: s for s in SPEEDS}


def speed_from_query(value) -> tuple[str, str | None]:
    """The speed named in a URL parameter, or the default and a warning naming the allowed values."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    if value in SPEED_BY_KEY:
        return SPEED_BY_KEY[value].label, None
    return DEFAULT_SPEED, (f"speed={value!r} is not valid: expected one of {', '.join(SPEED_BY_KEY)}; "
                           f"using the default speed={SPEED_BY_NAME[DEFAULT_SPEED].key}")
LIVE_FIELDS = tuple(f.name for f in FIELDS if f.live)


class LiveSession:
    def __init__(self, cfg: Config | None = None, speed: str = DEFAULT_SPEED, table: Table | None = None):
        self.table = table  # the visitor's own data file (dropviz/upload.py), held only here; None: cfg.dataset
        self._lock = threading.RLock()  # overlapping reruns of one browser session
        self.ghosts: deque[dict] = deque(maxlen=MAX_GHOSTS)
        self._playing = False
        self.last_pull = 0.0          # when Play was pressed or the browser last asked for frames (monotonic s)
        self.pulled_at = 0.0          # when the browser last asked for frames
        self.seconds_per_iteration = 0.0  # measured, main run and twin together
        self._ticks = 0
        self.shared = ""              # why frames have fewer iterations than the speed asks, or ""
        self.busy = ""                # why Play was refused (too many runs playing), or ""
        self.speed = speed if speed in SPEED_BY_NAME else DEFAULT_SPEED
        self.run_id = 0
        self.play_id = 0  # counts presses of Play: the browser pulls frames only for the play it was told of
        self._start(cfg or Config())

    # ------------------------------------------------------------------ runs
    def _start(self, cfg: Config) -> None:
        self.cfg = cfg
        self.start_cfg = cfg  # with live_changes, what a re-run needs to repeat this run (dropviz/export.py)
        self.live_changes: list[tuple[int, dict]] = []  # (iteration, live settings changed before it)
        # the twin trains in the same stacked pass as the run (Trainer(twin=True)): one pass, not two
        self.trainer = Trainer(cfg, data=self.table.dataset(cfg.data_seed) if self.table else None, twin=True)
        self.twin = self.trainer.twin
        self.p_changes: list[tuple[int, float]] = []
        self.recent: deque[Frame] = deque([self.trainer.frame], maxlen=RECENT_FRAMES)
        # the state every CHECKPOINT_SECONDS of the latest requests' frames (the browser shows a frame of the last
        # two requests at most) and right after a live change among them, oldest first
        self._checkpoints: deque = deque(maxlen=6)
        self.message = ""
        self.run_id += 1
        self.seconds_per_iteration, self._ticks = 0.0, 0  # a new run: its speed is measured anew
        self._unscored = 0  # frames played since the last one scored

    def _retire(self) -> None:
        """The current run becomes a ghost, if it trained at all."""
        if self.trainer.step_count > 0:
            self.ghosts.append({"label": self.label(), "history": list(self.trainer.history),
                                "style": "ghost"})

    def label(self) -> str:
        """The run's settings in short, naming the own data file in place of the built-in data set."""
        return self.table.run_label(self.cfg.label(), self.cfg) if self.table else self.cfg.label()

    def use_table(self, table: Table | None) -> None:
        """Train on this data file from now on (None: on cfg.dataset again): a new run, the old one a ghost."""
        with self._lock:
            self._retire()
            self.table = table
            self._start(self.cfg)
            self.playing = False

    def clear_ghosts(self) -> None:
        """Forget the earlier runs (the faded curves); this run and its twin stay."""
        with self._lock:
            self.ghosts.clear()

    def reset(self) -> None:
        """Start the same setup again from iteration 0; the old run stays as a ghost."""
        with self._lock:
            self._retire()
            self._start(self.cfg)
            self.playing = False

    def apply(self, cfg: Config) -> str:
        """Take new settings. Returns "same", "live" (p, input_p, lr changed in place) or "new run"."""
        with self._lock:
            if cfg == self.cfg:
                return "same"
            if cfg.structural_key() != self.cfg.structural_key():
                self._retire()
                self._start(cfg)
                return "new run"
            changes = {name: getattr(cfg, name) for name in LIVE_FIELDS
                       if getattr(cfg, name) != getattr(self.cfg, name)}
            self.trainer.score()  # the curves have a point where the change is: they bend at its marker
            self.trainer.update(**changes)  # the twin's too: its learning rate
            self.live_changes.append((self.trainer.step_count, changes))
            if "p" in changes:
                self.p_changes.append((self.trainer.step_count, cfg.p))
            self.cfg = cfg
            if self._checkpoints:  # a rewind to a frame after the change replays it with the new settings
                self._checkpoints.append(self.trainer.checkpoint())
            return "live"

    def _changes_from(self, step: int) -> None:
        """After going back to `step`: the live changes made after it apply from it, as one change."""
        later = {}
        for _, changes in [c for c in self.live_changes if c[0] > step]:
            later.update(changes)
        if not later:
            return
        self.live_changes = [c for c in self.live_changes if c[0] <= step]
        self.p_changes = [c for c in self.p_changes if c[0] <= step]
        changes = {name: getattr(self.cfg, name) for name in later
                   if getattr(self.cfg, name) != getattr(self.trainer.cfg, name)}
        self.trainer.update(**changes)
        if changes:
            self.live_changes.append((step, changes))
        if "p" in changes:
            self.p_changes.append((step, self.cfg.p))

    # ------------------------------------------------------------------ training
    @property
    def playing(self) -> bool:
        return self._playing

    @playing.setter
    def playing(self, value: bool) -> None:
        self._playing = value
        if value:
            _PLAYING.add(self)
        else:
            _PLAYING.discard(self)

    @property
    def step_count(self) -> int:
        return self.trainer.step_count

    @property
    def frame(self) -> Frame:
        return self.trainer.frame

    @property
    def diverged(self) -> bool:
        return self.trainer.diverged

    def step(self, n: int = 1, score: bool = True) -> Frame:
        """n iterations of the main run and of its twin, in lockstep. A divergence pauses. score=False: the
        frame's test-time numbers are the last scored frame's (Trainer.step)."""
        with self._lock:
            if self.trainer.diverged:
                self.playing = False
                return self.trainer.frame
            frame = self.trainer.step(n, score=score)
            self.recent.append(frame)
            if frame.diverged:
                self.playing = False
                self.message = frame.message + " Press Reset (or change a structural setting) to start again."
            return frame

    def tick(self) -> Frame:
        """One displayed frame while playing: as many iterations as the speed asks for, or fewer when they
        would take more than this run's share of FRAME_SECONDS (heavy settings, or a busy server). The test set
        is scored every SCORE_SECONDS of play."""
        n = self.iterations_per_frame()
        score = self._unscored + 1 >= self.frames_per_score
        with _SLOTS:
            start = time.perf_counter()
            frame = self.step(n, score=score)
            spent = (time.perf_counter() - start) / n
        self._unscored = 0 if score else self._unscored + 1
        self._ticks += 1
        if self._ticks > 1:  # the first frame of a run pays for warming up: not a measure of its speed
            self.seconds_per_iteration = spent if not self.seconds_per_iteration else (
                0.7 * self.seconds_per_iteration + 0.3 * spent)
        return frame

    def iterations_per_frame(self) -> int:
        """The speed's iterations per frame, cut to fit this run's share of FRAME_SECONDS (and says why)."""
        asked = SPEED_BY_NAME[self.speed].per_tick
        share = max(1.0, playing_runs(pulling=True) / TRAINING_THREADS)
        budget = FRAME_SECONDS / share
        if asked == 1 or self.seconds_per_iteration * asked <= budget:
            self.shared = ""
            return asked
        n = max(1, min(asked, int(budget / self.seconds_per_iteration)))
        why = "shared server" if share > 1 else "heavy settings"
        self.shared = f"{why}: {n} iteration{'s' if n > 1 else ''} per frame"
        return n

    def play(self) -> None:
        """Play, unless DROPVIZ_MAX_PLAYING runs already play on this server (then `busy` says so)."""
        with self._lock:
            if not self.playing:
                limit = _max_playing()
                if playing_runs() >= limit:
                    self.busy = (f"This server is busy: {limit} runs are playing, as many as it plays at once "
                                 "(DROPVIZ_MAX_PLAYING). Follow your teacher's class (its link has ?follow=), "
                                 "or press Play again when one pauses.")
                    return
                self.play_id += 1
            self.busy = ""
            self.last_pull = time.monotonic()
            self.playing = not self.trainer.diverged

    def pause(self) -> None:
        with self._lock:
            self.playing = False
            self.busy = ""
            self.trainer.score()  # the paused frame's own test-time numbers

    def pause_at(self, step) -> bool:
        """Pause, back at iteration `step`: the frame the browser shows, of the latest requests' frames (it had not
        drawn the later ones). True if the run is now there; else (any other step, or not a number) it pauses where
        it is, and the browser is sent that frame."""
        with self._lock:
            back = self.rewind(step)
            self.pause()
            return back

    def rewind(self, step) -> bool:
        """Back to iteration `step` of the latest requests' frames, as if the later ones had never been computed.
        Settings changed after it (the browser was showing `step` when they were changed) apply from it."""
        try:
            step = int(step)
        except (TypeError, ValueError, OverflowError):
            return False
        with self._lock:
            if step == self.step_count:
                return True
            earlier = [c for c in self._checkpoints if c.step <= step]
            if not earlier or step > self.step_count:
                return False
            frame = self.trainer.rewind(earlier[-1], step)
            self._checkpoints = deque(earlier, maxlen=self._checkpoints.maxlen)
            self._changes_from(step)
            while self.recent and self.recent[-1].step >= step:
                self.recent.pop()
            self.recent.append(frame)
            self.message = ""  # a divergence after `step` never happened
            return True

    def toggle(self) -> None:
        """The Play/Pause button."""
        self.pause() if self.playing else self.play()

    def step_once(self) -> Frame:
        """The Step button: pause, then exactly one iteration."""
        with self._lock:
            self.pause()
            return self.step(1)

    def pull(self) -> list[tuple[Frame, Frame]]:
        """The browser asks for the next frames while playing: `frames_per_pull` ticks, computed now (none
        when paused), each with its twin's frame; the first request after Play, `frames_per_checkpoint` (the
        first frame shows as soon as a second's frames are computed, not two seconds').

        The browser draws the frames it is sent in order, one every interval. At Pause it stops at the frame on
        screen and says which one it is (pause_at): the run goes back to it from the checkpoint taken here, so the
        frame on screen is the engine's state, which Step and every panel continue from. About two seconds of
        frames per request, not one frame, because a request is a Streamlit rerun, which costs more than a frame.
        """
        with self._lock:
            first = self.pulled_at < self.last_pull  # the first request since Play: its first frame sooner
            self.last_pull = self.pulled_at = time.monotonic()
            out, start = [], time.perf_counter()
            wanted = self.frames_per_checkpoint if first else self.frames_per_pull
            while len(out) < wanted and self.playing and not self.trainer.diverged:
                left = PULL_COMPUTE - (time.perf_counter() - start)
                if out and left <= 0:
                    break
                self._checkpoints.append(self.trainer.checkpoint())  # a rewind replays from the one before it
                out += self.play_frames(min(self.frames_per_checkpoint, wanted - len(out)), left)
            return out

    def _frames_in(self, seconds: float) -> int:
        """Displayed frames in `seconds` of play at this speed (at least one)."""
        return max(1, round(seconds / self.interval))

    @property
    def frames_per_pull(self) -> int:
        """Frames computed per browser request: about PULL_SECONDS of playing at frame speeds; at the slower speeds,
        whose frames are few (and the panel follows each), about a second's (one in slow motion)."""
        return self._frames_in(PULL_SECONDS if self.interval <= FRAME_INTERVAL else CHECKPOINT_SECONDS)

    @property
    def frames_per_checkpoint(self) -> int:
        """Frames between the checkpoints a pull keeps: CHECKPOINT_SECONDS of play."""
        return self._frames_in(CHECKPOINT_SECONDS)

    @property
    def frames_per_score(self) -> int:
        """While playing, the test set is scored on every this-many-th frame: every SCORE_SECONDS of play."""
        return self._frames_in(SCORE_SECONDS)

    def set_speed(self, name: str) -> None:
        if name not in SPEED_BY_NAME:
            raise ValueError(f"speed={name!r} is not valid: expected one of {', '.join(SPEED_NAMES)}")
        self.speed = name

    @property
    def interval(self) -> float:
        return SPEED_BY_NAME[self.speed].interval

    @property
    def frames_per_rerun(self) -> int:
        """Displayed frames computed by one rerun while playing (one in slow motion)."""
        return self._frames_in(RERUN_SECONDS)

    @property
    def rerun_interval(self) -> float:
        """Seconds between reruns while playing: the time the browser needs to show one rerun's frames."""
        return self.frames_per_rerun * self.interval

    def play_frames(self, frames: int | None = None, seconds: float | None = None) -> list[tuple[Frame, Frame]]:
        """While playing: `frames` displayed frames (default: frames_per_rerun), each with its twin's frame.

        Stops early if the run diverges (which pauses it), or once `seconds` have passed (at least one frame).
        """
        out = []
        start = time.perf_counter()
        with self._lock:
            for _ in range(self.frames_per_rerun if frames is None else frames):
                if not self.playing or (out and seconds is not None and time.perf_counter() - start >= seconds):
                    break
                frame = self.tick()
                out.append((frame, self.twin.frame))
        return out

    def current_pair(self) -> tuple[Frame, Frame]:
        """The last frame of this run and of its twin."""
        with self._lock:
            return self.trainer.frame, self.twin.frame

    @property
    def speed_key(self) -> str:
        return SPEED_BY_NAME[self.speed].key

    # ------------------------------------------------------------------ for the figures
    @property
    def data(self) -> Dataset:
        """The data set both runs train on."""
        return self.trainer.data

    def grid_prediction(self, n: int = 60):
        """The test-time prediction over the decision-boundary grid (2-D data sets).

        Returns grid_x (n,), grid_y (n,), class probabilities (n*n, n_classes) and the extent, as
        figures.boundary_figure takes them.
        """
        grid_x, grid_y, points, extent = grid(self.data, n)
        with self._lock:
            return grid_x, grid_y, self.trainer.predict(points), extent

    def test_predictions(self) -> np.ndarray:
        """Test-time class probabilities of every test example (the digits panel)."""
        with self._lock:
            return self.trainer.predict(self.data.x_test)

    def runs(self) -> list[dict]:
        """Curves to draw: this run, its p = 0 twin, and the ghosts of earlier runs (oldest first)."""
        with self._lock:
            return [*self.ghosts,
                    {"label": self.label(), "history": list(self.trainer.history), "style": "main",
                     "p_changes": list(self.p_changes)},
                    {"label": TWIN, "history": list(self.twin.history),
                     "style": "twin", "p_changes": []}]
