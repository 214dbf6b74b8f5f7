"""The network diagram: which neurons this iteration dropped, and what the survivors carry."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..frame import Frame
from .style import (ACTIVATION_SCALE, DROPPED, INK, INK_SCALE, MAX_NEURONS, MUTED, SMALL, base_layout, figure,
                    hidden_axis, more_note, nice_ceil, scale_text, shown_count)

TOP, BOTTOM = 1.0, 0.0          # neurons live in y in [0, 1]; notes go above and below
Y_RANGE = [-0.36, 1.34]
IMAGE_DOMAIN = 0.14             # share of the width given to an input image


def _rows(n: int, rows: int) -> np.ndarray:
    """y of n neurons, centred, with the spacing of the tallest column (so columns line up)."""
    step = (TOP - BOTTOM) / max(rows - 1, 1)
    return 0.5 + (np.arange(n)[::-1] - (n - 1) / 2) * step


def _segments(xa, ya, xb, yb) -> tuple[np.ndarray, np.ndarray]:
    """All lines from points a to points b as one NaN-separated polyline (one trace, cheap to send)."""
    n = len(xa) * len(xb)
    xs, ys = np.full(3 * n, np.nan, np.float32), np.full(3 * n, np.nan, np.float32)  # f4: half the JSON
    xs[0::3], ys[0::3] = np.repeat(xa, len(xb)), np.repeat(ya, len(xb))
    xs[1::3], ys[1::3] = np.tile(xb, len(xa)), np.tile(yb, len(xa))
    return xs, ys


def _edges(xa, ya, keep_a, xb, yb, keep_b):
    """Split the edges a->b into those between kept neurons and those touching a dropped one."""
    both = np.outer(keep_a, keep_b).ravel()
    xs, ys = _segments(xa, ya, xb, yb)
    live = np.repeat(both, 3)
    return (xs[live], ys[live]), (xs[~live], ys[~live])


def _layer_note(layer, test_time: bool, mode: str) -> str:
    if test_time:
        if mode == "classic" and layer.p > 0:
            return f"all active<br>×{layer.test_scale:.2f}<br>(= 1−p)"
        return "all active<br>×1"
    if mode == "classic":
        return f"p = {layer.p:g}<br>×1<br>test ×{1 - layer.p:.2f}"
    return f"p = {layer.p:g}<br>{scale_text(layer.scale)}"


def network_figure(frame: Frame, cfg, test_time: bool = False, max_neurons: int = MAX_NEURONS, image_shape=None,
                   color_max: float | None = None, height: int = 620) -> go.Figure:
    """Inputs, hidden layers and outputs as columns; dropped neurons empty and crossed out.

    Only the first `max_neurons` of each hidden layer are drawn (always the same ones), with a note
    saying how many more there are and how many of the whole layer this iteration dropped.
    `color_max` fixes the colour range (default: a round number above the largest activation drawn).
    """
    mode, depth = frame.mode, len(frame.layers)
    width = len(frame.layers[0].mask)
    n_in, n_out = len(frame.x), len(frame.test_output)
    image = image_shape is not None and int(np.prod(image_shape)) == n_in
    shown = shown_count(width, max_neurons)
    shown_in = 0 if image else shown_count(n_in, max_neurons)
    rows = max(shown, shown_in, n_out)
    size = float(np.clip(250 / max(rows - 1, 1), 12, 30))

    in_keep = np.ones(n_in, bool)
    if frame.input_mask is not None and not test_time:
        in_keep = np.asarray(frame.input_mask, bool)

    kept_x, kept_y, kept_c, kept_h, drop_x, drop_y, drop_h = [], [], [], [], [], [], []
    live_x, live_y, dead_x, dead_y = [], [], [], []
    notes = []

    # inputs: circles for a few features, or one point the image fans out from
    if image:
        prev_x, prev_y, prev_keep = np.zeros(1), np.full(1, 0.5), np.ones(1, bool)
    else:
        prev_x, prev_y = np.zeros(shown_in), _rows(shown_in, rows)
        prev_keep = in_keep[:shown_in]
    in_note = "<b>input</b>" + (f"<br>p = {frame.input_p:g}" if frame.input_p > 0 and not test_time else "")
    if not image:
        notes.append(dict(x=0, y=TOP + 0.06, text=in_note))
        if shown_in < n_in:
            notes.append(dict(x=0, y=BOTTOM - 0.06, text=f"+{n_in - shown_in} more", yanchor="top"))

    values = []
    for l, layer in enumerate(frame.layers):
        col = l + 1
        keep = np.ones(width, bool) if test_time else np.asarray(layer.mask, bool)
        value = layer.test_post if test_time else layer.pre
        ys, xs, k = _rows(shown, rows), np.full(shown, float(col)), keep[:shown]
        live, dead = _edges(prev_x, prev_y, prev_keep, xs, ys, k)
        live_x.append(live[0]); live_y.append(live[1]); dead_x.append(dead[0]); dead_y.append(dead[1])
        v = np.asarray(value[:shown], float)
        values.append(v[k])
        for i in range(shown):
            where = f"hidden {col}, neuron {i + 1}"
            if k[i]:
                kept_x.append(col); kept_y.append(ys[i]); kept_c.append(v[i])
                kept_h.append(f"{where}<br>activation {v[i]:.3g}" +
                              ("" if test_time else f"<br>kept: sends {layer.post[i]:.3g}"))
            else:
                drop_x.append(col); drop_y.append(ys[i])
                drop_h.append(f"{where}<br>dropped: sends 0 (would be {layer.pre[i]:.3g})")
        notes.append(dict(x=col, y=TOP + 0.06, text=f"<b>hidden {col}</b><br>{_layer_note(layer, test_time, mode)}"))
        notes.append(dict(x=col, y=BOTTOM - 0.06, yanchor="top",
                          text=more_note(np.ones(width, bool) if test_time else layer.mask, shown, depth > 5)))
        prev_x, prev_y, prev_keep = xs, ys, k

    # inputs that input dropout removed
    if not image:
        for i in np.flatnonzero(~in_keep[:shown_in]):
            drop_x.append(0); drop_y.append(_rows(shown_in, rows)[i]); drop_h.append(f"input {i + 1}: dropped")

    out_y = _rows(n_out, rows)
    live = _segments(prev_x[prev_keep], prev_y[prev_keep], np.full(n_out, depth + 1.0), out_y)
    dead = _segments(prev_x[~prev_keep], prev_y[~prev_keep], np.full(n_out, depth + 1.0), out_y)
    live_x.append(live[0]); live_y.append(live[1]); dead_x.append(dead[0]); dead_y.append(dead[1])
    notes.append(dict(x=depth + 1, y=TOP + 0.06, text="<b>output</b><br>never<br>dropped"))

    probs = frame.test_output if test_time else frame.output
    activation = getattr(cfg, "activation", "relu")
    top = color_max or nice_ceil(max((float(np.abs(v).max()) for v in values if v.size), default=1.0))
    lo = 0.0 if activation == "relu" else -top
    traces = [
        dict(type="scatter", x=np.concatenate(dead_x), y=np.concatenate(dead_y), mode="lines", hoverinfo="skip",
                   line=dict(color="rgba(120,120,120,0.13)", width=1), name="edges of dropped neurons",
                   showlegend=False),
        dict(type="scatter", x=np.concatenate(live_x), y=np.concatenate(live_y), mode="lines", hoverinfo="skip",
                   line=dict(color="rgba(40,40,40,0.35)", width=1), name="edges", showlegend=False),
        dict(type="scatter", x=kept_x, y=kept_y, mode="markers",
                   name="active (colour = what it sends on)" if test_time else "kept (colour = activation)",
                   hovertext=kept_h, hoverinfo="text",
                   marker=dict(size=size, color=kept_c, colorscale=ACTIVATION_SCALE, cmin=lo, cmax=top,
                               line=dict(color=INK, width=1.5),
                               colorbar=dict(title=dict(text="activation", side="right"), thickness=14,
                                             len=0.55, x=0.93, xanchor="left",
                                             tickfont=dict(size=SMALL)))),
        dict(type="scatter", x=drop_x, y=drop_y, mode="markers", name="dropped (sends 0)",
                   hovertext=drop_h, hoverinfo="text",
                   marker=dict(size=size, color="white", symbol="circle-x",
                               line=dict(color=DROPPED, width=2.5))),
    ]
    out_text = [f"{c}: {probs[c]:.2f}" + (" ✔" if c == frame.y else "") for c in range(n_out)]
    traces.append(dict(type="scatter", 
        x=np.full(n_out, depth + 1.0), y=out_y, mode="markers+text", text=out_text,
        textposition="middle right", textfont=dict(size=SMALL, color=INK), name="output probability",
        cliponaxis=False,
        hovertext=[f"class {c}: probability {probs[c]:.3f}" for c in range(n_out)], hoverinfo="text",
        marker=dict(size=size, color=probs, colorscale=INK_SCALE, cmin=0, cmax=1, line=dict(color=INK, width=1.5)),
        showlegend=False))
    if not image:
        traces.append(dict(type="scatter", 
            x=np.zeros(shown_in), y=_rows(shown_in, rows), mode="text", showlegend=False, hoverinfo="skip",
            text=[f"x{i + 1} = {frame.x[i]:.2f}     " for i in range(shown_in)], textposition="middle left",
            textfont=dict(size=SMALL, color=INK)))
        traces.append(dict(type="scatter", 
            x=np.zeros(int(in_keep[:shown_in].sum())),
            y=_rows(shown_in, rows)[in_keep[:shown_in]], mode="markers", showlegend=False, hoverinfo="skip",
            marker=dict(size=size, color="#bdbdbd", line=dict(color=INK, width=1.5))))

    left = IMAGE_DOMAIN if image else 0.0
    layout = base_layout(_title(frame, test_time), height, "network",
                         margin=dict(l=10, r=10, t=60, b=10), hovermode="closest",
                         showlegend=True,
                         legend=dict(orientation="h", x=0.5, xanchor="center", y=0.0, yanchor="top",
                                     font=dict(size=SMALL)),
                         xaxis=hidden_axis(range=[-0.15 if image else -0.9 - 0.08 * depth, depth + 1.7 + 0.04 * depth],
                                           domain=[left, 0.92]),
                         yaxis=hidden_axis(range=Y_RANGE),
                         annotations=[{**dict(xref="x", yref="y", showarrow=False, yanchor="bottom",
                                              font=dict(size=SMALL, color=INK)), **n} for n in notes])
    if image:
        _add_image(traces, layout, frame, image_shape, in_keep, test_time)
    return figure(traces, layout)


def _add_image(traces, layout, frame, shape, keep, test_time):
    """The input as a small picture in its own square axes at the left, dropped pixels crossed out."""
    h, w = shape
    traces.insert(0, dict(type="heatmap", z=np.asarray(frame.x, float).reshape(h, w), xaxis="x2", yaxis="y2",
                                colorscale=INK_SCALE, zmin=0, zmax=1, showscale=False, hoverinfo="skip"))
    dropped = np.flatnonzero(~keep)
    if dropped.size:
        traces.append(dict(type="scatter", x=dropped % w, y=dropped // w, xaxis="x2", yaxis="y2", mode="markers",
                                 marker=dict(symbol="x", size=10, color=DROPPED), showlegend=False,
                                 hoverinfo="skip"))
    layout["xaxis2"] = hidden_axis(domain=[0.0, IMAGE_DOMAIN - 0.01], anchor="y2", range=[-0.5, w - 0.5],
                                   constrain="domain")
    layout["yaxis2"] = hidden_axis(domain=[0.3, 0.7], anchor="x2", range=[h - 0.5, -0.5],
                                   scaleanchor="x2", constrain="domain")
    note = "<b>input</b>" + (f"<br>p = {frame.input_p:g}" if frame.input_p > 0 and not test_time else "")
    layout["annotations"].append(dict(xref="x2 domain", yref="y2 domain", x=0.5, y=1.05, yanchor="bottom",
                                      showarrow=False, text=note, font=dict(size=SMALL, color=INK)))


def _title(frame: Frame, test_time: bool) -> str:
    if test_time:
        how = "nothing rescaled" if frame.mode == "inverted" else "activations × (1−p)"
        return f"Iteration {frame.step} · test time: every neuron active, {how}"
    return f"Iteration {frame.step} · training pass of example #{frame.tracked_index} (class {frame.y})"
