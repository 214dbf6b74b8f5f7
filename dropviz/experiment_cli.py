"""`python -m dropviz experiment NAME [config flags] [--preset NAME] --csv out.csv`

Runs one experiment from dropviz/experiments.py headless, with a progress bar on stderr, and writes
the same CSV that the Experiments page offers. Flags override the preset's settings.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from .experiments import EXPERIMENTS, MAX_SEEDS, MAX_STEPS, Cancelled
from .presets import PRESETS


def _choice(kind: str, allowed):
    def parse(text: str) -> str:
        if text not in allowed:
            raise argparse.ArgumentTypeError(
                f"{kind} {text!r} is not valid: expected one of {', '.join(repr(a) for a in allowed)}")
        return text
    parse.__name__ = kind
    return parse


def _count(name: str, hi: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 1 <= value <= hi:
            raise argparse.ArgumentTypeError(f"--{name}={text} is not valid: expected an integer from 1 to {hi}")
        return value
    parse.__name__ = name
    return parse


def register(subparsers) -> None:
    from .cli import add_config_flags, add_preset_flag  # lazy: cli imports this module
    parser = subparsers.add_parser(
        "experiment", help="run an experiment (p-sweep, data-size, ...) and write its CSV",
        description="Run one experiment and write its results as CSV. " + " ".join(
            f"{e.name}: {e.question}" for e in EXPERIMENTS.values()))
    parser.add_argument("name", type=_choice("experiment", list(EXPERIMENTS)), metavar="NAME",
                        help="one of " + ", ".join(EXPERIMENTS))
    add_preset_flag(parser)
    parser.add_argument("--csv", required=True, metavar="PATH", help="where to write the results")
    parser.add_argument("--seeds", type=_count("seeds", MAX_SEEDS), default=3, help="seeds per setting (default 3)")
    parser.add_argument("--steps", type=_count("steps", MAX_STEPS), default=None,
                        help="training iterations per network (default: the experiment's, or the preset's if more)")
    add_config_flags(parser)
    parser.set_defaults(func=run, parser=parser)


def base_config(args):
    """The preset's settings (or the defaults), with every flag given on top."""
    from .cli import config_from_args
    return config_from_args(args, args.parser)


def _bar(fraction: float, message: str, started: float) -> None:
    width = 30
    filled = round(width * fraction)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * fraction:3.0f}% "
                     f"{time.perf_counter() - started:5.1f} s  {message[:60]:<60}")
    sys.stderr.flush()


def _check_csv(args) -> None:
    """Refuse an unwritable --csv before training, not after minutes of work."""
    folder = os.path.dirname(os.path.abspath(args.csv))
    if os.path.isdir(args.csv) or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        args.parser.error(f"--csv={args.csv} cannot be written: expected a file path in an existing, "
                          f"writable folder")


def run(args) -> int:
    import torch
    torch.set_num_threads(1)
    cfg = base_config(args)
    _check_csv(args)
    experiment = EXPERIMENTS[args.name]
    steps = args.steps or experiment.steps_from(PRESETS[args.preset].steps if args.preset else None)
    started = time.perf_counter()
    try:
        df = experiment.run(cfg, seeds=args.seeds, steps=steps,
                            progress=lambda f, m: _bar(f, m, started))
    except Cancelled:
        return 130
    except ValueError as err:  # an experiment parameter out of range for this config
        sys.stderr.write("\n")
        args.parser.error(str(err))
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130
    _bar(1.0, "done", started)
    sys.stderr.write("\n")
    try:
        df.to_csv(args.csv, index=False)
    except OSError as err:
        sys.stderr.write(f"dropviz: error: --csv={args.csv} could not be written: {err.strerror or err}\n")
        return 1
    print(f"{experiment.name}: {len(df)} rows written to {args.csv} ({cfg.label()}, {args.seeds} seed{'s' if args.seeds != 1 else ''}, "
          f"{steps} iterations, {time.perf_counter() - started:.1f} s)")
    return 0
