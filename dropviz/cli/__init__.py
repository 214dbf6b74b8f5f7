"""Command line: `python -m dropviz COMMAND`.

    python -m dropviz train --dataset moons --p 0.5 --steps 1500 --json
    python -m dropviz experiment p-sweep --preset "Overfitting without dropout" --csv p_sweep.csv

Every Config field is a flag of the same name with hyphens (--n-train, --input-p, ...), built from
FIELDS, so the CLI cannot drift from the app's settings. A bad flag exits with status 2 and one line
naming the flag and its allowed range.

Modules import downward only: this one builds the parser from the commands (train.py,
experiment.py); they use flags.py (the shared flags and one-line errors), datafile.py (--data-file) and
progress.py.
A command is a module with `register(subparsers)`, which adds its parser and
`set_defaults(func=handler, parser=parser)`, where `handler(args) -> int` returns the exit status.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from . import experiment, train
from .flags import PROG, OneLineParser, add_config_flags, add_preset_flag, config_from_args, flag

__all__ = ["main", "build_parser", "add_config_flags", "add_preset_flag", "config_from_args", "flag"]
COMMANDS = (train, experiment)


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog=PROG, description="Watch dropout mask, rescale and regularize a network.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
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
