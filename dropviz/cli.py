"""Command line: train headless and print the final metrics.

    python -m dropviz train --dataset moons --p 0.5 --steps 1500 --json

Every Config field is a flag of the same name with hyphens (--n-train, --input-p, ...), built from
FIELDS, so the CLI cannot drift from the app's settings. A bad flag exits with status 2 and one line
naming the flag and its allowed range.

Other subcommands plug in through `register(subparsers)` in their own module: they add a parser,
reuse `add_config_flags` and `config_from_args`, and `set_defaults(func=handler)` where
`handler(args) -> int` returns the exit status.
"""
from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import time
from typing import Any, Sequence

import torch

from .config import FIELDS, Config, Field, format_value
from .presets import PRESETS
from .trainer import Trainer

PROG = "dropviz"
STEPS = Field("steps", int, 1500, "training iterations to run", lo=1, hi=1_000_000)
EVERY = Field("every", int, 0, "iterations per progress update and recorded frame (0: about 1% of --steps)",
              lo=0, hi=1_000_000)
LONG_RUN = 200  # iterations from which a progress bar is shown


class OneLineParser(argparse.ArgumentParser):
    """argparse, but errors are one line without the usage block: `dropviz: error: --p=1.5 is ...`."""

    def error(self, message: str):
        # argparse prefixes type errors with "argument --p: "; our messages already name the flag
        message = re.sub(r"^argument (--[\w-]+): (?=\1=)", "", message)
        self.exit(2, f"{PROG}: error: {' '.join(message.split())}\n")


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _parse_flag(field: Field):
    """An argparse type that parses and range-checks one field, naming the flag when it fails."""
    def parse(text: str) -> Any:
        try:
            value = field.parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{flag(field.name)}={text} is not valid: expected {field.allowed()}") from None
        problem = field.problem(value)
        if problem:
            raise argparse.ArgumentTypeError(f"{flag(field.name)}={text} {problem}")
        return value
    parse.__name__ = field.name
    return parse


def _help(field: Field, default: Any) -> str:
    return f"{field.help}; {field.allowed()} (default {format_value(default)})".replace("%", "%%")


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per Config field. Flags not given keep the Config default (their value is None)."""
    defaults = Config()
    group = parser.add_argument_group("settings (one per Config field)")
    for field in FIELDS:
        group.add_argument(flag(field.name), dest=field.name, type=_parse_flag(field), default=None,
                           metavar=field.kind.__name__.upper() if not field.choices else "{" + ",".join(field.choices) + "}",
                           help=_help(field, getattr(defaults, field.name)))


def add_preset_flag(parser: argparse.ArgumentParser) -> None:
    """`--preset NAME`: start from a named preset; the config flags given override its settings."""
    def preset(text: str) -> str:
        if text not in PRESETS:
            raise argparse.ArgumentTypeError(
                f"--preset={text!r} is not valid: expected one of {', '.join(repr(p) for p in PRESETS)}")
        return text
    parser.add_argument("--preset", type=preset, default=None, metavar="NAME",
                        help="start from a preset (flags override it): " + "; ".join(PRESETS))


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser | None = None) -> Config:
    """The Config of the flags given, on top of --preset's settings if given (else the defaults).
    Each flag was range-checked when parsed; a clash (digits with too large --n-train) raises
    ValueError, or exits through `parser.error`."""
    given = {f.name: getattr(args, f.name) for f in FIELDS if getattr(args, f.name, None) is not None}
    base = PRESETS[args.preset].config if getattr(args, "preset", None) else Config()
    try:
        return base.replace(**given)
    except ValueError as err:
        message = re.sub(r"^(\w+)=", lambda m: flag(m.group(1)) + "=", str(err))
        if parser is None:
            raise ValueError(message) from None
        parser.error(message)


def _progress(done: int, total: int, frame, started: float, last_tenth: int) -> int:
    """Redraw the bar in place on a terminal; in a log, write a line per tenth of the run."""
    tenth = 10 * done // total
    tty = sys.stderr.isatty()
    if not tty and tenth == last_tenth:
        return tenth
    width = 30
    filled = round(width * done / total)
    rate = done / max(time.perf_counter() - started, 1e-9)
    bar = (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
           f"train loss {frame.train_loss:.3f}  test acc {frame.test_acc:.3f}  {rate:.0f} it/s")
    sys.stderr.write("\r" + bar if tty else bar + "\n")
    sys.stderr.flush()
    return tenth


def train(args: argparse.Namespace) -> int:
    cfg = config_from_args(args, args.parser)
    if args.steps is None:
        args.steps = PRESETS[args.preset].steps if args.preset else STEPS.default
    trainer = Trainer(cfg)
    every = args.every or max(1, args.steps // 100)
    show_bar = not args.json and args.steps >= LONG_RUN
    started, done, tenth = time.perf_counter(), 0, 0
    frame = trainer.frame
    while done < args.steps and not frame.diverged:
        chunk = min(every, args.steps - done)
        frame = trainer.step(chunk)
        done += chunk
        if show_bar:
            tenth = _progress(done, args.steps, frame, started, tenth)
    if show_bar and sys.stderr.isatty():
        sys.stderr.write("\n")
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
        print(_summary(cfg, result, time.perf_counter() - started))
    return 0


def _summary(cfg: Config, r: dict, seconds: float) -> str:
    lines = [f"dropviz: {cfg.label()}",
             f"  {r['step']} iterations in {seconds:.1f} s",
             f"  train loss {r['train_loss']:.4f} (with dropout, last batch)   "
             f"clean train loss {r['clean_train_loss']:.4f}",
             f"  test loss  {r['test_loss']:.4f}   gap {r['test_loss'] - r['clean_train_loss']:+.4f}",
             f"  accuracy   train {r['train_acc']:.3f}   test {r['test_acc']:.3f}"]
    if r["diverged"]:
        lines.append(f"  DIVERGED: {r['message']}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description="Watch dropout mask, rescale and regularize a network.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train_parser = subparsers.add_parser(
        "train", help="train headless and print the final metrics",
        description="Train headless and print the final metrics (test-time losses and accuracies).")
    add_preset_flag(train_parser)
    add_config_flags(train_parser)
    run = train_parser.add_argument_group("run")
    run.add_argument("--steps", type=_parse_flag(STEPS), default=None, metavar="INT",
                     help=_help(STEPS, STEPS.default) + "; with --preset, the preset's")
    run.add_argument("--every", type=_parse_flag(EVERY), default=EVERY.default, metavar="INT",
                     help=_help(EVERY, EVERY.default))
    run.add_argument("--json", action="store_true", help="print one JSON object with the final metrics")
    train_parser.set_defaults(func=train, parser=train_parser)
    try:
        experiment_cli = importlib.import_module(f"{__package__}.experiment_cli")
    except ModuleNotFoundError as err:  # not written yet; any other import failure is a real bug
        if err.name != f"{__package__}.experiment_cli":
            raise
    else:
        experiment_cli.register(subparsers)
    subparsers.metavar = "{" + ",".join(subparsers.choices) + "}"  # a missing command names the allowed ones
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        allowed = sorted({o for a in args.parser._actions for o in a.option_strings if o.startswith("--")})
        parser.error(f"unrecognized arguments: {' '.join(unknown)}; allowed flags: {', '.join(allowed)}")
    # these networks are too small to gain from threads; on a busy machine extra threads cost 10x
    torch.set_num_threads(1)
    return args.func(args)
