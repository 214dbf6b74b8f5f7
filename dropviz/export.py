"""A run, played again one iteration at a time, for the exports: the history CSV (a row per iteration) and the
replay (a frame per iteration, dropviz/replay.py).

A run is repeated, not stored: the same settings and seeds give the same weights, batches and masks bit for
bit (dropviz/trainer.py), so a LiveSession started from the run's first settings, with each live change (p,
input_p, lr) made before the iteration it was made before, goes through the very same iterations. Storing every
frame of every visitor's run would cost megabytes each; the History keeps only the recorded frames, thinned.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from .config import Config
from .frame import Frame
from .history import KEYS, Row
from .live.session import LiveSession
from .upload import Table

TWIN_PREFIX = "twin_"
HISTORY_COLUMNS = KEYS + tuple(TWIN_PREFIX + k for k in KEYS if k != "step")
Pairs = list[tuple[Frame, Frame]]


def rerun(start: Config, table: Table | None, steps: int, changes: Sequence[tuple[int, dict]] = (),
          keep_from: int = 1, progress: Callable[[int], None] | None = None) -> tuple[LiveSession, Pairs]:
    """Train `start` (and its p = 0 twin) for `steps` iterations, making each live change at its iteration;
    returns the session and (frame, twin frame) of every iteration from `keep_from` on, oldest first."""
    live = LiveSession(start, table=table)
    pending = sorted(changes, key=lambda c: c[0])
    pairs: Pairs = []
    while live.step_count < steps and not live.diverged:
        done = live.step_count
        while pending and pending[0][0] <= done:
            live.apply(live.cfg.replace(**pending.pop(0)[1]))
        stops = [s for s, _ in pending] + [steps] + ([keep_from - 1] if done < keep_from - 1 else [])
        chunk = 1 if done + 1 >= keep_from else min(stops) - done  # fast up to what is kept or changes
        frame = live.step(chunk)
        if frame.step >= keep_from and frame.step > done:
            pairs.append((frame, live.twin.frame))
        if progress:
            progress(live.step_count)
    return live, pairs


def rerun_of(live: LiveSession, keep_last: int | None = None) -> tuple[LiveSession, Pairs]:
    """This session's current run again: every iteration's pair, or only the last `keep_last`."""
    steps = live.step_count
    keep_from = 1 if keep_last is None else max(1, steps - keep_last + 1)
    return rerun(live.start_cfg, live.table, steps, live.live_changes, keep_from)


def history_frame(pairs: Pairs) -> pd.DataFrame:
    """One row per iteration: the run's metrics and, beside them, its twin's (twin_test_loss, ...)."""
    rows = []
    for frame, twin in pairs:
        main, other = Row.of(frame), Row.of(twin)
        rows.append({**dict(main), **{TWIN_PREFIX + k: other[k] for k in KEYS if k != "step"}})
    return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))


def history_csv(pairs: Pairs) -> str:
    return history_frame(pairs).to_csv(index=False)
