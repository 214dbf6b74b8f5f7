"""Your own data: a CSV file read with pandas, checked, split and standardised.

The format: a header row naming the columns, numeric feature columns, and a class-label column (the one
named `label`, or else the last column). Each problem is one sentence (DataFileError) naming the row and
column where it can; rows are counted as in a spreadsheet, the header being row 1.

Nothing here writes to disk: the file's bytes come in, a Table (kept in memory by its caller) goes out.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import shown
from .data import Dataset

MAX_BYTES = 5 * 1024 * 1024  # Streamlit's server.maxUploadSize (.streamlit/config.toml) is set to match, in MB
MAX_ROWS = 5000
MIN_FEATURES, MAX_FEATURES = 2, 64
MIN_CLASSES, MAX_CLASSES = 2, 10
TEST_FRACTION = 0.25  # of each class, at least one row, held out for testing
LABEL = "label"


class DataFileError(ValueError):
    """A data file that cannot be used; its message is one sentence saying why."""


@dataclass(frozen=True)
class Table:
    """A checked data file: features as read (not yet standardised) and class codes 0..k-1."""
    name: str
    features: tuple[str, ...]
    label: str
    classes: tuple[str, ...]  # the label values, code i is classes[i]
    x: np.ndarray             # float64 (rows, features)
    y: np.ndarray             # int64 (rows,)

    @property
    def n_features(self) -> int:
        return len(self.features)

    def summary(self) -> str:
        return (f"{self.name}: {len(self.y):,} rows, {self.n_features} features, {len(self.classes)} classes "
                f"({', '.join(self.classes)})")

    def run_label(self, label: str, cfg) -> str:
        """A Config's label (`moons n=40 2x128 ...`) with this file in place of the built-in data set it names."""
        return label.replace(f"{cfg.dataset} n={cfg.n_train}", self.name, 1)

    def dataset(self, data_seed: int) -> Dataset:
        """Train/test split by `data_seed` (each class split on its own, so both sides hold every class), then
        every feature standardised with the mean and standard deviation of the training split alone."""
        rng = np.random.default_rng([data_seed, 13])
        test = np.zeros(len(self.y), bool)
        for code in range(len(self.classes)):
            rows = rng.permutation(np.flatnonzero(self.y == code))
            test[rows[:max(1, round(TEST_FRACTION * len(rows)))]] = True
        train_rows, test_rows = rng.permutation(np.flatnonzero(~test)), np.flatnonzero(test)
        mean = self.x[train_rows].mean(0)
        std = self.x[train_rows].std(0)
        std[std == 0] = 1.0  # a constant feature stays 0 rather than dividing by zero

        def scaled(rows):
            return np.ascontiguousarray((self.x[rows] - mean) / std, dtype=np.float32)
        return Dataset(scaled(train_rows), self.y[train_rows].copy(), scaled(test_rows), self.y[test_rows].copy(),
                       len(self.classes))


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _cell(row: int, column: str) -> str:
    return f"row {row}, column {shown(column)}"


def read_table(raw: bytes, name: str = "The file") -> Table:
    """The checked table of a CSV file's bytes, or DataFileError with one sentence."""
    if len(raw) > MAX_BYTES:
        raise DataFileError(f"{name} is {_mb(len(raw))}: at most {_mb(MAX_BYTES)} is allowed.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataFileError(f"{name} is not UTF-8 text (byte 0x{raw[err.start]:02x} at position {err.start}): "
                            "save it as CSV in UTF-8.") from None
    if not text.strip():
        raise DataFileError(f"{name} is empty: expected a header row, then one row per example.")
    try:  # header=None: the header is checked here (pandas would rename a repeated name to 'x.1')
        cells = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=True)
    except pd.errors.ParserError as err:
        raise DataFileError(f"{name} is not a table of comma-separated values ({' '.join(str(err).split())}): "
                            "every row needs as many values as the header has names.") from None
    except (pd.errors.EmptyDataError, ValueError, OverflowError) as err:
        raise DataFileError(f"{name} could not be read as CSV ({' '.join(str(err).split())}).") from None
    header = [str(h).strip() for h in cells.iloc[0].fillna("")]
    body = cells.iloc[1:]
    _check_header(header, name)
    if body.empty:
        raise DataFileError(f"{name} has a header but no data rows.")
    if len(body) > MAX_ROWS:
        raise DataFileError(f"{name} has {len(body):,} data rows: at most {MAX_ROWS:,} are allowed.")
    label = LABEL if LABEL in header else header[-1]
    features = [h for h in header if h != label]
    if not MIN_FEATURES <= len(features) <= MAX_FEATURES:
        raise DataFileError(f"{name} has {len(features)} feature column{'s' if len(features) != 1 else ''} "
                            f"besides the label column {shown(label)}: expected {MIN_FEATURES} to {MAX_FEATURES}.")
    body.columns = range(len(header))
    x = np.empty((len(body), len(features)))
    for j, feature in enumerate(features):
        x[:, j] = _numbers(body[header.index(feature)], feature)
    labels = body[header.index(label)]
    _check_filled(labels, label)
    classes, y = _classes(labels.str.strip(), label)
    return Table(name, tuple(features), label, classes, x, y)


def _check_header(header: list[str], name: str) -> None:
    if all(_is_number(h) for h in header):
        raise DataFileError(f"{name} has no header row: its first row holds only numbers "
                            f"({', '.join(header[:3])}{', …' if len(header) > 3 else ''}); expected names "
                            "such as x1,x2,label.")
    for i, h in enumerate(header):
        if not h:
            raise DataFileError(f"Column {i + 1} of the header has no name: every column needs one.")
        if h in header[:i]:
            raise DataFileError(f"The column name {shown(h)} appears twice in the header (columns "
                                f"{header.index(h) + 1} and {i + 1}): every column needs its own name.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_filled(column: pd.Series, name: str) -> None:
    empty = column.isna() | (column.fillna("").str.strip() == "")
    if empty.any():
        row = int(empty.to_numpy().argmax()) + 2  # the header is row 1
        raise DataFileError(f"The value at {_cell(row, name)} is missing: every cell needs a value.")


def _numbers(column: pd.Series, name: str) -> np.ndarray:
    _check_filled(column, name)
    values = pd.to_numeric(column.str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(bad.argmax())
        raise DataFileError(f"The value {shown(column.iloc[i].strip())} at {_cell(i + 2, name)} is not a "
                            "finite number: feature columns hold numbers only.")
    return values


def _classes(labels: pd.Series, label: str) -> tuple[tuple[str, ...], np.ndarray]:
    names = sorted(set(labels), key=_class_order)
    if len(names) < MIN_CLASSES:
        raise DataFileError(f"Every row has the same class ({shown(names[0])} in column {shown(label)}): "
                            f"expected {MIN_CLASSES} to {MAX_CLASSES} classes.")
    if len(names) > MAX_CLASSES:
        raise DataFileError(f"The label column {shown(label)} has {len(names)} classes: "
                            f"expected {MIN_CLASSES} to {MAX_CLASSES}.")
    counts = labels.value_counts()
    for c in names:
        if counts[c] < 2:
            raise DataFileError(f"Class {shown(c)} has only 1 row: each class needs at least 2 "
                                "(one to train on, one to test).")
    code = {c: i for i, c in enumerate(names)}
    return tuple(names), labels.map(code).to_numpy(dtype=np.int64)


def _class_order(name: str):
    """Numeric class names in numeric order (2 before 10), then the others alphabetically."""
    try:
        number = float(name)
    except ValueError:
        return (1, 0.0, name)
    return (0, number if math.isfinite(number) else 0.0, name)
