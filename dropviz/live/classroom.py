"""A class on one server: the teacher's live view, broadcast under a short code for students to follow.

The teacher's page publishes every frame its live view is sent (the payload's frame dicts, built once);
a follower's page takes the ones it has not shown yet. A follower trains nothing and builds no frame:
its cost is one light rerun every FOLLOW_SECONDS, whatever the number of frames in it. No Streamlit here.

A lesson's class (app_pages/lesson.py) is one class for the teacher's whole session: each step has its own
run, and show_step points the class at the step shown, with its heading and panel, for followers to follow.

The register holds classes weakly: a class lives as long as its teacher's page state holds it, so a
teacher's session that ends takes its class (and its run) with it; followers then find no class.
"""
from __future__ import annotations

import re
import secrets
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..config import shown
from .payload import frame_text
from .session import LiveSession

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # capitals and digits, without 0/O and 1/I, which a class misreads
CODE_LENGTH = 4
CODE = re.compile(r"[A-Z0-9]{4,6}")  # what a class code may look like (a link may carry one of 4-6)
KEEP = 250  # frames kept for followers: 10 s at 25 frames/s, more than any follower is behind
# A follower's page asks for new frames this often and shows them one interval apart, so it lags the teacher by
# one to two intervals: a rerun has a fixed cost (Streamlit's run and message), shared by the frames in it
# (bench/classroom.py --in-process times it; the frames' JSON is encoded once, on the teacher's page).
FOLLOW_SECONDS = 1.0
STALL_SECONDS = 3.0  # a playing teacher's page computes frames two seconds ahead: this long past the last, it stopped
_CLASSES: weakref.WeakValueDictionary[str, Broadcast] = weakref.WeakValueDictionary()
_LOCK = threading.Lock()


@dataclass(eq=False)
class Broadcast:
    """One teacher's class: their run, and the frames their live view was sent, numbered in order."""
    code: str
    live: LiveSession
    # (number, frame dict, its JSON text, when the teacher's screen shows it: time.monotonic() s, estimated)
    frames: deque = field(default_factory=lambda: deque(maxlen=KEEP))
    curves: dict | None = None
    interval_ms: int = 40
    playing: bool = False
    published: int = 0  # frames published so far (the last one's number)
    published_at: float = 0.0  # when the teacher's page last published (clock)
    figures: dict = field(default_factory=dict)  # Plotly figures, built once for all followers (LivePage.figure)
    step: str = ""   # a lesson's step as followers see it ("Step 3 of 10: ..."); "" for the presenter view
    panel: str = ""  # the step's detail panel, which followers show until they pick another; "" for none
    _step_figures: dict = field(default_factory=dict)  # per step, its figures (each step's run has its own)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], float] = time.monotonic  # when frames are due (a test or benchmark runs its own)

    def show_step(self, live: LiveSession, step: str, panel: str) -> None:
        """The teacher's lesson shows `step` (its heading), played by its own run `live`, with `panel`. On a
        change, the frames of the step left are dropped: followers go on from the new step's frames."""
        with self._lock:
            if live is self.live and step == self.step and panel == self.panel:
                return
            self.live, self.step, self.panel = live, step, panel
            self.frames.clear()
            self.figures = self._step_figures.setdefault(step, {})

    def catch_up(self, page) -> bool:
        """Point a follower's page (a LivePage) at the run the class shows now; True if it was another one
        (the teacher moved to another step: the follower's whole page follows)."""
        with self._lock:
            if page.live is self.live:
                return False
            page.live, page.figures = self.live, self.figures
            return True

    def publish(self, payload: dict, playing: bool, frame_texts: list[str] | None = None,
                now: float | None = None) -> None:
        """What the teacher's live view was just sent: its frames (in order; frame_texts, their JSON texts, which
        followers are sent), loss curves and speed. The teacher's page computes frames ahead of its screen and
        draws them one interval apart after those it still has, so each frame is handed to followers only from
        when the teacher's screen shows it (followers never run ahead of the teacher). A frame that goes back (the
        teacher paused, or changed a setting, on a frame before the last computed: the run went back to it)
        withdraws the frames after it, which the teacher's screen never showed; it is on that screen now."""
        now = self.clock() if now is None else now
        frames = payload["frames"]
        texts = frame_texts if frame_texts is not None else [None] * len(frames)
        interval = payload["interval_ms"] / 1000
        with self._lock:
            due = max(now, self.frames[-1][3] + interval) if self.frames and playing else now
            for frame, text in zip(frames, texts):
                if self.frames and self.frames[-1][1] == frame:
                    continue  # the same frame sent again (a rerun while paused): followers have it
                replaced = None
                while self.frames and self.frames[-1][1]["step"] >= frame["step"]:
                    replaced = self.frames.pop()
                if replaced is not None:
                    # the same iteration with other words (a rerun while playing: a new speed in the status line)
                    # is shown when it was due; a frame before it is on the teacher's screen now (Pause, or a
                    # setting changed on it)
                    due = replaced[3] if playing and replaced[1]["step"] == frame["step"] else now
                self.published += 1
                self.frames.append((self.published, frame, frame_text(frame) if text is None else text, due))
                due += interval
            self.curves = payload["curves"]
            self.interval_ms = payload["interval_ms"]
            self.playing = playing
            self.published_at = now

    def stalled(self, now: float | None = None) -> bool:
        """The teacher plays, but their page has published nothing for STALL_SECONDS and their screen has shown every
        frame published, the last one more than STALL_SECONDS ago: their page stopped asking for frames (they left
        the page, or their laptop slept) without a Pause. (Just after Play, the frame on screen was due long ago.)"""
        now = self.clock() if now is None else now
        with self._lock:
            return (self.playing and bool(self.frames)
                    and now - max(self.frames[-1][3], self.published_at) > STALL_SECONDS)

    def _due(self, seen: int, now: float | None) -> tuple[list[tuple], int]:
        """The frames after number `seen` up to the first one not due yet: a follower never skips a frame."""
        now = self.clock() if now is None else now
        new = []
        for entry in self.frames:
            if entry[0] <= seen:
                continue
            if entry[3] > now:
                break
            new.append(entry)
        return new, new[-1][0] if new else seen

    def since(self, seen: int, now: float | None = None) -> tuple[list[dict], int]:
        """Frames published after number `seen` that the teacher's screen has shown by `now` (the last KEEP at
        most), and the number of the last one (`seen` if none)."""
        with self._lock:
            new, last = self._due(seen, now)
            return [frame for _, frame, _, _ in new], last

    def texts_since(self, seen: int, now: float | None = None) -> tuple[list[str], int]:
        """The JSON texts of the frames since(seen, now) returns, and the number of the last one."""
        with self._lock:
            new, last = self._due(seen, now)
            return [text for _, _, text, _ in new], last


def open_class(live: LiveSession) -> Broadcast:
    """A new class for this run, under a code no other class on this server has."""
    with _LOCK:
        while True:
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            if code not in _CLASSES:
                broadcast = Broadcast(code, live)
                _CLASSES[code] = broadcast
                return broadcast


def find(code: str) -> Broadcast | None:
    """The class under this code, if its teacher's page is still open."""
    with _LOCK:
        return _CLASSES.get(code)


def code_problem(raw: str) -> str:
    """'' if `raw` looks like a class code, else the sentence saying what one looks like."""
    if CODE.fullmatch(raw):
        return ""
    return (f"follow='{shown(raw, 12, quote=False)}' is not a class code: it is 4 to 6 capital letters or digits, "
            "as the teacher's presenter view or lesson shows it (Class code: ABCD)")
