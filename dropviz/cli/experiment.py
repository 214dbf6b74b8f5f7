"""`python -m dropviz experiment NAME [--preset NAME] [config flags] [--seeds N] [--steps N] --csv out.csv`

Runs one experiment from dropviz/experiments.py headless, with a progress bar on stderr, and writes
the same CSV that the Experiments page offers. Flags override the preset's settings.
"""
from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext

from ..config import RUN_FIELD
from ..data import file_data
from ..experiments import EXPERIMENTS, SUMMARIES, Cancelled
from ..presets import PRESETS
from ..variants.experiment import label as variants_label
from .datafile import add_data_file_flag, table_from_args
from .flags import (
    add_config_flags,
    add_preset_flag,
    add_run_flag,
    as_flags,
    check_output,
    config_from_args,
    one_of,
)
from .progress import ProgressBar

SEEDS, STEPS = RUN_FIELD["seeds"], RUN_FIELD["steps"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "experiment", help="run an experiment (p-sweep, data-size, ...) and write its CSV",
        description="Run one experiment and write its results as CSV. " + " ".join(
            f"{e.name}: {e.question}" for e in EXPERIMENTS.values()))
    parser.add_argument("name", type=one_of("experiment", EXPERIMENTS), metavar="NAME",
                        help="one of " + ", ".join(EXPERIMENTS))
    add_preset_flag(parser)
    parser.add_argument("--csv", required=True, metavar="PATH", help="where to write the results")
    add_run_flag(parser, SEEDS, None, f"{SEEDS.help}; {SEEDS.allowed()} (default: the experiment's)")
    add_run_flag(parser, STEPS, None, f"{STEPS.help}; {STEPS.allowed()} "
                 "(default: the experiment's, or the preset's if more)")
    add_config_flags(parser)
    add_data_file_flag(parser)
    parser.set_defaults(func=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args, args.parser)
    table = table_from_args(args, args.parser)
    check_output(args.parser, "csv", args.csv)
    experiment = EXPERIMENTS[args.name]
    steps = args.steps or experiment.steps_from(PRESETS[args.preset].steps if args.preset else None)
    given = {"seeds": args.seeds} if args.seeds else {}  # else the experiment's own default
    bar = ProgressBar()
    try:
        with file_data(table.dataset) if table else nullcontext():
            df = experiment.run(cfg, steps=steps, progress=bar.update, **given)
    except Cancelled:
        bar.close()
        return 130
    except ValueError as err:  # an experiment parameter out of range for this config
        bar.close()
        args.parser.error(as_flags(str(err)))
    except KeyboardInterrupt:
        bar.close()
        sys.stderr.write("interrupted\n")
        return 130
    bar.update(1.0, "done")
    bar.close()
    try:
        df.to_csv(args.csv, index=False)
    except OSError as err:
        sys.stderr.write(f"dropviz: error: --csv={args.csv} could not be written: {err.strerror or err}\n")
        return 1
    seeds = args.seeds or int(df["seed"].nunique())
    label = variants_label(cfg) if experiment.name == "variants" else cfg.label()  # variants: always digits
    print(f"{experiment.name}: {len(df)} rows written to {args.csv} ({label}, "
          f"{seeds} seed{'s' if seeds != 1 else ''}, {steps} iterations, {bar.seconds:.1f} s)")
    if experiment.name in SUMMARIES:
        print(SUMMARIES[experiment.name](df))
    return 0
