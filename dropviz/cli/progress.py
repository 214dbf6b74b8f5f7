"""The commands' progress bar, on stderr: redrawn in place on a terminal, a line per tenth in a log."""
from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30  # characters of the bar itself


class ProgressBar:
    """`update(fraction, text)` as the work advances, `close()` at the end.

        [#########.....................]  30%   4.2 s  group 1 of 2, iteration 450 of 1500
    """

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.perf_counter()
        self.tenth = 0  # in a log: the last tenth written (nothing is written for 0%)
        self.shown = 0  # on a terminal: length of the line on screen, to blank what a shorter one leaves

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def update(self, fraction: float, text: str = "") -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        tenth = int(10 * fraction + 1e-9)
        if not self.tty and tenth == self.tenth:
            return
        self.tenth = tenth
        filled = round(WIDTH * fraction)
        line = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {100 * fraction:3.0f}% {self.seconds:6.1f} s  {text}"
        if self.tty:
            self.stream.write("\r" + line.ljust(self.shown))
            self.shown = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line on a terminal (a log's lines are complete already)."""
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = 0
