"""Iterations per second of Trainer.step(50) and Trainer.step(1) against a plain PyTorch loop.

The plain loop trains the same widths on the same data with the same optimizer and batch size,
using nn.Sequential(Linear, ReLU, Dropout, ...) and no recording. Prints medians of several
repeats and the cost of recording as a ratio. Asserts nothing: timings on a shared machine are noisy.

    python bench/engine.py [--repeats 7] [--iters 300]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dropviz import Config, Trainer

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
CASES = {
    "default": Config(),
    "width=256 depth=2": Config(width=256, depth=2),
    "digits": Config(dataset="digits"),
    "digits n_train=1000": Config(dataset="digits", n_train=1000),
}


def plain_loop(cfg: Config, trainer: Trainer, score: bool = False):
    """A closure running k plain training iterations on the trainer's data.

    score: also compute test-time loss and accuracy on the training and test sets after every
    iteration, as a live loss chart needs: the part of a Frame that is not dropout detail.
    """
    d = trainer.data
    torch.manual_seed(cfg.seed)
    layers, n_in = [], d.n_inputs
    if cfg.input_p > 0:
        layers.append(nn.Dropout(cfg.input_p))
    for _ in range(cfg.depth):
        layers += [nn.Linear(n_in, cfg.width), ACTIVATIONS[cfg.activation](), nn.Dropout(cfg.p)]
        n_in = cfg.width
    net = nn.Sequential(*layers, nn.Linear(n_in, d.n_classes)).train()
    opt = (torch.optim.SGD if cfg.optimizer == "sgd" else torch.optim.Adam)(net.parameters(), lr=cfg.lr)
    x, y = torch.from_numpy(d.x_train), torch.from_numpy(d.y_train)
    x_all = torch.cat([x, torch.from_numpy(d.x_test)])
    y_all = torch.cat([y, torch.from_numpy(d.y_test)])
    n, b = len(y), min(cfg.batch_size, len(y))
    rng = np.random.default_rng(0)
    loss_fn = nn.CrossEntropyLoss()

    def run(k):
        for _ in range(k):
            if b == n:
                xb, yb = x, y
            else:
                idx = torch.from_numpy(rng.integers(0, n, b))
                xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xb), yb).backward()
            opt.step()
            if score:
                net.eval()
                with torch.no_grad():
                    logits = net(x_all)
                    [loss_fn(logits[:n], y).item(), loss_fn(logits[n:], y_all[n:]).item(),
                     (logits.argmax(1) == y_all).float().mean().item()]
                net.train()
    return run


def rate(run, k: int, repeats: int) -> float:
    """Median iterations per second of run(k) over several repeats (after one warm-up)."""
    run(max(1, k // 10))
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        run(k)
        rates.append(k / (time.perf_counter() - t))
    return statistics.median(rates)


def bench_case(name: str, cfg: Config, iters: int, repeats: int) -> None:
    trainer = Trainer(cfg)
    plain = plain_loop(cfg, trainer)

    def engine(chunk):
        def run(k):
            for _ in range(max(1, k // chunk)):
                trainer.step(chunk)
        return run

    # Interleave so that load from other processes hits all of them alike.
    runs = {"plain": plain, "plain+scoring": plain_loop(cfg, trainer, score=True),
            "step(50)": engine(50), "step(1)": engine(1)}
    results = {key: [] for key in runs}
    for _ in range(repeats):
        for key, run in runs.items():
            results[key].append(rate(run, iters, 1))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"{name}: {cfg.depth}x{cfg.width} {cfg.optimizer} batch={trainer.batch_size} "
          f"n_train={cfg.n_train} p={cfg.p:g}")
    print(f"  plain PyTorch loop              {med['plain']:7.0f} it/s")
    print(f"  plain loop + scoring every it.  {med['plain+scoring']:7.0f} it/s")
    for key in ("step(50)", "step(1)"):
        slowdown = med["plain"] / med[key]
        print(f"  Trainer.{key:<9}               {med[key]:7.0f} it/s   "
              f"time vs plain {slowdown:4.2f}x ({100 * (slowdown - 1):+.0f}%)")
    scored = med["plain+scoring"] / med["step(1)"]
    print(f"  step(1) time vs plain loop + scoring: {scored:4.2f}x (the dropout detail alone)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--iters", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, median of {args.repeats} repeats of {args.iters} iterations\n"
          "targets: step(50) at most 1.15x plain, step(1) at most 2x plain\n"
          "(step(1) also scores the training and test sets at test time: see 'plain loop + scoring')\n")
    for name, cfg in CASES.items():
        bench_case(name, cfg, args.iters, args.repeats)


if __name__ == "__main__":
    main()
