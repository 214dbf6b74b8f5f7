"""Shared look of every dropviz figure: sized for a projector, stable between frames."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.colors import get_colorscale, hex_to_rgb, unlabel_rgb

FONT = 18         # base font size in px; nothing is drawn smaller than SMALL
SMALL = 16
TITLE = 22
FAMILY = "Arial, Helvetica, sans-serif"  # system fonts only: nothing is fetched from the internet

# The palette: every colour of every dropviz picture, the Plotly figures' and the live view's (its payload
# sends PALETTE, the line styles and colour scales below; its JavaScript has no colour of its own).
INK = "#1a1a1a"
MUTED = "#5a5a5a"
GRID = "#d9d9d9"
DROPPED = "#c62828"      # the cross over a dropped neuron
TEST = "#d95f02"         # test curves / class 1
TRAIN = "#1b63b5"        # training curves / class 0
GOOD = "#1b7f3a"
BAD = "#c62828"
EDGE = "#6b6b6b"         # the live diagram's edges
EMPTY = "#ffffff"        # the inside of a dropped neuron or pixel
INPUT_FILL = "#e8eef7"   # a kept input neuron of a 2-D data set
PIXEL_EDGE = "#bbbbbb"   # the outline of an input pixel
PALETTE = {"ink": INK, "muted": MUTED, "grid": GRID, "dropped": DROPPED, "test": TEST, "train": TRAIN,
           "edge": EDGE, "empty": EMPTY, "input": INPUT_FILL, "pixel_edge": PIXEL_EDGE}
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


# Text widths without a browser: Helvetica's (= Arial's) advance widths in 1/1000 em, for wrapping titles to
# the width a panel gets. Other characters count as 0.7 em, bold as 10% wider, and 5% more for the fonts that
# stand in for Arial.
_EM = dict(zip(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
               (278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278) + (556,) * 10 +
               (278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556,
                833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
                333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333,
                500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584)))
_TAG = re.compile(r"<[^>]+>")
LINE = 1.3  # a text line's height in font sizes, as plotly.js spaces <br> lines


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width in px of one line of figure text (HTML tags ignored) at font `size`."""
    em = sum(_EM.get(ch, 700) for ch in _TAG.sub("", text)) / 1000
    return em * size * 1.05 * (1.1 if bold else 1.0)


def wrap(text: str, width: float, size: float, bold: bool = False) -> str:
    """`text` with <br> between words wherever a line would be wider than `width` px; its own <br> kept."""
    out = []
    for line in re.split(r"<br\s*/?>", text):
        words, current = line.split(" "), ""
        for word in words:
            trial = f"{current} {word}" if current else word
            if current and text_width(trial, size, bold) > width:
                out.append(current)
                current = word
            else:
                current = trial
        out.append(current)
    return "<br>".join(out)


def lines(text: str) -> int:
    return len(re.split(r"<br\s*/?>", text)) if text else 0


def fit_title(layout: dict, width: float) -> int:
    """Wrap a figure's title (drawn bold by Streamlit) and subtitle to a panel `width` px wide, growing the top
    margin by the lines added. Returns those px."""
    title = layout.get("title")
    if not isinstance(title, dict) or not title.get("text"):
        return 0
    room = width * (0.99 - float(title.get("x", 0.01))) - 12  # from the title's left edge, with a little slack
    added = 0.0
    parts = [(title, float(title.get("font", {}).get("size", TITLE)), True)]
    sub = title.get("subtitle")
    if isinstance(sub, dict) and sub.get("text"):
        parts.append((sub, float(sub.get("font", {}).get("size", SMALL)), False))
    for part, size, bold in parts:
        before = lines(part["text"])
        part["text"] = wrap(part["text"], room, size, bold)
        added += (lines(part["text"]) - before) * size * LINE
    if added:
        margin = layout.setdefault("margin", {})
        margin["t"] = round(margin.get("t", 100) + added)
    return round(added)


def axis(title: str = "", **extra) -> dict:
    ax = dict(title=dict(text=title, font=dict(size=FONT)), tickfont=dict(size=SMALL), gridcolor=GRID,
              zerolinecolor="#9e9e9e", linecolor=MUTED, showline=True, ticks="outside", automargin=True)
    ax.update(extra)
    return ax


AXIS_STANDOFF = 6  # px between an axis title and its tick labels


def ink_axis(title: str = "", **extra) -> dict:
    """axis(), also fixing what Streamlit's theme (st.plotly_chart's default) would set underneath: its
    grey tick labels and axis titles become ink, and the titles sit 6 px from the ticks, not 20-24."""
    ax = axis(title, **extra)
    ax["title"].update(standoff=AXIS_STANDOFF, font=dict(size=FONT, color=INK))
    ax["tickfont"] = dict(ax["tickfont"], color=INK)
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


@dataclass(frozen=True)
class LineStyle:
    """A line as every renderer draws it: width in px, dash as on/off lengths (() = solid), opacity."""
    width: float
    dash: tuple[float, ...] = ()
    opacity: float = 1.0

    def plotly(self, color: str) -> dict:
        """A Plotly `line` dict."""
        dash = ",".join(f"{d:g}px" for d in self.dash) if self.dash else "solid"
        return dict(color=color, width=self.width, dash=dash)

    @property
    def svg_dash(self) -> str:
        """The SVG stroke-dasharray: "" for a solid line."""
        return " ".join(f"{d:g}" for d in self.dash)


# Runs on the loss charts: this run solid, its p = 0 twin dashed, earlier runs (ghosts) faded.
RUN_STYLES = {"main": LineStyle(4.0), "twin": LineStyle(3.0, (10, 7)), "ghost": LineStyle(2.5, (), 0.3)}
P_CHANGE_LINE = LineStyle(2.0, (3, 5))   # the vertical marker where p was changed
DROPPED_OUTLINE = LineStyle(2.5, (5, 4))  # the outline of a dropped neuron in the live diagram


def rgb_stops(scale) -> list:
    """A colour scale as [[position, [r, g, b]], ...], for the live view to interpolate."""
    return [[float(t), [int(v) for v in (hex_to_rgb(c) if c.startswith("#") else unlabel_rgb(c))]]
            for t, c in scale]
