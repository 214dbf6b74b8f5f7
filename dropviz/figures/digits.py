"""A few test digits with the network's predictions."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..data import Dataset
from .style import BAD, GOOD, INK_SCALE, SMALL, base_layout, figure, hidden_axis

PER_ROW = 5
LABEL_WIDTH = 100  # px a digit's label "9 (14%) ✗" takes (18 px bold)
GAP = 2  # blank pixels between digits


def digits_figure(data: Dataset, test_probs, n_show: int = 10, height: int = 480,
                  width: int | None = None) -> go.Figure:
    """The first `n_show` test digits (the same ones every frame) labelled with predicted class and
    probability, green if right and red if wrong; the title has the accuracy on the whole test set.
    width: the panel's width in px, if known: fewer digits a row where their labels would touch."""
    per_row = PER_ROW if width is None else max(2, min(PER_ROW, int((width - 20) // LABEL_WIDTH)))
    probs = np.asarray(test_probs, float)
    pred = probs.argmax(1)
    right = pred == data.y_test
    h, w = data.image_shape or (8, 8)
    n = min(n_show, len(data.y_test))
    n_rows = -(-n // per_row)
    cell_w, cell_h = w + GAP, h + GAP + 3  # room under each digit for its label
    canvas = np.full((n_rows * cell_h, per_row * cell_w), np.nan)
    notes = []
    for i in range(n):
        r, c = divmod(i, per_row)
        canvas[r * cell_h:r * cell_h + h, c * cell_w:c * cell_w + w] = data.x_test[i].reshape(h, w)
        ok = bool(right[i])
        notes.append(dict(x=c * cell_w + (w - 1) / 2, y=r * cell_h + h + 0.2, xref="x", yref="y", yanchor="top",
                          showarrow=False, font=dict(size=SMALL + 2, color=GOOD if ok else BAD),
                          text=f"<b>{pred[i]}</b> ({probs[i, pred[i]]:.0%})"
                               + ("" if ok else f" ✗<br>true: {data.y_test[i]}")))
    traces = [dict(type="heatmap", z=canvas, colorscale=INK_SCALE, zmin=0, zmax=1, showscale=False, hoverinfo="skip")]
    acc = float(right.mean()) if len(right) else float("nan")
    # short title, the details under it: the panel can be ~600 px wide, and Streamlit draws titles in bold
    layout = base_layout(f"Test accuracy {acc:.1%}", height, "digits",
                         subtitle=f"{int(right.sum())} of {len(right)} test digits right · the first {n} shown",
                         annotations=notes, margin=dict(l=10, r=10, t=85, b=10),
                         xaxis=hidden_axis(range=[-0.5, per_row * cell_w - GAP - 0.5], constrain="domain"),
                         yaxis=hidden_axis(range=[n_rows * cell_h - 0.5, -0.5], scaleanchor="x", constrain="domain"))
    layout["title"].update(y=1, yref="container", yanchor="top", pad=dict(t=10, b=0, l=0, r=0))
    return figure(traces, layout)
