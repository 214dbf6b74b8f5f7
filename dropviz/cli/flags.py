"""What every command shares: one flag per Config field, --preset, and one-line errors.

Every flag's value goes through its Field (`Field.read`): `--steps 0` and `steps=0` in Python
get the same words, `is out of range: expected an integer from 1 to 1000000`.
"""
from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from ..config import FIELDS, Config, Field, format_value, shown
from ..presets import PRESETS

PROG = "dropviz"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but errors are one line without the usage block: `dropviz: error: --p=1.5 is ...`."""

    def error(self, message: str):
        # argparse prefixes type errors with "argument --p: "; ours already name what was given (--p=1.5)
        message = re.sub(r"^argument [^:]+: (?=[\w-]+=)", "", message)
        self.exit(2, f"{PROG}: error: {' '.join(message.split())}\n")


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def parse_flag(field: Field) -> Callable[[str], Any]:
    """An argparse type that parses and range-checks one field, naming the flag when it fails."""
    def parse(text: str) -> Any:
        value, problem = field.read(text)
        if problem:
            raise argparse.ArgumentTypeError(f"{flag(field.name)}={shown(text, quote=False)} {problem}")
        return value
    parse.__name__ = field.name
    return parse


def one_of(label: str, allowed: Iterable[str]) -> Callable[[str], str]:
    """An argparse type that accepts only the names in `allowed`, quoted as they may hold spaces."""
    allowed = list(allowed)

    def parse(text: str) -> str:
        if text not in allowed:
            raise argparse.ArgumentTypeError(
                f"{label}={shown(text)} is not valid: expected one of {', '.join(repr(a) for a in allowed)}")
        return text
    parse.__name__ = label.lstrip("-")
    return parse


def help_text(field: Field, default: Any, what: str | None = None) -> str:
    """`what` (default: the field's help), its allowed range and its default, for --help."""
    return f"{what or field.help}; {field.allowed()} (default {format_value(default)})".replace("%", "%%")


def metavar(field: Field) -> str:
    return "{" + ",".join(field.choices) + "}" if field.choices else field.kind.__name__.upper()


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per Config field. Flags not given keep the Config default (their value is None)."""
    defaults = Config()
    group = parser.add_argument_group("settings (one per Config field)")
    for field in FIELDS:
        group.add_argument(flag(field.name), dest=field.name, type=parse_flag(field), default=None,
                           metavar=metavar(field), help=help_text(field, getattr(defaults, field.name)))


def add_preset_flag(parser: argparse.ArgumentParser) -> None:
    """`--preset NAME`: start from a named preset; the config flags given override its settings."""
    parser.add_argument("--preset", type=one_of("--preset", PRESETS), default=None, metavar="NAME",
                        help="start from a preset (flags override it): " + "; ".join(PRESETS))


def add_run_flag(parser, field: Field, default: Any, help: str) -> None:
    """A flag for how much work to do (--steps, --seeds, ...), checked by its Field like the others.
    `help` is argparse's: a % in it is written %% (help_text does that)."""
    parser.add_argument(flag(field.name), dest=field.name, type=parse_flag(field), default=default,
                        metavar=metavar(field), help=help)


def as_flags(message: str) -> str:
    """A message about a setting (`p=0 is out of range ...`) worded for the command line (`--p=0 ...`)."""
    return re.sub(r"^(\w+)=", lambda m: flag(m.group(1)) + "=", message)


def check_output(parser: argparse.ArgumentParser, name: str, path: str) -> None:
    """Refuse an output path that cannot be written, before any training: exit 2, one line naming the flag.

    The file is opened for appending (nothing in it changes) and removed again if this made it: the only
    sure test of writable, for a folder, /proc/version, a read-only disk or a missing folder alike."""
    why = ""
    if not path.strip():
        why = "is empty"
    elif os.path.isdir(path):
        why = "is a folder"
    else:
        existed = os.path.lexists(path)
        try:
            with open(path, "a"):
                pass
        except OSError as err:
            why = f"cannot be written ({err.strerror or type(err).__name__})"
        else:
            if not existed:
                os.remove(path)
    if why:
        parser.error(f"{flag(name)}={shown(path, 200)} {why}: expected a file path in an existing, writable folder")


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser | None = None) -> Config:
    """The Config of the flags given, on top of --preset's settings if given (else the defaults).
    Each flag was range-checked when parsed; a clash (digits with too large --n-train) raises
    ValueError, or exits through `parser.error`."""
    given = {f.name: getattr(args, f.name) for f in FIELDS if getattr(args, f.name, None) is not None}
    base = PRESETS[args.preset].config if getattr(args, "preset", None) else Config()
    try:
        return base.replace(**given)
    except ValueError as err:
        message = as_flags(str(err))
        if parser is None:
            raise ValueError(message) from None
        parser.error(message)
