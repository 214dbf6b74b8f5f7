"""`python -m dropviz train [--preset NAME] [config flags] [--steps N] [--json]`

Trains one network headless and prints its final metrics: a readable summary (with a progress bar
on long runs), or one JSON object with --json.
"""
from __future__ import annotations

import argparse
import json
import time

from ..config import RUN_FIELD, Config
from ..presets import PRESETS
from ..trainer import Trainer
from .flags import add_config_flags, add_preset_flag, add_run_flag, config_from_args, help_text
from .progress import ProgressBar

STEPS, EVERY = RUN_FIELD["steps"], RUN_FIELD["every"]
LONG_RUN = 200  # iterations from which a progress bar is shown


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train headless and print the final metrics",
        description="Train headless and print the final metrics (test-time losses and accuracies).")
    add_preset_flag(parser)
    add_config_flags(parser)
    run_group = parser.add_argument_group("run")
    add_run_flag(run_group, STEPS, None, help_text(STEPS, STEPS.default, "training iterations to run")
                 + "; with --preset, the preset's")
    add_run_flag(run_group, EVERY, EVERY.default, help_text(EVERY, EVERY.default))
    run_group.add_argument("--json", action="store_true", help="print one JSON object with the final metrics")
    parser.set_defaults(func=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args, args.parser)
    steps = args.steps or (PRESETS[args.preset].steps if args.preset else STEPS.default)
    trainer = Trainer(cfg)
    every = args.every or max(1, steps // 100)
    bar = ProgressBar() if not args.json and steps >= LONG_RUN else None
    started, done, frame = time.perf_counter(), 0, trainer.frame
    while done < steps and not frame.diverged:
        chunk = min(every, steps - done)
        frame = trainer.step(chunk)
        done += chunk
        if bar:
            bar.update(done / steps, f"{done}/{steps}  train loss {frame.train_loss:.3f}  "
                                     f"test acc {frame.test_acc:.3f}  {done / max(bar.seconds, 1e-9):.0f} it/s")
    if bar:
        bar.close()
    result = {
        "step": frame.step, "train_loss": frame.train_loss, "clean_train_loss": frame.clean_train_loss,
        "test_loss": frame.test_loss, "train_acc": frame.train_acc, "test_acc": frame.test_acc,
        "diverged": frame.diverged, "config": cfg.to_dict(),
    }
    if frame.diverged:
        result["message"] = frame.message
    if args.json:
        print(json.dumps(result))
    else:
        print(summary(cfg, result, time.perf_counter() - started))
    return 0


def summary(cfg: Config, r: dict, seconds: float) -> str:
    lines = [f"dropviz: {cfg.label()}",
             f"  {r['step']} iterations in {seconds:.1f} s",
             f"  train loss {r['train_loss']:.4f} (with dropout, last batch)   "
             f"clean train loss {r['clean_train_loss']:.4f}",
             f"  test loss  {r['test_loss']:.4f}   gap {r['test_loss'] - r['clean_train_loss']:+.4f}",
             f"  accuracy   train {r['train_acc']:.3f}   test {r['test_acc']:.3f}"]
    if r["diverged"]:
        lines.append(f"  DIVERGED: {r['message']}")
    return "\n".join(lines)
