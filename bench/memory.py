"""Memory of one playing session over a long play: the bounded history against the unbounded list it replaced.

    python bench/memory.py [--frames 2000] [--total 45000] [--repeats 3]

Plays a LiveSession at "25 iterations per frame" (25 frames/s: 90,000 frames an hour), pulling frames as the
browser does, and prints the process's resident memory (VmRSS from /proc/self/status) at start, end and
maximum, the bytes of both trainers' histories and their growth per hour of play, and the paused loss
chart's JSON size and build time (curves_figure + to_json, median of --repeats).

A real 30-minute play is 45,000 frames: two trainers × 25 iterations each, about 30 ms a frame on one thread,
so over 20 minutes of CPU. By default the first --frames frames are trained for real (2,000: 80 s of play)
and the rest of the --total are fast-forwarded: each remaining frame appends one row to each trainer's
history, as Trainer._keep does (Row.of a frame, its step 25 further, with new loss and accuracy values). The
history is the only part of a session that grows with time (its recent frames are a deque of 100, its
frames and weights are replaced): the RSS of the real part shows whether anything else does. With
--frames 45000 the whole half hour is trained for real.

Baseline, in the same process after the bounded play: the unbounded list of dicts the Trainer appended
before, one dict per frame per trainer for the same --total frames, and the loss chart drawn from it whole
(max_points=None), as it was. The ratios are baseline / bounded.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dropviz.figures import curves_figure
from dropviz.history import KEYS, Row
from dropviz.live.session import LiveSession

SPEED = "25 iterations per frame"
PER_FRAME = 25
FRAMES_PER_HOUR = 25 * 3600  # 25 frames/s
MB = 1e6


def rss() -> int:
    """Resident memory of this process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def deep_bytes(*objs) -> int:
    """Bytes of the objects and everything they reference, each object counted once (classes left out)."""
    seen, stack, total = set(), list(objs), 0
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, type):
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        stack.extend(gc.get_referents(o))
    return total


def later(frame, number: int) -> SimpleNamespace:
    """The scalars of a fast-forwarded frame: `number` frames after `frame`, with new (distinct) float values."""
    shift = 1e-7 * number
    values = {key: getattr(frame, key) + shift for key in KEYS}
    values.update(step=frame.step + PER_FRAME * number, p=frame.p)
    return SimpleNamespace(**values)


def chart(runs, repeats: int, max_points="default") -> tuple[float, int]:
    """Median seconds to build the loss chart and its JSON, and the JSON's size in bytes."""
    times, size = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        fig = curves_figure(runs) if max_points == "default" else curves_figure(runs, max_points=max_points)
        size = len(fig.to_json())
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=2000, help="frames trained for real (default 2000)")
    ap.add_argument("--total", type=int, default=45_000, help="frames in all: 45,000 = 30 minutes at 25 frames/s")
    ap.add_argument("--repeats", type=int, default=3, help="chart builds timed (median)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # as the app does
    total, real = args.total, min(args.frames, args.total)
    minutes = total / FRAMES_PER_HOUR * 60

    # ------------------------------------------------------------------ bounded: the session as it plays now
    live = LiveSession(speed=SPEED)
    gc.collect()
    start_rss = rss()
    samples = [start_rss]
    live.play()
    shown, started = 0, time.perf_counter()
    while shown < real:
        got = len(live.pull())
        if not got:
            raise SystemExit(f"the run stopped after {shown} frames: {live.message}")
        shown += got
        samples.append(rss())
    trained_s = time.perf_counter() - started
    real_rss = samples[-1]
    quarters = [samples[min(len(samples) - 1, round(q * (len(samples) - 1) / 4))] for q in (1, 2, 3, 4)]
    half = None
    for number in range(1, total - shown + 1):
        for trainer in (live.trainer, live.twin):
            trainer.history.append(Row.of(later(trainer.frame, number)))
        if number % 1000 == 0:
            samples.append(rss())
        if shown + number == total // 2:
            half = deep_bytes(live.trainer.history, live.twin.history)
    gc.collect()
    samples.append(rss())
    end_rss, max_rss = samples[-1], max(samples)
    bounded = deep_bytes(live.trainer.history, live.twin.history)
    rows = len(live.trainer.history) + len(live.twin.history)
    growth = (bounded - half) / (total - total // 2) * FRAMES_PER_HOUR if half is not None else float("nan")
    bounded_s, bounded_json = chart(live.runs(), args.repeats)

    # ------------------------------------------------------------------ baseline: the unbounded list of dicts
    gc.collect()
    base_start = rss()
    lists = []
    for trainer in (live.trainer, live.twin):
        first = trainer.history[0]
        old = [{key: first[key] for key in KEYS}]
        for number in range(1, total + 1):
            ns = later(first, number)
            old.append({key: getattr(ns, key) for key in KEYS})
        lists.append(old)
    base_end = rss()
    baseline = deep_bytes(*lists)
    base_runs = [{**run, "history": old} for run, old in zip(live.runs(), lists)]
    base_s, base_json = chart(base_runs, args.repeats, max_points=None)

    print(f"bench/memory.py: one LiveSession at {SPEED!r}, {total:,} frames ({minutes:.0f} min at 25 frames/s)")
    print(f"  trained for real: {shown:,} frames ({shown / FRAMES_PER_HOUR * 60:.1f} min of play) "
          f"in {trained_s:.0f} s; fast-forwarded: {total - shown:,} frames (history rows only)")
    print("resident memory (VmRSS), bounded history")
    print(f"  start {start_rss / MB:.1f} MB   after the real play {real_rss / MB:.1f} MB   "
          f"end {end_rss / MB:.1f} MB   max {max_rss / MB:.1f} MB")
    print("  during the real play, at each quarter: " + "  ".join(f"{q / MB:.1f}" for q in quarters) + " MB")
    print(f"  baseline list of dicts, built after: RSS {base_start / MB:.1f} -> {base_end / MB:.1f} MB "
          f"(+{(base_end - base_start) / MB:.1f} MB)")
    print("history, both trainers            bounded      baseline   ratio")
    print(f"  rows kept                      {rows:>9,}   {2 * (total + 1):>11,}")
    print(f"  bytes at the end               {bounded / MB:>8.2f} MB {baseline / MB:>8.2f} MB  "
          f"{baseline / bounded:>5.1f}x")
    print(f"  bytes per hour of play         {growth / MB:>8.2f} MB {baseline / total * FRAMES_PER_HOUR / MB:>8.2f} MB"
          "   (bounded: growth over the second half, per hour)")
    print(f"  bytes per row                  {bounded / rows:>9.0f}   {baseline / (2 * (total + 1)):>11.0f}")
    print("paused loss chart (curves_figure + to_json)")
    print(f"  JSON                           {bounded_json / MB:>8.2f} MB {base_json / MB:>8.2f} MB  "
          f"{base_json / bounded_json:>5.0f}x")
    print(f"  build time, median of {args.repeats}        {bounded_s:>8.3f} s  {base_s:>8.3f} s   "
          f"{base_s / bounded_s:>5.0f}x")


if __name__ == "__main__":
    main()
