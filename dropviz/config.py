"""Every setting of dropviz, in one table.

`FIELDS` is the single source of truth: `Config` validates against it, the URL
query string is read and written from it, and the CLI builds its flags from it.
In dropviz, p is always the *drop* probability; the keep probability is 1 - p.
"""
from __future__ import annotations

import ast
import dataclasses
import math
import numbers
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DATASETS = ("moons", "circles", "xor", "spiral", "gaussian", "digits")
DROP_PROBABILITIES = ("p", "input_p")
DIGITS_MAX_TRAIN = 1300  # 1797 bundled digits, 497 held out for testing
MAX_SHOWN = 40  # characters of a given value repeated in a message; the rest is cut ("… (10,240 characters)")


@dataclass(frozen=True)
class Field:
    name: str
    kind: type  # str, int or float
    default: Any
    help: str
    choices: tuple = ()
    lo: float | None = None
    hi: float | None = None
    live: bool = False  # can change mid-run without starting a new run

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return f"{'an integer' if self.kind is int else 'a number'} from {_number(self.lo)} to {_number(self.hi)}"

    def parse(self, text: str) -> Any:
        """Convert a string (URL or CLI) to this field's type; ValueError names the field."""
        text = str(text).strip()
        try:
            if self.kind is int:
                number = float(text)
                if not number.is_integer():
                    raise ValueError(text)
                value = int(number)
            else:
                value = self.kind(text)
        except (ValueError, OverflowError):
            raise ValueError(f"{self.name}={shown(text)} is not valid: expected {self.allowed()}") from None
        return self.normal(value)

    def normal(self, value: Any) -> Any:
        """The one form of a number: -0.0, and what underflows to it or is subnormal (-1e-400, 1e-310), is 0.0.
        numpy's normal() refuses a scale of -0.0, and a label would read "p=-0"."""
        if self.kind is float and isinstance(value, float) and abs(value) < sys.float_info.min:
            return 0.0
        return value

    def check(self, value: Any) -> None:
        problem = self.problem(value)
        if problem:
            raise ValueError(f"{self.name}={shown(value)} {problem}")

    def checked(self, value: Any) -> Any:
        """`value` as this field's type (3.0 -> 3 for an int field), after `check`."""
        self.check(value)
        return self.normal(self.kind(value))

    def read(self, text: str) -> tuple[Any, str]:
        """Parse and check text from a URL or the command line: (value, "") or (text, why not).

        The reason has the wording of `problem`, so `--steps=0` on the command line and `steps=0`
        in Python read alike.
        """
        try:
            value = self.parse(text)
        except ValueError:
            return text, self.problem(str(text))  # a string is never a number: "is not valid: expected ..."
        return value, self.problem(value)

    def problem(self, value: Any) -> str:
        """Why `value` is not allowed ("is out of range: expected ..."), or "" if it is.

        Callers prefix it with how the value was given (`p=1.5`, `--p=1.5`).
        """
        if self.choices:
            return "" if value in self.choices else f"is not valid: expected {self.allowed()}"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"is not valid: expected {self.allowed()}"
        if self.kind is int and math.isfinite(value) and not float(value).is_integer():
            return f"is not valid: expected {self.allowed()}"
        if not math.isfinite(value) or not (self.lo <= value <= self.hi):
            why = ""
            if self.name in DROP_PROBABILITIES and value >= 1:
                why = f" (at {self.name} = 1 no neuron survives and the scale 1/(1-{self.name}) is undefined)"
            return f"is out of range: expected {self.allowed()}{why}"
        return ""


