"""`python -m dropviz train [--preset NAME] [config flags] [--steps N] [--json]`

Trains one network headless and prints its final metrics: a readable summary (with a progress bar
on long runs), or one JSON object with --json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..config import RUN_FIELD, Config, Field
from ..export import history_csv, rerun
from ..presets import PRESETS
from ..replay import replay_html
from ..trainer import Trainer
from .datafile import add_data_file_flag, table_from_args
from .flags import add_config_flags, add_preset_flag, add_run_flag, check_output, config_from_args, help_text
from .progress import ProgressBar

STEPS, EVERY = RUN_FIELD["steps"], RUN_FIELD["every"]
REPLAY_LAST = Field("replay_last", int, 300, "iterations in the --replay file (the last ones)", lo=1, hi=2000)
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
    add_data_file_flag(parser)
    exports = parser.add_argument_group("exports")
    exports.add_argument("--history", metavar="PATH", default=None,
                         help="write a CSV with one row per iteration: the run's metrics and its p = 0 twin's")
    exports.add_argument("--replay", metavar="PATH", default=None,
                         help="write a standalone HTML replay of the last iterations (plays offline)")
    add_run_flag(exports, REPLAY_LAST, REPLAY_LAST.default, help_text(REPLAY_LAST, REPLAY_LAST.default))
    parser.set_defaults(func=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args, args.parser)
    table = table_from_args(args, args.parser)
    for name in ("history", "replay"):
        if getattr(args, name):
            check_output(args.parser, name, getattr(args, name))
    steps = args.steps or (PRESETS[args.preset].steps if args.preset else STEPS.default)
    if args.history or args.replay:
        return run_with_exports(args, cfg, table, steps)
    trainer = Trainer(cfg, data=table.dataset(cfg.data_seed) if table else None)
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
    report(args, cfg, table, frame, time.perf_counter() - started)
    return 0


def report(args, cfg: Config, table, frame, seconds: float) -> None:
    result = {
        "step": frame.step, "train_loss": frame.train_loss, "clean_train_loss": frame.clean_train_loss,
        "test_loss": frame.test_loss, "train_acc": frame.train_acc, "test_acc": frame.test_acc,
        "diverged": frame.diverged, "config": cfg.to_dict(),
    }
    if table:
        result["data_file"] = table.summary() + ", " + table.run_label(cfg.label(), cfg).split(" ", 1)[1]
    if frame.diverged:
        result["message"] = frame.message
    if args.json:
        print(json.dumps(result))
    else:
        print(summary(cfg, result, seconds))


def run_with_exports(args, cfg: Config, table, steps: int) -> int:
    """Train one iteration at a time from where the exports begin (dropviz/export.py), then write them."""
    started = time.perf_counter()
    keep_from = 1 if args.history else max(1, steps - args.replay_last + 1)
    bar = ProgressBar() if not args.json and steps >= LONG_RUN else None
    live, pairs = rerun(cfg, table, steps, keep_from=keep_from,
                        progress=(lambda done: bar.update(done / steps, f"{done}/{steps}")) if bar else None)
    if bar:
        bar.close()
    try:
        if args.history:
            Path(args.history).write_text(history_csv(pairs), encoding="utf-8")
        if args.replay:
            Path(args.replay).write_text(replay_html(live, pairs[-args.replay_last:]), encoding="utf-8")
    except OSError as err:
        sys.stderr.write(f"dropviz: error: an export could not be written: {err.strerror or err}\n")
        return 1
    report(args, cfg, table, live.frame, time.perf_counter() - started)
    return 0


def summary(cfg: Config, r: dict, seconds: float) -> str:
    lines = [f"dropviz: {cfg.label()}" if "data_file" not in r else f"dropviz: {r['data_file']}",
             f"  {r['step']} iterations in {seconds:.1f} s",
             f"  train loss {r['train_loss']:.4f} (with dropout, last batch)   "
             f"clean train loss {r['clean_train_loss']:.4f}",
             f"  test loss  {r['test_loss']:.4f}   gap {r['test_loss'] - r['clean_train_loss']:+.4f}",
             f"  accuracy   train {r['train_acc']:.3f}   test {r['test_acc']:.3f}"]
    if r["diverged"]:
        lines.append(f"  DIVERGED: {r['message']}")
    return "\n".join(lines)
