"""`--data-file PATH`: train on your own CSV file (dropviz/upload.py has the format) instead of a built-in set."""
from __future__ import annotations

import argparse
import os
from dataclasses import replace

from ..config import shown
from ..upload import (
    MAX_BYTES,
    MAX_CLASSES,
    MAX_FEATURES,
    MAX_ROWS,
    MIN_CLASSES,
    MIN_FEATURES,
    DataFileError,
    Table,
    read_table,
)


def add_data_file_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-file", dest="data_file", default=None, metavar="PATH",
                        help="train on your own CSV file instead of --dataset: a header row, numeric feature "
                             f"columns and a class column (named 'label', else the last); {MIN_FEATURES} to "
                             f"{MAX_FEATURES} features, {MIN_CLASSES} to {MAX_CLASSES} classes, at most "
                             f"{MAX_ROWS:,} rows and {MAX_BYTES // 2**20} MB")


def table_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Table | None:
    """The checked table of --data-file, None without it; a bad file exits 2 with one line naming the flag."""
    path = getattr(args, "data_file", None)
    if path is None:
        return None
    name = f"--data-file={shown(path, 200)}"
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)  # enough to know it is too large
        return replace(read_table(raw), name=os.path.basename(path))
    except OSError as err:
        parser.error(f"{name} cannot be read ({err.strerror or type(err).__name__}): expected a CSV file")
    except DataFileError as err:
        parser.error(f"{name}: {err}")