FIELDS: tuple[Field, ...] = (
    Field("dataset", str, "moons",
          "training data: 2-D toy sets, or digits (real 8x8 handwritten digits, 10 classes)", choices=DATASETS),
    Field("n_train", int, 40,
          "number of training examples (test set is fixed: 500 points, or 497 digits)", lo=4, hi=2000),
    Field("noise", float, 0.3,
          "std of the Gaussian noise added to the inputs (2-D points, or digit pixels)", lo=0.0, hi=1.0),
    Field("depth", int, 2, "number of hidden layers", lo=1, hi=8),
    Field("width", int, 128, "neurons per hidden layer", lo=1, hi=256),
    Field("activation", str, "relu", "hidden activation", choices=("relu", "tanh")),
    Field("p", float, 0.5,
          "drop probability of each hidden neuron (keep probability is 1 - p)", lo=0.0, hi=0.95, live=True),
    Field("input_p", float, 0.0, "drop probability of each input feature", lo=0.0, hi=0.95, live=True),
    Field("mode", str, "inverted", "inverted: scale survivors by 1/(1-p) in training (PyTorch); "
          "classic: no training scale, multiply by keep probability 1-p at test time (2014 paper)",
          choices=("inverted", "classic")),
    Field("optimizer", str, "sgd", "optimizer", choices=("sgd", "adam")),
    Field("momentum", float, 0.0,
          "momentum of sgd (0: plain sgd; the 2014 paper used 0.95 to 0.99); adam ignores it", lo=0.0, hi=0.99),
    Field("weight_decay", float, 0.0,
          "L2 penalty: weight_decay x weight is added to each weight's gradient (biases are not decayed)",
          lo=0.0, hi=1.0),
    Field("max_norm", float, 0.0,
          "max-norm constraint: after each update, a hidden neuron's incoming weight vector longer than this "
          "is scaled back to this length (0: off; the 2014 paper used 3 to 4)", lo=0.0, hi=100.0),
    Field("lr", float, 0.1, "learning rate", lo=1e-5, hi=100.0, live=True),
    Field("batch_size", int, 64, "examples per iteration (capped at n_train: full batch)", lo=1, hi=2000),
    Field("seed", int, 0, "seed of the initial weights, batch order and dropout masks", lo=0, hi=2**31 - 1),
    Field("data_seed", int, 0, "seed of the generated data set and train/test split", lo=0, hi=2**31 - 1),
)
FIELD = {f.name: f for f in FIELDS}

# How much work to do, rather than what to train: the experiments' and the CLI's counts, checked
# and worded like the Config fields (`steps=0 is out of range: expected an integer from 1 to 1000000`).
RUN_FIELDS: tuple[Field, ...] = (
    Field("steps", int, 1500, "training iterations per network", lo=1, hi=1_000_000),
    Field("seeds", int, 3, "seeds per setting", lo=1, hi=50),
    Field("passes", int, 100, "Monte-Carlo passes T at test time", lo=1, hi=1000),
    Field("every", int, 0, "iterations per progress update and recorded frame (0: about 1% of --steps)",
          lo=0, hi=1_000_000),
)
RUN_FIELD = {f.name: f for f in RUN_FIELDS}

# How the page writes things, not what is trained: read from the URL and checked like the Config fields
# (`notation='x' is not valid: expected one of drop, retain`). The engine always keeps the drop probability.
NOTATIONS = ("drop", "retain")
VIEW_FIELDS: tuple[Field, ...] = (
    Field("notation", str, "drop", "how p is written: drop (dropviz's drop probability) or retain (the 2014 "
          "paper's p, the probability of retaining a unit, 1 - drop probability)", choices=NOTATIONS),
)
VIEW_FIELD = {f.name: f for f in VIEW_FIELDS}


