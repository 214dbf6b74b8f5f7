"""A visitor's own data file in their live session: loading it (or saying in one sentence why not, keeping the
previous data), the data panel it gets, what a shared link says about it, and the two downloads."""
from __future__ import annotations

from dataclasses import replace

from .. import figures
from ..export import history_csv, rerun_of
from ..replay import replay_html
from ..upload import DataFileError, read_table
from .session import LiveSession

URL_KEY, URL_VALUE = "data", "upload"  # in a link of a run on an uploaded file: the file itself is not in it
LINK_WARNING = (f"{URL_KEY}={URL_VALUE}: this link was made with a data file uploaded in another browser, and a "
                "link cannot carry a file; upload it in the Data section to train on it (meanwhile the built-in "
                "data set is shown)")
REPLAY_LAST = 300  # iterations in "Download replay" by default


def load_file(live: LiveSession, raw: bytes, name: str) -> str:
    """Train on this file from now on and return "", or return the one sentence why not and change nothing."""
    try:
        table = replace(read_table(raw), name=name)
    except DataFileError as err:
        return str(err)
    live.use_table(table)
    return ""


def data_panel(live: LiveSession):
    """("boundary" | "digits" | "projection", a figure function): the panel that fits this run's data. The
    decision boundary needs two features and two classes; other own data gets the projection."""
    data = live.data
    if data.image_shape is not None:
        return "digits", lambda: figures.digits_figure(data, live.test_predictions())
    if data.n_inputs == 2 and data.n_classes == 2:
        def boundary():
            grid_x, grid_y, probs, extent = live.grid_prediction()
            return figures.boundary_figure(data, grid_x, grid_y, probs, live.frame, extent)
        return "boundary", boundary
    classes = live.table.classes if live.table else None
    return "projection", lambda: figures.projection_figure(data, live.test_predictions(), live.frame, classes)


def replay_file(live: LiveSession, last: int = REPLAY_LAST) -> str:
    """The standalone replay of the last `last` iterations of this run (before any, the untrained network)."""
    again, pairs = rerun_of(live, last)
    return replay_html(again, pairs or [again.current_pair()])


def history_file(live: LiveSession) -> str:
    return history_csv(rerun_of(live)[1])
