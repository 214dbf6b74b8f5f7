"""Speed of the batched trainer: the p-sweep trained together vs the same models one by one.

    python bench/experiments.py [--steps 1500] [--repeats 3]

Both run on one thread in this process (the machine is shared: quote the medians).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dropviz.batched import BatchedTrainer
from dropviz.config import Config
from dropviz.data import make_dataset
from dropviz.trainer import Trainer

PS = [round(0.1 * i, 1) for i in range(10)]
SEEDS = (0, 1, 2)
BASE = Config(dataset="moons", depth=2, width=256)


def sweep_configs():
    return [BASE.replace(p=p, seed=s) for p in PS for s in SEEDS]


def batched(steps: int, data) -> float:
    started = time.perf_counter()
    trainer = BatchedTrainer(sweep_configs(), data)
    trainer.step(steps)
    trainer.evaluate()
    return time.perf_counter() - started


def one_by_one(steps: int, data) -> float:
    started = time.perf_counter()
    for cfg in sweep_configs():
        Trainer(cfg, data).step(steps)  # step() ends with the frame: test-time metrics, as evaluate()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)  # as BatchedTrainer.step does; the same for both, for a fair ratio
    data = make_dataset(BASE.dataset, BASE.n_train, BASE.noise, BASE.data_seed)
    print(f"p-sweep: {len(PS)} p x {len(SEEDS)} seeds x {args.steps} iterations, "
          f"{BASE.dataset} n={BASE.n_train}, {BASE.depth} x {BASE.width}, {BASE.optimizer}, 1 thread")
    batched(20, data), one_by_one(5, data)  # warm-up
    times_b, times_1 = [], []
    for r in range(args.repeats):
        times_b.append(batched(args.steps, data))
        times_1.append(one_by_one(args.steps, data))
        print(f"  repeat {r + 1}: batched {times_b[-1]:6.1f} s   one by one {times_1[-1]:6.1f} s   "
              f"ratio {times_1[-1] / times_b[-1]:.1f}x", flush=True)
    mb, m1 = statistics.median(times_b), statistics.median(times_1)
    print(f"median: batched {mb:.1f} s, one by one {m1:.1f} s, ratio {m1 / mb:.1f}x "
          f"({1e3 * mb / args.steps:.2f} ms per iteration for all {len(PS) * len(SEEDS)} models)")


if __name__ == "__main__":
    main()
