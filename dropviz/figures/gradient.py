"""Backpropagation reaches only the neurons this iteration kept."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..frame import Frame
from .style import (DROPPED, MUTED, SIGNED_SCALE, SMALL, axis, base_layout, figure, nice_ceil, shown_count)


def gradient_figure(frame: Frame, layer: int | None = None, max_neurons: int = 32,
                    height: int = 460) -> go.Figure:
    """The gradient of the tracked example's loss at each neuron (d loss / d activation).

    With `layer`: one bar per neuron of that hidden layer. Without: a neurons x layers heatmap.
    Dropped neurons are crossed out; their gradient is exactly zero. Colours are symmetric around zero.
    """
    if layer is not None:
        return _bars(frame, layer, max_neurons, height)
    return _heatmap(frame, max_neurons, height)


def _limit(values) -> float:
    return nice_ceil(max(float(np.max(np.abs(v))) if np.size(v) else 0.0 for v in values))


def _bars(frame, layer, max_neurons, height):
    lf = frame.layers[layer]
    width = len(lf.mask)
    shown = shown_count(width, max_neurons)
    g, keep, idx = np.asarray(lf.grad[:shown], float), np.asarray(lf.mask[:shown], bool), np.arange(shown)
    top = _limit([g])
    traces = [
        dict(type="bar", x=idx, y=g, name="gradient", showlegend=False, hovertemplate="neuron %{x}: %{y:.3g}<extra></extra>",
               marker=dict(color=g, colorscale=SIGNED_SCALE, cmin=-top, cmax=top, line=dict(color=MUTED, width=1),
                           colorbar=dict(title=dict(text="gradient", side="right"), thickness=14,
                                         tickfont=dict(size=SMALL)))),
        dict(type="scatter", x=idx[~keep], y=np.zeros(int((~keep).sum())), mode="markers", name="dropped: gradient exactly 0",
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
                         subtitle="from the tracked example's loss to each neuron",
                         xaxis=axis("neuron", range=[-0.6, shown - 0.4], fixedrange=True),
                         yaxis=axis("d loss / d activation", range=[-top * 1.1, top * 1.1], fixedrange=True),
                         showlegend=True, legend=dict(x=0, y=1.0, xanchor="left", yanchor="bottom",
                                                      orientation="h", font=dict(size=SMALL)),
                         margin=dict(l=80, r=20, t=125, b=60),
                         annotations=[dict(xref="paper", yref="paper", x=1, y=1.0, xanchor="right", yanchor="bottom",
                                           showarrow=False, text=note, font=dict(size=SMALL, color=MUTED))])
    return figure(traces, layout)


def _heatmap(frame, max_neurons, height):
    width = len(frame.layers[0].mask)
    shown = shown_count(width, max_neurons)
    z = np.array([np.asarray(lf.grad[:shown], float) for lf in frame.layers]).T  # neurons x layers
    dropped = np.array([~np.asarray(lf.mask[:shown], bool) for lf in frame.layers]).T
    top = _limit([z])
    rows, cols = np.nonzero(dropped)
    layers = np.arange(1, len(frame.layers) + 1)
    traces = [
        dict(type="heatmap", z=z, x=layers, y=np.arange(shown), colorscale=SIGNED_SCALE, zmin=-top, zmax=top, xgap=2, ygap=1,
                   colorbar=dict(title=dict(text="gradient", side="right"), thickness=14, tickfont=dict(size=SMALL)),
                   hovertemplate="layer %{x}, neuron %{y}: %{z:.3g}<extra></extra>"),
        dict(type="scatter", x=cols + 1, y=rows, mode="markers", name="dropped: gradient exactly 0",
                   marker=dict(symbol="x-thin", size=min(14, max(6, 300 // shown)), line=dict(color=DROPPED, width=2)),
                   hoverinfo="skip"),
    ]
    more = f" (first {shown} of {width} per layer drawn)" if shown < width else ""
    layout = base_layout(f"Gradients, iteration {frame.step}", height, "gradient",
                         subtitle=f"from the tracked example's loss to each neuron{more}",
                         xaxis=axis("hidden layer", tickvals=layers, showgrid=False, fixedrange=True),
                         yaxis=axis("neuron", autorange="reversed", showgrid=False, fixedrange=True),
                         showlegend=True, legend=dict(x=0, y=1.0, xanchor="left", yanchor="bottom",
                                                      orientation="h", font=dict(size=SMALL)),
                         margin=dict(l=80, r=20, t=125, b=60))
    return figure(traces, layout)
