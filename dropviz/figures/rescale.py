"""Why survivors are multiplied by 1/(1-p): the layer's sum stays right on average."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..dropout import factor_text, multipliers
from ..frame import Frame
from .style import (
    DROPPED,
    INK,
    LINE,
    MUTED,
    SMALL,
    TEST,
    TITLE,
    TRAIN,
    axis,
    base_layout,
    figure,
    lines,
    message_figure,
    shown_count,
    text_width,
    wrap,
)

ROWS = 3
BAR_DOMAIN = [0.0, 0.52]
MEAN_DOMAIN = [0.62, 1.0]
BAR_PITCH = 18  # px per bar at least: a dropped bar's ✕ (16 px) never touches its neighbour's
# Stacked (a panel too narrow for the row labels beside the running mean): px of each part, top to bottom
ROW_LABEL, TICKS, AXIS_TITLE = 42, 22, 46
LIFT = 8  # px the labels sit above their row: clear of its top tick number
SUBTITLE_GAP = 16  # px plotly.js leaves between a title and its subtitle
LEFT, RIGHT = 50, 16  # px margins of the stacked layout


def _row_domain(row: int) -> list:
    top = 1.0 - row * (1.0 / ROWS)
    return [top - 1.0 / ROWS + 0.1, top - 0.02]


def rescale_figure(frames: list[Frame], layer: int, mode: str | None = None, max_neurons: int = 24,
                   height: int = 560, width: int | None = None) -> go.Figure:
    """Bars of the tracked example's activations in one hidden layer, three ways, with each row's sum.

    inverted: before dropout (pre), after the mask (pre x mask), after scaling (post = pre x mask / (1-p)).
    classic: before dropout, after the mask (= post: no training scale), and at test time test_pre x (1-p).
    Right: the running mean over `frames` of the training sum(post), converging on the sum without dropout.
    Sums are over the whole layer, also when only the first `max_neurons` bars are drawn.
    width: the panel's width in px, if known. Then no more bars are drawn than fit BAR_PITCH px apart, and
    where the rows' labels would run into the running mean beside them, the running mean goes below the bars.
    """
    if not frames:
        return message_figure("Rescaling", "No iterations recorded yet: press Step or Play.")
    last = frames[-1]
    mode = mode or last.mode
    lf = last.layers[layer]
    factors = multipliers(lf.p, mode)
    neurons = len(lf.mask)
    keep = np.asarray(lf.mask, bool)
    masked = lf.pre * keep
    if mode == "classic":
        rows = [("before dropout", lf.pre),
                (f"after the mask ({factor_text(factors.train)})", lf.post),
                ("test time", lf.test_post)]
    else:  # short labels: each must fit above its bars on a ~600 px panel
        rows = [("before dropout", lf.pre),
                ("after the mask", masked),
                (f"scaled × 1/(1−p) = {factor_text(factors.train)}", lf.post)]
    sums = [float(np.sum(v, dtype=np.float64)) for _, v in rows]
    labels = [f"<b>{label}</b>: sum = {_sum_text(lf, total, factors.test, mode == 'classic' and r == 2)}"
              for r, ((label, _), total) in enumerate(zip(rows, sums))]
    stacked = width is not None and max(text_width(t, SMALL, bold=True) for t in labels) > (
        (width - 80) * (BAR_DOMAIN[1] - BAR_DOMAIN[0]))
    bars_px = None if width is None else (width - LEFT - RIGHT) if stacked else (width - 80) * BAR_DOMAIN[1]
    shown = shown_count(neurons, max_neurons if bars_px is None else min(max_neurons, int(bars_px // BAR_PITCH)))
    idx = np.arange(shown)
    top = max(1e-6, max(float(np.max(v[:shown])) for _, v in rows), float(np.max(lf.test_pre[:shown])))
    low = min(0.0, min(float(np.min(v[:shown])) for _, v in rows))
    yr = [low * 1.15, top * 1.25]

    traces, layout_axes, notes = [], {}, []
    colors = [MUTED, TRAIN, TRAIN if mode == "inverted" else TEST]
    for r, ((label, values), text) in enumerate(zip(rows, labels)):
        n = "" if r == 0 else str(r + 1)
        if mode == "classic" and r == 2:  # the test-time activations before the (1-p) multiplication, behind
            traces.append(dict(type="bar", x=idx, y=lf.test_pre[:shown], xaxis="x" + n, yaxis="y" + n, showlegend=False,
                                 marker=dict(color="rgba(0,0,0,0)", line=dict(color=MUTED, width=1.5)),
                                 name="test time before × (1−p)", hoverinfo="y"))
        traces.append(dict(type="bar", x=idx, y=values[:shown], xaxis="x" + n, yaxis="y" + n, showlegend=False,
                             marker=dict(color=colors[r]), name=label, hoverinfo="y",
                             text=None if r == 0 or (mode == "classic" and r == 2) else
                             np.where(keep[:shown], "", "✕"),
                             textposition="outside", constraintext="none", textfont=dict(color=DROPPED, size=SMALL),
                             cliponaxis=False))
        layout_axes["xaxis" + n] = axis("neuron" if r == ROWS - 1 else "", domain=BAR_DOMAIN, anchor="y" + n,
                                        range=[-0.6, shown - 0.4], showticklabels=r == ROWS - 1,
                                        showgrid=False, fixedrange=True)
        layout_axes["yaxis" + n] = axis("", domain=_row_domain(r), anchor="x" + n, range=yr, fixedrange=True,
                                        nticks=3)
        notes.append(dict(xref=f"x{n} domain", yref=f"y{n} domain", x=0, y=1.0, xanchor="left",
                          yanchor="bottom", showarrow=False, font=dict(size=SMALL, color=INK),
                          text=text))
    head, latest, count = _add_running_mean(traces, layout_axes, notes, frames, layer, mode)
    title = f"Rescaling, layer {layer + 1}, iteration {last.step}"
    subtitle = (f"survivors × 1/(1−p) = {factor_text(factors.train)} keep the layer's sum right on average"
                if mode == "inverted" else
                f"classic: no scaling in training; × (1−p) = {factor_text(factors.test)} at test time")
    if shown < neurons:
        subtitle += f"<br>first {shown} of {neurons} neurons drawn; sums over all {neurons}"
    if stacked:  # the legend said in the running mean's note; the subtitle's sentence said by the rows' labels
        key = "dots: each iteration · dashes: 1, as without dropout"
        if mode == "classic":
            key += f" · dotted: 1−p = {factor_text(factors.test)[1:]}, the keep probability"
        notes[-1]["text"] = f"<b>{head}</b>: running mean {latest} over {count} iterations<br>{key}"
        subtitle = subtitle.partition("<br>")[2]
        return figure(traces, _stacked(title, subtitle, height, width, layout_axes, notes))
    layout = base_layout(title, height, "rescale", subtitle=subtitle,
                         margin=dict(l=60, r=20, t=150 if shown < neurons else 115, b=60),
                         bargap=0.15,
                         barmode="overlay", showlegend=True, annotations=notes,
                         legend=dict(x=MEAN_DOMAIN[0], xanchor="left", y=-0.12, yanchor="top",
                                     font=dict(size=SMALL)),
                         **layout_axes)
    return figure(traces, layout)


def _sum_text(lf, total: float, test_factor: float, test_scaled: bool) -> str:
    if test_scaled:
        return f"{np.sum(lf.test_pre, dtype=np.float64):.2f} {factor_text(test_factor)} = {total:.2f}"
    return f"{total:.2f}"


def _add_running_mean(traces, axes, notes, frames, layer, mode):
    """Right panel: sum(post) / sum(pre) of each frame and its running mean, against 1 (no dropout).

    A ratio, not the raw sum: the weights change while training, so the sum without dropout drifts;
    given the frame's activations, the expected ratio is exactly 1 (inverted) or 1-p (classic).
    """
    steps = np.array([f.step for f in frames], float)
    # Sums of magnitudes: the same as plain sums for relu; with tanh, signed sums nearly cancel and
    # their ratio is meaningless, while E[|post|] = |pre| holds neuron by neuron all the same.
    signed = all(np.all(f.layers[layer].pre >= 0) for f in frames)
    post = np.array([np.sum(np.abs(f.layers[layer].post), dtype=np.float64) for f in frames])
    pre = np.array([np.sum(np.abs(f.layers[layer].pre), dtype=np.float64) for f in frames])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = post / pre
    ok = np.isfinite(ratio) & (pre > 0)  # a layer with no activity has no ratio
    steps, ratio = steps[ok], ratio[ok]
    mean = np.cumsum(ratio) / np.arange(1, len(ratio) + 1)
    x_range = [steps[0] - 0.5, steps[-1] + 0.5] if len(steps) else [0, 1]
    traces += [
        dict(type="scatter", x=steps, y=ratio, mode="markers", xaxis="x4", yaxis="y4", name="one iteration",
                   marker=dict(size=8, color=TRAIN, opacity=0.35)),
        dict(type="scatter", x=steps, y=mean, mode="lines", xaxis="x4", yaxis="y4", name="running mean",
                   line=dict(color=TRAIN, width=4)),
        dict(type="scatter", x=x_range, y=[1, 1], mode="lines", xaxis="x4", yaxis="y4",
                   name="without dropout (= 1)", line=dict(color=INK, width=3, dash="dash")),
    ]
    if mode == "classic":
        keep = multipliers(frames[-1].layers[layer].p, mode).test
        traces.append(dict(type="scatter", x=x_range, y=[keep] * 2, mode="lines", xaxis="x4", yaxis="y4",
                                 name=f"1−p = {keep:.2f}, the keep probability",
                                 line=dict(color=TEST, width=3, dash="dot")))
    axes["xaxis4"] = axis("iteration", domain=MEAN_DOMAIN, anchor="y4", range=x_range)
    # no axis title: beside the bars it would overlap them on a narrow panel; the note above says it
    axes["yaxis4"] = axis("", domain=[0.08, 0.84], anchor="x4", rangemode="tozero")
    latest = f"{mean[-1]:.2f}" if len(mean) else "n/a"
    head = "sum after ÷ before" if signed else "sum of |a| after ÷ before"
    notes.append(dict(xref="x4 domain", yref="y4 domain", x=0, y=1.0, xanchor="left", yanchor="bottom",
                      showarrow=False, font=dict(size=SMALL, color=INK), align="left",
                      text=f"<b>{'sum' if signed else 'sum of |a|'} after ÷ before</b><br>"
                           f"mean of {len(ratio)} iterations: {latest}"))
    return head, latest, len(ratio)


def _stacked(title: str, subtitle: str, height: int, width: int, axes: dict, notes: list) -> dict:
    """The layout for a narrow panel: the three rows of bars at full width and the running mean below them, no
    legend (its note says it); every part's height in px, from the lines its texts wrap to at this width."""
    room = width - 24
    top = (10 + TITLE * LINE * lines(wrap(title, room, TITLE, bold=True))
           + (SUBTITLE_GAP + SMALL * LINE * lines(wrap(subtitle, room, SMALL)) if subtitle else 0))
    notes[-1]["text"] = wrap(notes[-1]["text"], room, SMALL)
    note = SMALL * LINE * lines(notes[-1]["text"]) + 6
    plot = height - top - ROW_LABEL - TICKS - 8
    fixed = 2 * ROW_LABEL + TICKS + AXIS_TITLE + note
    mean = max(70.0, 0.3 * (plot - fixed))
    bar = (plot - fixed - mean) / ROWS
    y, domains = plot, []  # from the top of the plot area down, in px above its bottom
    for r in range(ROWS):
        domains.append([(y - bar) / plot, y / plot])
        y -= bar + (ROW_LABEL if r < ROWS - 1 else TICKS + AXIS_TITLE + note)
    for r in range(ROWS):
        n = "" if r == 0 else str(r + 1)
        axes["xaxis" + n]["domain"] = [0, 1]
        axes["yaxis" + n].update(domain=domains[r], nticks=2 if bar < 3 * SMALL * LINE else 3)  # numbers apart
    axes["xaxis3"]["title"]["standoff"] = 2
    axes["xaxis4"].update(domain=[0, 1], title=dict(text=""))
    axes["yaxis4"].update(domain=[0, max(0.0, mean / plot)], nticks=3)
    for n in notes:  # the labels from the panel's left edge: the widest is about as wide as the panel
        n.update(xref="paper", x=0, xshift=-LEFT + 4, yshift=LIFT, align="left")
    layout = base_layout(title, height, "rescale", subtitle=subtitle,
                         margin=dict(l=LEFT, r=RIGHT, t=round(top + ROW_LABEL), b=TICKS + 8, pad=0),
                         bargap=0.15, barmode="overlay", showlegend=False, annotations=notes, **axes)
    layout["title"].update(y=1, yref="container", yanchor="top", pad=dict(t=10, b=0, l=0, r=0))
    return layout
