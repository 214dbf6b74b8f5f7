"""Backpropagation reaches only the neurons this iteration kept.

Gradients shrink by orders of magnitude as training goes on (1e-37 and less late on a deep network), so a
linear colour scale shared by all layers would paint every kept neuron white, like a dropped one. The
colour is each gradient's sign and its size relative to the largest in its layer, on a log scale, and a
nonzero gradient, however small, is never drawn white: only an exact zero is. Dropped neurons (exactly
zero) are grey cells with a cross.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..frame import Frame
from .style import DROPPED, INK, MUTED, SIGNED_SCALE, SMALL, base_layout, figure, ink_axis, nice_ceil, shown_count

DECADES = 4      # relative sizes from 1 down to 10^-DECADES get distinct colours; smaller ones get the palest
FLOOR = 0.35     # the palest colour of a nonzero gradient, as a fraction of the way from white to full colour
DROPPED_FILL = "#b0b0b0"  # the grey cell of a dropped neuron
SCALE_TITLE = "% of the layer's largest"
SCALE_NOTE = "colour: sign and size as % of the largest |gradient| in its layer, log scale"
KEPT_ZERO = "kept, gradient exactly 0"


def signed_log(g, largest: float) -> np.ndarray:
    """Colour value in [-1, 1]: sign(g) × (FLOOR .. 1) for |g| / largest from 10^-DECADES (or less) to 1;
    exactly 0 only where g is exactly 0, so a tiny gradient never looks like a dropped neuron."""
    g = np.asarray(g, float)
    out = np.zeros_like(g)
    nonzero = g != 0
    if largest > 0 and nonzero.any():
        rel = np.abs(g[nonzero]) / largest
        t = np.clip(1 + np.log10(rel) / DECADES, 0.0, 1.0)
        out[nonzero] = np.sign(g[nonzero]) * (FLOOR + (1 - FLOOR) * t)
    return out


def _percent(rel: float) -> str:
    """100%, 1%, 0.01%, 3.2%: never in e-notation."""
    return f"{float(f'{100 * rel:.2g}'):f}".rstrip("0").rstrip(".") + "%"


def _colorbar() -> dict:
    """Ticks at 100 %, 1 % and 0.01 % of the layer's largest gradient, on both signs, and 0."""
    rels = [10.0 ** -k for k in (0, DECADES // 2, DECADES)]
    pos = [float(signed_log([r], 1.0)[0]) for r in rels]
    vals = [-v for v in pos] + [0.0] + pos[::-1]
    text = [f"−{_percent(r)}" for r in rels] + ["0"] + [f"+{_percent(r)}" for r in rels[::-1]]
    return dict(title=dict(text=SCALE_TITLE, side="right", font=dict(size=SMALL)), thickness=14,
                tickvals=vals, ticktext=text, tickfont=dict(size=SMALL))


def _largest(g) -> float:
    g = np.asarray(g, float)
    return float(np.max(np.abs(g))) if g.size else 0.0


def _describe(g: float, largest: float) -> str:
    if g == 0:
        return "exactly 0"
    return f"{g:.3g} ({_percent(abs(g) / largest)} of the layer's largest)"


def gradient_figure(frame: Frame, layer: int | None = None, max_neurons: int = 32,
                    height: int = 520) -> go.Figure:
    """The gradient of the tracked example's loss at each neuron (d loss / d activation).

    With `layer`: one bar per neuron of that hidden layer. Without: a neurons x layers heatmap.
    Dropped neurons are crossed out; their gradient is exactly zero. Colours: see `signed_log`.
    """
    if layer is not None:
        return _bars(frame, layer, max_neurons, height)
    return _heatmap(frame, max_neurons, height)


def _bars(frame, layer, max_neurons, height):
    lf = frame.layers[layer]
    width = len(lf.mask)
    shown = shown_count(width, max_neurons)
    g, keep, idx = np.asarray(lf.grad[:shown], float), np.asarray(lf.mask[:shown], bool), np.arange(shown)
    largest = _largest(lf.grad)
    top = nice_ceil(_largest(g))
    traces = [
        dict(type="bar", x=idx, y=g, name="gradient", showlegend=False,
             text=[_describe(v, largest) for v in g], textposition="none",
             hovertemplate="neuron %{x}: %{text}<extra></extra>",
             marker=dict(color=signed_log(g, largest), colorscale=SIGNED_SCALE, cmin=-1, cmax=1,
                         line=dict(color=MUTED, width=1), colorbar=_colorbar())),
        dict(type="scatter", x=idx[~keep], y=np.zeros(int((~keep).sum())), mode="markers",
             name="dropped: gradient exactly 0",
             marker=dict(symbol="x-thin", size=16, line=dict(color=DROPPED, width=3)),
             hovertemplate="neuron %{x}: dropped, gradient 0<extra></extra>"),
    ]
    dropped, zero = int((~lf.mask).sum()), int(np.sum(lf.grad == 0))
    note = f"{dropped} of {width} dropped, all with gradient 0"
    if zero > dropped:
        note += f"; {zero - dropped} kept also got 0"
    if shown < width:
        note += f" · first {shown} drawn"
    layout = base_layout(f"Gradients, layer {layer + 1}, iteration {frame.step}", height, "gradient",
                         subtitle=f"{note}<br>{SCALE_NOTE}",
                         xaxis=ink_axis("neuron", range=[-0.6, shown - 0.4], fixedrange=True),
                         yaxis=ink_axis("d loss / d activation", range=[-top * 1.1, top * 1.1], fixedrange=True,
                                    exponentformat="e"),
                         showlegend=True, legend=_legend(), margin=dict(l=80, r=20, t=105, b=10, pad=0))
    _title_at_top(layout)
    return figure(traces, layout)



def _legend() -> dict:
    """Under the plot, below the axis title (its height is added to the bottom margin)."""
    return dict(orientation="h", x=0, xanchor="left", y=0, yanchor="bottom", yref="container",
                font=dict(size=SMALL, color=INK))


def _title_at_top(layout: dict) -> None:
    """The title and its two-line subtitle from the top edge down, whatever the theme underneath says."""
    layout["title"].update(y=1, yref="container", yanchor="top", pad=dict(t=10, b=0, l=0, r=0))


def _heatmap(frame, max_neurons, height):
    width = len(frame.layers[0].mask)
    shown = shown_count(width, max_neurons)
    grads = [np.asarray(lf.grad, float) for lf in frame.layers]
    largest = [_largest(g) for g in grads]
    raw = np.array([g[:shown] for g in grads]).T  # neurons x layers
    z = np.array([signed_log(g[:shown], top) for g, top in zip(grads, largest)]).T
    dropped = np.array([~np.asarray(lf.mask[:shown], bool) for lf in frame.layers]).T
    text = [[_describe(raw[i, j], largest[j]) for j in range(raw.shape[1])] for i in range(shown)]
    rows, cols = np.nonzero(dropped)
    zrows, zcols = np.nonzero((raw == 0) & ~dropped)
    layers = np.arange(1, len(frame.layers) + 1)
    traces = [
        dict(type="heatmap", z=z, x=layers, y=np.arange(shown), colorscale=SIGNED_SCALE, zmin=-1, zmax=1,
             xgap=2, ygap=1, colorbar=_colorbar(), text=text,
             hovertemplate="layer %{x}, neuron %{y}: %{text}<extra></extra>"),
        # grey under the cross: a dropped neuron is not "white = zero gradient by chance"
        dict(type="heatmap", z=np.where(dropped, 1.0, np.nan), x=layers, y=np.arange(shown), name="grey cells",
             colorscale=[[0, DROPPED_FILL], [1, DROPPED_FILL]], zmin=0, zmax=1, showscale=False, xgap=2, ygap=1,
             hoverongaps=False, hovertemplate="layer %{x}, neuron %{y}: dropped, gradient exactly 0<extra></extra>"),
        dict(type="scatter", x=cols + 1, y=rows, mode="markers", name="dropped: gradient exactly 0",
             marker=dict(symbol="x-thin", size=min(14, max(8, 300 // shown)), line=dict(color=DROPPED, width=2.5)),
             hoverinfo="skip"),
    ]
    if len(zrows):
        traces.append(dict(type="scatter", x=zcols + 1, y=zrows, mode="markers", name=KEPT_ZERO, hoverinfo="skip",
                           marker=dict(symbol="circle-open", size=min(10, max(6, 240 // shown)),
                                       line=dict(color=MUTED, width=2))))
    more = f" (first {shown} of {width})" if shown < width else ""
    layout = base_layout(f"Gradients, iteration {frame.step}", height, "gradient",
                         subtitle=f"from the tracked example's loss to each neuron<br>{SCALE_NOTE}",
                         xaxis=ink_axis("hidden layer, its largest |gradient| below", tickvals=layers,
                                    ticktext=[f"{n}<br>{top:.0e}" if top else f"{n}<br>0"
                                              for n, top in zip(layers, largest)],
                                    showgrid=False, fixedrange=True),
                         yaxis=ink_axis(f"neuron{more}", autorange="reversed", showgrid=False, fixedrange=True,
                                    title_standoff=6),
                         showlegend=True, legend=_legend(), margin=dict(l=80, r=20, t=105, b=10, pad=0))
    _title_at_top(layout)
    return figure(traces, layout)
