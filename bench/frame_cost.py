"""Server CPU per displayed frame, in process: what a playing live view costs the server apart from Streamlit.

    python bench/frame_cost.py [--frames 300] [--repeats 7] [--speed "3 iterations per frame"] [--runs 4]

At default settings it times, in CPU seconds of this process (time.process_time, one PyTorch thread):

- engine: one displayed frame of the run and its p = 0 twin (the speed's iterations, the last one recorded):
  with the test set scored on every frame, and as LiveSession.pull computes them, scored every
  SCORE_SECONDS of play (every 5th frame at full speed);
- payload: the live view's payload of one request's frames (live_payload: the frames, and the loss curves
  once), and its JSON, divided by the frames in it.

Baseline, in the same process and interleaved with it: the run and its twin as two Trainers stepped one
after the other, as the live session trained them before they were stacked in one pass. Prints medians
of --repeats repeats of --frames frames, and ratios. The Streamlit rerun that carries the frames is not in
here: bench/classroom.py measures the whole server with browsers.

--runs K: then K runs playing at once, each in its own thread as K sessions' requests are (LiveSession.tick,
through the server's training slots): CPU ms per frame and wall ms per frame with one training thread (what the
server does) against one per core (the baseline, what it did before).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dropviz import Config, Trainer
from dropviz.live import live_payload, session
from dropviz.live.session import DEFAULT_SPEED, SPEED_BY_NAME, LiveSession
from dropviz.trainer import twin_config

CORES = os.cpu_count() or 1  # the baseline: one training thread per core, as the server had


def per_frame(run, frames: int) -> float:
    """CPU ms per call of run(), over `frames` calls."""
    start = time.process_time()
    for _ in range(frames):
        run()
    return 1000 * (time.process_time() - start) / frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--speed", default=DEFAULT_SPEED)
    ap.add_argument("--runs", type=int, default=0, help="also: this many runs playing at once in threads")
    args = ap.parse_args()
    torch.set_num_threads(1)
    n = SPEED_BY_NAME[args.speed].per_tick
    cfg = Config()
    live = LiveSession(cfg, speed=args.speed)
    main_alone = Trainer(cfg)
    twin_alone = Trainer(twin_config(cfg), data=main_alone.data)

    def separate():
        main_alone.step(n)
        twin_alone.step(n)

    def stacked():
        live.step(n)

    every = live.frames_per_score
    count = iter(range(10**9))

    def playing():  # as LiveSession.tick plays: the test set scored on every `every`-th frame
        live.step(n, score=next(count) % every == 0)

    live.play()
    pull = live.frames_per_pull
    pairs = [live.play_frames(1)[0] for _ in range(pull)]  # one request's frames, as the browser gets them
    live.pause()

    def payload():  # per frame: a request's payload (its frames and the loss curves once) / its frames
        live_payload(live, pairs, False, 0)

    def payload_json():
        json.dumps(live_payload(live, pairs, False, 0))

    cases = {"two trainers (baseline)": (separate, 1), "stacked run + twin": (stacked, 1),
             "stacked, scored 5/s": (playing, 1),
             "payload": (payload, pull), "payload + JSON": (payload_json, pull)}
    for run, _ in cases.values():
        run()  # warm up
    results = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, (run, frames) in cases.items():  # interleaved: load from other processes hits all alike
            results[name].append(per_frame(run, args.frames // frames) / frames)
    med = {name: statistics.median(v) for name, v in results.items()}
    print(f"default settings ({cfg.depth}x{cfg.width}, n_train {cfg.n_train}, {len(live.data.y_test)} test points), "
          f"{args.speed}; CPU ms per displayed frame, median of {args.repeats} x {args.frames} frames")
    for name, ms in med.items():
        print(f"  {name:<26} {ms:6.2f} ms")
    base, stacked, new = med["two trainers (baseline)"], med["stacked run + twin"], med["stacked, scored 5/s"]
    print(f"  engine: stacked / baseline {stacked / base:.2f}x ({base - stacked:+.2f} ms a frame saved)")
    print(f"  engine: stacked and scored 5 times a second (as the live view plays) / baseline {new / base:.2f}x "
          f"({base - new:+.2f} ms a frame saved)")
    print(f"  engine + payload + JSON: {new + med['payload + JSON']:.2f} ms a frame "
          f"(baseline {base + med['payload + JSON']:.2f} ms)")
    if args.runs:
        runs_at_once(args.runs, args.frames, args.repeats, args.speed)


def runs_at_once(k: int, frames: int, repeats: int, speed: str) -> None:
    """k runs playing in k threads, each frame through the training slots as LiveSession.tick takes them:
    session.TRAINING_THREADS slots against one per core. CPU and wall ms per frame, medians of the repeats."""
    slots = {f"{session.TRAINING_THREADS} training thread (server)": session.TRAINING_THREADS,
             f"{CORES} training threads (baseline)": CORES}
    results = {name: [] for name in slots}

    def play(live: LiveSession) -> None:
        for _ in range(frames):
            live.tick()

    server_slots = session._SLOTS
    for _ in range(repeats):
        for name, n in slots.items():  # interleaved
            session._SLOTS = threading.BoundedSemaphore(n)
            lives = [LiveSession(Config(), speed=speed) for _ in range(k)]
            for live in lives:
                live.play()
                live.tick()  # warm up
            threads = [threading.Thread(target=play, args=(live,)) for live in lives]
            cpu, wall = time.process_time(), time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            results[name].append((1000 * (time.process_time() - cpu) / (k * frames),
                                  1000 * (time.perf_counter() - wall) / (k * frames)))
    session._SLOTS = server_slots
    print(f"{k} runs playing at once, each in its own thread; ms per displayed frame, median of {repeats} x "
          f"{frames} frames a run ({CORES} cores, load average {os.getloadavg()[0]:.1f})")
    med = {name: [statistics.median(r[i] for r in rs) for i in (0, 1)] for name, rs in results.items()}
    for name, (cpu, wall) in med.items():
        print(f"  {name:<30} CPU {cpu:6.2f} ms   wall {wall:6.2f} ms")
    (ours, _), (base, _) = med.values()
    print(f"  CPU per frame: {ours / base:.2f}x the baseline")


if __name__ == "__main__":
    main()
