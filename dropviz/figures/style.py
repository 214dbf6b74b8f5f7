"""Shared look of every dropviz figure: sized for a projector, stable between frames."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

FONT = 18         # base font size in px; nothing is drawn smaller than SMALL
SMALL = 16
TITLE = 22
FAMILY = "Arial, Helvetica, sans-serif"  # system fonts only: nothing is fetched from the internet

INK = "#1a1a1a"
MUTED = "#5a5a5a"
GRID = "#d9d9d9"
DROPPED = "#c62828"      # the cross over a dropped neuron
TEST = "#d95f02"         # test curves / class 1
TRAIN = "#1b63b5"        # training curves / class 0
GOOD = "#1b7f3a"
BAD = "#c62828"
# Colour scales as explicit lists: the figures skip plotly's validation, which is what would turn names
# into lists, and plotly.js reads some names differently (its "Greys" runs black to white; no "_r" names).
ACTIVATION_SCALE = get_colorscale("Viridis")  # dark at 0: a silent kept neuron never looks like an empty dropped one
SIGNED_SCALE = get_colorscale("RdBu_r")       # white at 0, for quantities whose sign matters (gradients)
INK_SCALE = get_colorscale("Greys")           # white at 0, black at 1: images, probabilities


def base_layout(title: str, height: int, revision: str, subtitle: str = "", **extra) -> dict:
    """Fixed size and margins, big fonts, white background; `uirevision` keeps zoom between frames.

    Keep `title` short (panels can be ~600 px wide); the details go in the smaller `subtitle`."""
    title_dict = dict(text=title, font=dict(size=TITLE, color=INK), x=0.01, xanchor="left")
    if subtitle:
        title_dict["subtitle"] = dict(text=subtitle, font=dict(size=SMALL, color=MUTED))
    layout = dict(
        title=title_dict,
        font=dict(family=FAMILY, size=FONT, color=INK),
        height=height, autosize=True, margin=dict(l=70, r=30, t=70, b=60),
        paper_bgcolor="white", plot_bgcolor="white",
        hoverlabel=dict(font=dict(size=SMALL)),
        uirevision=revision, template={},  # no template: plotly.js defaults, small JSON
    )
    layout.update(extra)
    return layout


def axis(title: str = "", **extra) -> dict:
    ax = dict(title=dict(text=title, font=dict(size=FONT)), tickfont=dict(size=SMALL), gridcolor=GRID,
              zerolinecolor="#9e9e9e", linecolor=MUTED, showline=True, ticks="outside", automargin=True)
    ax.update(extra)
    return ax


def hidden_axis(**extra) -> dict:
    ax = dict(visible=False, showgrid=False, zeroline=False, fixedrange=True)
    ax.update(extra)
    return ax


def figure(data: list, layout: dict) -> go.Figure:
    """The Figure, without plotly's per-property validation: it costs ~15 ms on the network diagram, more
    than everything else, and the figures are rebuilt every frame. tests/test_figures.py validates every
    figure strictly instead (go.Figure(fig.to_dict()) raises on any unknown property or bad value)."""
    return go.Figure(data=data, layout=layout, _validate=False)


def message_figure(title: str, text: str, height: int = 300) -> go.Figure:
    """A figure that says why there is nothing to draw (instead of failing)."""
    layout = base_layout(title, height, title, xaxis=hidden_axis(), yaxis=hidden_axis(),
                         annotations=[dict(text=text, x=0.5, y=0.5, xref="paper", yref="paper",
                                           showarrow=False, font=dict(size=FONT, color=MUTED))])
    return figure([], layout)


def nice_ceil(value: float) -> float:
    """The next of 1, 2, 5 x 10^k at or above value: a colour range that rarely changes between frames."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    base = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * base * (1 + 1e-9):
            return step * base
    return 10 * base


MAX_NEURONS = 12  # drawn per layer by the diagrams: the first ones, so the picture never reshuffles


def shown_count(width: int, max_neurons: int) -> int:
    """How many neurons of a layer are drawn: the first ones, so the choice never changes between frames."""
    return max(1, min(width, max_neurons))


def more_note(mask: np.ndarray, shown: int, narrow: bool = False) -> str:
    """'+N more / k/W / dropped' when a layer is cut, else 'k/W / dropped'; `narrow` breaks every line
    so that 8 layers side by side do not overlap."""
    width, dropped = len(mask), int((~np.asarray(mask, bool)).sum())
    count = f"{dropped}/{width}<br>dropped" if dropped else "none<br>dropped"
    more = f"+{width - shown}{'<br>' if narrow else ' '}more"
    return f"{more}<br>{count}" if shown < width else count


def scale_text(factor: float) -> str:
    return f"×{factor:.2f}" if factor != 1 else "×1"
