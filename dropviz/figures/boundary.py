"""Data and decision boundary of a 2-D dataset, at test time."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..data import Dataset
from ..frame import Frame
from .style import INK, SMALL, TEST, TRAIN, base_layout, figure, ink_axis

CLASS_COLORS = (TRAIN, TEST)
# class 0 blue .. 0.5 white .. class 1 orange, pale so the points stay visible on top
PROB_SCALE = [[0.0, "#9ec3ea"], [0.5, "#ffffff"], [1.0, "#f7c08f"]]


def grid(data: Dataset, n: int = 60, pad: float = 0.1):
    """An n x n grid over all the data (train and test), padded; fixed for a dataset, so nothing jumps.

    Returns grid_x (n,), grid_y (n,), points (n*n, 2) row by row (y outer), and extent (x0, x1, y0, y1).
    `trainer.predict(points)[:, 1].reshape(n, n)` is the `probs` boundary_figure wants.
    """
    both = np.concatenate([data.x_train, data.x_test])
    lo, hi = both.min(0), both.max(0)
    margin = (hi - lo) * pad
    lo, hi = lo - margin, hi + margin
    grid_x, grid_y = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    xx, yy = np.meshgrid(grid_x, grid_y)
    points = np.c_[xx.ravel(), yy.ravel()].astype(np.float32)
    return grid_x, grid_y, points, (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


def boundary_figure(data: Dataset, grid_x, grid_y, probs, frame: Frame, extent, height: int = 600) -> go.Figure:
    """Test-time probability of class 1 over the plane; training points solid, test points hollow.

    probs: (len(grid_y), len(grid_x)) probabilities of class 1, or (len(grid_y) * len(grid_x), 2) class
    probabilities as `trainer.predict(points)` returns them.
    """
    probs = np.asarray(probs, float)
    if probs.ndim == 2 and probs.shape[1] == data.n_classes and probs.shape[0] == len(grid_x) * len(grid_y):
        probs = probs[:, 1]
    z = probs.reshape(len(grid_y), len(grid_x))
    tracked = data.x_train[frame.tracked_index]
    traces = [
        dict(type="heatmap", x=grid_x, y=grid_y, z=z, zmin=0, zmax=1, colorscale=PROB_SCALE, zsmooth="best",
                   colorbar=dict(title=dict(text="P(class 1)", side="right"), thickness=14,
                                 tickfont=dict(size=SMALL)),
                   hovertemplate="P(class 1) = %{z:.2f}<extra></extra>"),
        dict(type="contour", x=grid_x, y=grid_y, z=z, showscale=False, contours=dict(start=0.5, end=0.5, size=1,
                   coloring="none"), line=dict(color=INK, width=2.5), hoverinfo="skip", name="boundary (0.5)",
                   showlegend=True),
        dict(type="scatter", x=data.x_test[:, 0], y=data.x_test[:, 1], mode="markers", name="test (hollow)",
                   hoverinfo="skip",
                   marker=dict(size=6, color="rgba(0,0,0,0)", opacity=0.6,
                               line=dict(color=[CLASS_COLORS[c] for c in data.y_test], width=1.5))),
        dict(type="scatter", x=data.x_train[:, 0], y=data.x_train[:, 1], mode="markers", name="training (solid)",
                   hovertemplate="training point, class %{text}<extra></extra>", text=data.y_train,
                   marker=dict(size=11, color=[CLASS_COLORS[c] for c in data.y_train],
                               line=dict(color="white", width=1.2))),
        dict(type="scatter", x=[tracked[0]], y=[tracked[1]], mode="markers",
                   name=f"tracked example #{frame.tracked_index}",
                   hoverinfo="name", marker=dict(size=26, color="rgba(0,0,0,0)", symbol="circle",
                                                 line=dict(color=INK, width=4))),
    ]
    x0, x1, y0, y1 = extent
    # short title, the accuracy under it: the panel can be ~600 px wide, and Streamlit draws titles in bold
    layout = base_layout(f"Test-time prediction, iteration {frame.step}", height, "boundary",
                         subtitle=f"test accuracy {frame.test_acc:.0%}",
                         xaxis=ink_axis("x1", range=[x0, x1], showgrid=False, zeroline=False, constrain="domain"),
                         yaxis=ink_axis("x2", range=[y0, y1], showgrid=False, zeroline=False, scaleanchor="x",
                                    constrain="domain"),
                         margin=dict(l=70, r=20, t=85, b=10, pad=0), showlegend=True,
                         # under the axis title: a legend with yref "container" adds its height to the margin
                         legend=dict(orientation="h", x=0.5, xanchor="center", y=0, yanchor="bottom",
                                     yref="container", font=dict(size=SMALL, color=INK)))
    layout["title"].update(y=1, yref="container", yanchor="top", pad=dict(t=10, b=0, l=0, r=0))
    return figure(traces, layout)