@dataclass(frozen=True)
class Config:
    """Every setting of a run; defaults and allowed ranges come from FIELDS."""
    dataset: str = FIELD["dataset"].default
    n_train: int = FIELD["n_train"].default
    noise: float = FIELD["noise"].default
    depth: int = FIELD["depth"].default
    width: int = FIELD["width"].default
    activation: str = FIELD["activation"].default
    p: float = FIELD["p"].default
    input_p: float = FIELD["input_p"].default
    mode: str = FIELD["mode"].default
    optimizer: str = FIELD["optimizer"].default
    momentum: float = FIELD["momentum"].default
    weight_decay: float = FIELD["weight_decay"].default
    max_norm: float = FIELD["max_norm"].default
    lr: float = FIELD["lr"].default
    batch_size: int = FIELD["batch_size"].default
    seed: int = FIELD["seed"].default
    data_seed: int = FIELD["data_seed"].default

    def __post_init__(self):
        for f in FIELDS:
            value = getattr(self, f.name)
            f.check(value)
            if f.kind is int:
                object.__setattr__(self, f.name, int(value))
            elif f.kind is float:
                object.__setattr__(self, f.name, f.normal(float(value)))
        if self.dataset == "digits" and self.n_train > DIGITS_MAX_TRAIN:
            raise ValueError(f"n_train={self.n_train} is out of range for digits: "
                             f"expected an integer from 4 to {DIGITS_MAX_TRAIN}")

    @property
    def keep(self) -> float:
        return 1.0 - self.p

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_query(self) -> dict[str, str]:
        """Every setting as URL query parameters, under its Config name."""
        return {f.name: format_value(getattr(self, f.name)) for f in FIELDS}

    @classmethod
    def from_query(cls, params: Mapping[str, Any], base: Config | None = None) -> tuple[Config, list[str]]:
        """Read settings from URL parameters. Bad ones fall back and are reported, never raised.

        Returns the config and a list of warnings, each naming the field and its allowed range.
        Unknown parameter names are ignored. A parameter given more than once (`p=0.2&p=bad`, a list of
        values) keeps its last valid value, with a warning that it was repeated and which value is used.
        """
        base = base or cls()
        values, warnings = base.to_dict(), []
        for f in FIELDS:
            if f.name not in params:
                continue
            raw = params[f.name]
            given = [str(v) for v in raw] if isinstance(raw, (list, tuple)) else [str(raw)]
            errors = []
            for text in reversed(given or [""]):  # the last valid value wins
                try:
                    value = f.parse(text)
                    cls(**{**values, f.name: value})  # validates this field against what we have so far
                except ValueError as err:
                    errors.append(err)
                    continue
                values[f.name] = value
                break
            if len(given) > 1:
                used = (f"using {f.name}={format_value(values[f.name])}" if len(errors) < len(given) else
                        f"none is valid (expected {f.allowed()}): using the default "
                        f"{f.name}={format_value(getattr(base, f.name))}")
                warnings.append(f"{f.name} was given {len(given)} times "
                                f"({', '.join(shown(t, 12) for t in given[:4])}{', …' if len(given) > 4 else ''}); "
                                f"{used}")
            elif errors:
                warnings.append(f"{errors[0]}; using the default {f.name}={format_value(getattr(base, f.name))}")
        return cls(**values), warnings

    def structural_key(self) -> tuple:
        """Settings whose change starts a new run (everything that is not `live`)."""
        return tuple(getattr(self, f.name) for f in FIELDS if not f.live)

    def label(self) -> str:
        """Short description of a run, for legends and ghost curves."""
        return (f"{self.dataset} n={self.n_train} {self.depth}x{self.width} {self.activation} "
                f"p={self.p:g} {self.mode} {self.optimizer} lr={self.lr:g}{self.recipe()} seed={self.seed}")

    def recipe(self) -> str:
        """The regularizers besides dropout that are on, for a label (" momentum=0.9 L2=0.001 max-norm=3")."""
        on = [(self.optimizer == "sgd" and self.momentum, "momentum"), (self.weight_decay, "L2"),
              (self.max_norm, "max-norm")]
        return "".join(f" {name}={value:g}" for value, name in on if value)


def _number(x: float) -> str:
    """Range bounds as people write them: 2147483647 and 1000000, not 2.14748e+09; 1e-05 stays."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def shown(value: Any, limit: int = MAX_SHOWN, quote: bool = True) -> str:
    """A given value as it may be repeated in a message (its repr, or as typed if not `quote`), cut after
    `limit` characters: `'0.3000000…' (10,240 characters)`. A 100 kB value never makes a 100 kB message."""
    if not quote or not isinstance(value, str):
        text = repr(value) if quote else str(value)
        return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"
    if len(value) <= limit:
        return repr(value)
    quoted = repr(value[:limit])
    return f"{quoted[:-1]}…{quoted[-1]} ({len(value):,} characters)"


_GIVEN = re.compile(r"""(?<==)(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")  # name='a value', as repr writes it


def bounded(sentence: str, limit: int = MAX_SHOWN) -> str:
    """`sentence` with every quoted value given as `name='...'` cut as `shown` cuts it: the last guard before a
    warning is shown, for sentences worded elsewhere (`speed='<100 kB>' is not valid ...`)."""
    def cut(match: re.Match) -> str:
        try:
            value = ast.literal_eval(match.group(0))
        except (ValueError, SyntaxError):
            return match.group(0)
        return shown(value, limit) if isinstance(value, str) else match.group(0)
    return _GIVEN.sub(cut, sentence)


MARKDOWN_PUNCTUATION = frozenset("""!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~""")  # CommonMark may escape each


def literal(sentence: str) -> str:
    """A sentence holding values from a visitor (a URL), as Markdown that shows it literally: each given value
    cut (`bounded`), then every ASCII punctuation character escaped, so nothing reads as formatting, a link,
    an image, an autolink (http\\://, www\\., a\\@b), math, a colour directive or HTML."""
    escaped = "".join("\\" + c if c in MARKDOWN_PUNCTUATION else c for c in bounded(sentence))
    # Streamlit still links a bare address after its escapes are read (http://..., www.x, a@b): an invisible
    # word joiner (U+2060) inside each keeps it text
    for mark in ("\\:\\/\\/", "www\\.", "\\@"):
        escaped = escaped.replace(mark, WORD_JOINER + mark)
    return escaped


WORD_JOINER = "\u2060"


def format_value(value: Any) -> str:
    """Shortest text that reads back as exactly the same value (0.5, 1e-05, 3)."""
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)
