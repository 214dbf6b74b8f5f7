"""Live loss and accuracy curves: this run, its p = 0 twin (dashed) and faded ghosts of earlier runs."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from ..history import thin
from ..notation import DEFAULT as DEFAULT_NOTATION
from .labels import ACCURACY_TITLE, ITERATION, LOSS_TITLE, MEASURED, SERIES, gap_text, p_change_text, run_title
from .style import INK, P_CHANGE_LINE, RUN_STYLES, SMALL, base_layout, figure, ink_axis

# The notes at the p-change markers sit inside each panel (loss: from the top down, accuracy: from the bottom
# up, where the curves rarely are), never in the panel titles' band above it. Notes that would touch are
# put on different levels; a note that finds no free level is hidden (its dotted line stays).
LEVEL_PX = 24        # between levels
MAX_LEVELS = 3
PANEL_PX = 230       # the narrowest panel they are laid out for: a figure ~620 px wide
NOTE_GAP_PX = 8      # the least room between two notes on one level
NOTE_SHIFT_PX = 4    # between the marker line and its note
TOP_PX = 120         # title, subtitle, the gap note and the panel titles
MAX_POINTS = 4000    # points in the whole figure, shared by its curves (4 a run): a long run is thinned, never
                     # sent whole (after an hour of play that was 19 MB of JSON)


def note_width_px(text: str) -> float:
    """A generous estimate of a note's width in px at SMALL size (Arial: ~0.5 em a character)."""
    return 0.55 * SMALL * len(text) + 4


def note_extent(step: float, x_max: float, text: str, anchor: str) -> tuple[float, float]:
    """Where a note lies along its panel, as fractions of the panel's width: right of its line
    (anchor "left") or left of it (anchor "right")."""
    x = step / x_max if x_max > 0 else 0.0
    width = (note_width_px(text) + NOTE_SHIFT_PX) / PANEL_PX
    return (x, x + width) if anchor == "left" else (x - width, x)


def note_places(changes: list[tuple[float, float]], x_max: float,
                notation: str = DEFAULT_NOTATION) -> list[tuple[int | None, str]]:
    """(level, anchor) of each p change's note; level 0 is nearest the panel's edge, None: hidden.

    The latest change is placed first, so it always has a note; then the others in time order, so that
    close changes read in order, level after level. A note goes right of its line if it fits in the
    panel there, else left of it, on the first level where it touches no other note.
    """
    places: list[tuple[int | None, str]] = [(None, "left")] * len(changes)
    taken: list[list[tuple[float, float]]] = [[] for _ in range(MAX_LEVELS)]
    gap = NOTE_GAP_PX / PANEL_PX
    order = sorted(range(len(changes)), key=lambda i: changes[i][0])
    if order:
        order = [order[-1], *order[:-1]]
    for i in order:
        step, p = changes[i]
        spans_of = {a: note_extent(step, x_max, p_change_text(p, notation), a) for a in ("left", "right")}
        fits = [a for a, (lo, hi) in spans_of.items() if lo >= 0 and hi <= 1] or ["left"]
        for level, spans in enumerate(taken):
            free = [a for a in fits if all(spans_of[a][1] + gap <= lo or spans_of[a][0] >= hi + gap
                                           for lo, hi in spans)]
            if free:
                spans.append(spans_of[free[0]])
                places[i] = (level, free[0])
                break
    return places


def _finite(history: list[dict], key: str) -> tuple[list, list]:
    xs, ys = [], []
    for row in history:
        x, y = row.get("step"), row.get(key)
        if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
            xs.append(x)
            ys.append(y)
    return xs, ys


def _last(history: list[dict], key: str):
    """The last row's (step, value) where both are finite, or None."""
    for row in reversed(history):
        x, y = row.get("step"), row.get(key)
        if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
            return x, y
    return None


