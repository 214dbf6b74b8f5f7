"""The ensemble of thinned networks (dropviz.ensemble): K thinned networks' decision boundaries as small
multiples, and their average beside the single weight-scaled pass. Pure: arrays in, Figure out."""
from __future__ import annotations

import numpy as np
from plotly.subplots import make_subplots

from ..data import Dataset
from .boundary import CLASS_COLORS, PROB_SCALE
from .style import FAMILY, FONT, INK, MUTED, SMALL, TITLE, hidden_axis

DIFF_SCALE = [[0.0, "#ffffff"], [1.0, "#6a1b9a"]]  # |average − weight-scaled|: white where they agree


def _title(fig, title: str, subtitle: str, height: int, top: int) -> None:
    title_dict = dict(text=title, font=dict(size=TITLE, color=INK), x=0.01, xanchor="left", y=1, yanchor="top",
                      yref="container", pad=dict(t=10, b=0, l=0, r=0))
    if subtitle:
        title_dict["subtitle"] = dict(text=subtitle, font=dict(size=SMALL, color=MUTED))
    fig.update_layout(title=title_dict, font=dict(family=FAMILY, size=FONT, color=INK), height=height,
                      margin=dict(l=10, r=10, t=top, b=10, pad=0), paper_bgcolor="white", plot_bgcolor="white",
                      showlegend=False, template={}, hoverlabel=dict(font=dict(size=SMALL)))
    fig.update_annotations(font=dict(size=SMALL + 2, color=INK))  # the subplot titles
    fig.update_xaxes(**hidden_axis(constrain="domain"))
    fig.update_yaxes(**hidden_axis(constrain="domain"))


def _map(fig, row: int, col: int, grid_x, grid_y, z, scale=PROB_SCALE, zmax: float = 1.0, line: bool = True,
         hover: str = "P(class 1) = %{z:.2f}") -> None:
    fig.add_trace(dict(type="heatmap", x=grid_x, y=grid_y, z=z, zmin=0, zmax=zmax, colorscale=scale,
                       showscale=False, zsmooth="best", hovertemplate=hover + "<extra></extra>"), row=row, col=col)
    if line:
        fig.add_trace(dict(type="contour", x=grid_x, y=grid_y, z=z, showscale=False, hoverinfo="skip",
                           contours=dict(start=0.5, end=0.5, size=1, coloring="none"),
                           line=dict(color=INK, width=2.5)), row=row, col=col)


def _points(fig, row: int, col: int, data: Dataset, size: int = 6) -> None:
    fig.add_trace(dict(type="scatter", x=data.x_train[:, 0], y=data.x_train[:, 1], mode="markers", hoverinfo="skip",
                       marker=dict(size=size, color=[CLASS_COLORS[c] for c in data.y_train],
                                   line=dict(color="white", width=0.8))), row=row, col=col)


def _square(fig, extent, rows: int, cols: int) -> None:
    x0, x1, y0, y1 = extent
    for i in range(rows * cols):
        suffix = "" if i == 0 else str(i + 1)
        fig.layout[f"xaxis{suffix}"].update(range=[x0, x1])
        fig.layout[f"yaxis{suffix}"].update(range=[y0, y1], scaleanchor=f"x{suffix}")


def thinned_figure(data: Dataset, grid_x, grid_y, probs, kept, test_acc, extent, per_row: int = 4,
                   height: int = 560):
    """K thinned networks' P(class 1) over the plane with their 0.5 line, one small map each, titled with how
    many hidden neurons it keeps and its test accuracy. probs: (K, len(grid_y) * len(grid_x), C)."""
    k = len(probs)
    rows = -(-k // per_row)
    titles = [f"#{i + 1}: {int(sum(m.sum() for m in kept[i]))}/{sum(len(m) for m in kept[i])} kept · "
              f"{test_acc[i]:.0%}" for i in range(k)]
    fig = make_subplots(rows=rows, cols=per_row, subplot_titles=titles, horizontal_spacing=0.02,
                        vertical_spacing=0.09)
    shape = (len(grid_y), len(grid_x))
    for i in range(k):
        r, c = divmod(i, per_row)
        _map(fig, r + 1, c + 1, grid_x, grid_y, np.asarray(probs[i])[:, 1].reshape(shape))
        _points(fig, r + 1, c + 1, data, size=5)
    _title(fig, f"{k} thinned networks: the same weights, each with its own mask",
           "each one fixed mask for every point · title: hidden neurons kept · test accuracy", height, 110)
    _square(fig, extent, rows, per_row)
    return fig


def average_figure(data: Dataset, grid_x, grid_y, average, scaled, extent, k: int, acc_average: float,
                   acc_scaled: float, disagree: float, height: int = 480):
    """The average of the K thinned networks, the single weight-scaled pass, and where they differ."""
    shape = (len(grid_y), len(grid_x))
    avg, one = np.asarray(average)[:, 1].reshape(shape), np.asarray(scaled)[:, 1].reshape(shape)
    diff = np.abs(avg - one)
    titles = (f"average of the {k}<br>test {acc_average:.1%}", f"weight scaling, one pass<br>test {acc_scaled:.1%}",
              f"|difference|<br>largest {diff.max():.2f}")
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.03)
    _map(fig, 1, 1, grid_x, grid_y, avg)
    _map(fig, 1, 2, grid_x, grid_y, one)
    _points(fig, 1, 1, data)
    _points(fig, 1, 2, data)
    _map(fig, 1, 3, grid_x, grid_y, diff, scale=DIFF_SCALE, zmax=max(0.05, float(diff.max())), line=False,
         hover="|difference| = %{z:.3f}")
    _title(fig, "Their average against the one test-time pass",
           f"{disagree:.1%} of the plane changes class · colour: P(class 1), black line at 0.5 · purple: they differ",
           height, 150)
    _square(fig, extent, 1, 3)
    return fig
