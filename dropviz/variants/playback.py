"""The Variants page's playback, without Streamlit: which run plays, what the browser asked for, and what
the next payload sends.

While playing, the browser asks for frames (a "pull", numbered); `pull` computes them now (Pair.pull: about
PULL_SECONDS of play) and keeps them until the next payload sends them, oldest first, the engine's own frame
last. Nothing is computed ahead of a request. At Pause the browser stops asking, keeps the frame on screen
and says which iteration it is (`pause_at`): the engine goes back to it (Pair.rewind), so the frame on
screen is the engine's state, which Step continues from, and nothing moves after the press.

The presentation keys (dropviz/live/keys.py) are KEY_ACTIONS. Space is the browser's: view.js presses the
Play or Pause button shown, so a key's Pause is the button's. A hidden tab (Page Visibility) presses Pause too.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .payload import view_payload
from .run import FRAME_SECONDS, Pair

PULL_DEPTH = 1  # requests the browser may have unanswered
KEY_ACTIONS = ("play_pause", "step")  # the presentation keys the page takes: Space, and → or "."


@dataclass
class Playback:
    pair: Pair
    epoch: int = 0           # a new run, a new epoch: the browser drops the old run's frames
    playing: bool = False
    play_id: int = 0         # one per press of Play: a request answered after the browser paused plays nothing
    pulled: int = 0          # the number of the latest request answered
    pending: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def new_run(self, pair: Pair) -> None:
        with self._lock:
            self.pair, self.epoch, self.pending, self.playing = pair, self.epoch + 1, [], False

    def play(self) -> None:
        self.playing, self.play_id = True, self.play_id + 1

    def pause(self) -> None:
        self.playing = False

    def pause_at(self, step) -> None:
        """Pause, back at iteration `step` (the browser's frame on screen; anything else: pause where it is)."""
        self.pause()
        try:
            step = int(step)
        except (TypeError, ValueError, OverflowError):
            return
        with self._lock:
            if self.pair.rewind(step):
                self.pending = [f for f in self.pending if f.step < step]

    def step(self) -> None:
        """One iteration, paused only (a Step pressed while playing does nothing)."""
        if not self.playing:
            self.pair.step(1)

    def key(self, action: str, times: int = 1) -> None:
        """A presentation key pressed `times` times: Step that many iterations (paused only, as the Step button).

        Play/Pause is left to the browser, which knows what the press meant: the key's trigger may reach Python
        before or after the Pause that view.js sends with the frame on screen, and toggling here would undo it."""
        if action == "step":
            for _ in range(times):
                self.step()

    def pull(self, request) -> int:
        """The browser's request number `request` (anything: a bad one is ignored); frames computed."""
        try:
            number = int(request)
        except (TypeError, ValueError, OverflowError):
            return 0
        self.pulled = max(self.pulled, number)
        if not self.playing:
            return 0
        pair = self.pair
        frames = pair.pull()
        with self._lock:
            if pair is self.pair:  # a new run since the request: its frames are not shown
                self.pending += frames
        return len(frames)

    def frames_to_send(self) -> tuple[list, list]:
        """Playing: the frames computed and not sent yet, then the engine's own; paused, the engine's only (the
        browser draws nothing else). And the history up to it."""
        with self._lock:
            pending, self.pending = self.pending, []
        frame, history = self.pair.snapshot()
        return [f for f in pending if self.playing and f.step < frame.step] + [frame], history

    def payload(self) -> dict:
        frames, history = self.frames_to_send()
        out = view_payload(frames, history, self.pair.spec, self.epoch, round(1000 * FRAME_SECONDS))
        out.update(pull=True, pull_depth=PULL_DEPTH, playing=self.playing, play_id=self.play_id, pulled=self.pulled)
        return out