def rows_per_run(n_runs: int, max_points: int = MAX_POINTS) -> int:
    """The rows each run's curves are drawn from, so that the figure has at most max_points points."""
    return max(2, max_points // (2 * len(SERIES) * max(1, n_runs)))


def _wrap(text: str, width: int = 44) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def ghost_name(run: dict, main_label: str | None) -> str:
    """An earlier run in the legend: only the settings in which it differs from this run."""
    label = run.get("label", "run")
    if main_label is None:
        return "earlier: " + label
    shared = set(main_label.split())
    differs = [word for word in label.split() if word not in shared]
    return "earlier: " + (" ".join(differs) if differs else "same settings")


def _legend_entry(name: str, line: dict, group: str | None = None, opacity: float = 1.0, rank: int = 1) -> dict:
    """A legend item with nothing on the plot: a zero-length line shape. Clicking it shows or hides its
    group (a run's curves). Shapes, not traces: every trace of this figure is a curve."""
    entry = dict(type="line", xref="paper", yref="paper", x0=0, x1=0, y0=0, y1=0, layer="below",
                 showlegend=True, name=name, line=line, opacity=opacity, legendrank=rank)
    if group:
        entry["legendgroup"] = group
    return entry


def curves_figure(runs: list[dict], height: int = 600, max_points: int | None = MAX_POINTS,
                  notation: str = DEFAULT_NOTATION) -> go.Figure:
    """Loss (left) and accuracy (right) against iteration, for every run.

    Each run: {"label": str, "history": Trainer.history, "style": "main" | "twin" | "ghost",
    "p_changes": [(step, p), ...]}. Training loss is the clean one (the whole training set without
    dropout), comparable with the test loss. Non-finite values are left out.

    The legend: the colours (test, train), then one item per run in its line style; clicking a run's item
    shows or hides its curves. Earlier runs are named there by what differs from this run (their full
    settings are in the hover), never written over the curves.

    The figure has at most max_points points (None: every row): each run's rows are thinned by
    dropviz.history.thin, the rule the live view's curves use, so the first and last rows are always drawn.
    notation: how p is written (dropviz.notation).
    """
    main = next((r for r in runs if r.get("style") == "main"), None)
    traces, shapes, notes = [], [], []
    legend = [_legend_entry(name, RUN_STYLES["main"].plotly(color), rank=1) for _, _, name, color in SERIES]
    drawn = [list(run.get("history", [])) if max_points is None else
             thin(run.get("history", []), rows_per_run(len(runs), max_points)) for run in runs]
    x_max = max([row.get("step") or 0 for rows in drawn for row in rows]
                + [step for run in runs for step, _ in run.get("p_changes", [])] + [0])
    for number, (run, rows) in enumerate(zip(runs, drawn)):
        style = run.get("style", "ghost")
        look = RUN_STYLES.get(style, RUN_STYLES["ghost"])
        group, title = f"run{number}", run_title(run, notation)
        for loss_key, acc_key, name, color in SERIES:
            line, opacity = look.plotly(color), look.opacity
            for key, axes in ((loss_key, ("x", "y")), (acc_key, ("x2", "y2"))):
                xs, ys = _finite(rows, key)
                # legendgrouptitle names the run's group (the live view's payload is checked against it)
                traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", name=name, legendgroup=group,
                                   legendgrouptitle=dict(text=_wrap(title), font=dict(size=SMALL)),
                                   showlegend=False, opacity=opacity, line=line,
                                   xaxis=axes[0], yaxis=axes[1],
                                   hovertemplate=f"{title}: {name}<br>iteration %{{x}}: %{{y:.3f}}"
                                                 "<extra></extra>"))
        shown = title if style != "ghost" else ghost_name(run, main.get("label") if main else None)
        legend.append(_legend_entry(_wrap(shown, 50), look.plotly(INK), group, look.opacity,
                                    rank={"main": 2, "twin": 3}.get(style, 4)))
        if style == "main":
            changes = list(run.get("p_changes", []))
            for (step, p), (level, anchor) in zip(changes, note_places(changes, x_max, notation)):
                for x, y, top in (("x", "y", True), ("x2", "y2", False)):
                    shapes.append(dict(type="line", xref=x, yref=f"{y} domain", x0=step, x1=step, y0=0, y1=1,
                                       line=P_CHANGE_LINE.plotly(INK)))
                    notes.append(dict(x=step, xref=x, yref=f"{y} domain", text=p_change_text(p, notation),
                                      y=1 if top else 0, yanchor="top" if top else "bottom",
                                      yshift=(-1 if top else 1) * (2 + LEVEL_PX * (level or 0)),
                                      xanchor=anchor, xshift=NOTE_SHIFT_PX if anchor == "left" else -NOTE_SHIFT_PX,
                                      visible=level is not None, showarrow=False, borderpad=1,
                                      bgcolor="rgba(255,255,255,0.85)", font=dict(size=SMALL, color=INK)))
    gap = _gap_note(runs)
    if gap:
        notes.append(gap)
    # each panel's quantity is written above it: a y-axis title between the panels would overlap the lines
    for x, title in (("x", LOSS_TITLE), ("x2", ACCURACY_TITLE)):
        head, _, rest = title.partition(" ")  # the quantity in bold: "<b>Loss</b> (cross-entropy)"
        text = f"<b>{head}</b> {rest}".strip()
        notes.append(dict(xref=f"{x} domain", yref="paper", x=0, y=1, xanchor="left", yanchor="bottom",
                          showarrow=False, text=text, font=dict(size=SMALL + 1, color=INK)))
    layout = base_layout("Loss and accuracy", height, "curves", subtitle=MEASURED, hovermode="closest",
                         xaxis=ink_axis(ITERATION, domain=[0.0, 0.45], rangemode="tozero"),
                         yaxis=ink_axis("", rangemode="tozero"),
                         xaxis2=ink_axis(ITERATION, domain=[0.57, 1.0], anchor="y2", rangemode="tozero"),
                         yaxis2=ink_axis("", anchor="x2", range=[0, 1.02], tickformat=".0%"),
                         shapes=shapes + legend, annotations=notes, showlegend=True,
                         # below the axis titles: a legend with yref "container" adds its height to the margin
                         legend=dict(orientation="h", x=0, xanchor="left", y=0, yanchor="bottom", yref="container",
                                     font=dict(size=SMALL, color=INK), groupclick="togglegroup",
                                     traceorder="normal"),
                         margin=dict(l=70, r=20, t=TOP_PX, b=10, pad=0))
    layout["title"].update(y=1, yref="container", yanchor="top", pad=dict(t=10, b=0, l=0, r=0))
    return figure(traces, layout)



def _gap_note(runs: list[dict]) -> dict | None:
    """The test loss gap at the main run's last iteration: main minus twin (negative: dropout helps)."""
    main = next((r for r in runs if r.get("style") == "main"), None)
    twin = next((r for r in runs if r.get("style") == "twin"), None)
    if main is None or twin is None:
        return None
    a, b = _last(main.get("history", []), "test_loss"), _last(twin.get("history", []), "test_loss")
    text = gap_text(a[1] if a else None, b[1] if b else None)
    if not text:
        return None
    # a fixed place above the panel titles, not beside the curve's end: at iteration 0 that is the left edge
    return dict(x=0, y=1.0, xref="paper", yref="paper", yshift=28, xanchor="left", yanchor="bottom",
                showarrow=False, font=dict(size=SMALL + 1, color=INK), text=text)
