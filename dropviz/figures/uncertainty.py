"""Monte-Carlo dropout on 1-D regression: predictive mean ± std of T passes, the data, and the gap."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import notation as notation_rule
from ..data import GAP
from ..uncertainty import Predictive
from .experiments import _layout
from .style import INK, MUTED, SMALL, TEST, TRAIN

BAND = "rgba(27,99,181,0.20)"   # TRAIN, translucent: mean ± 2 std
GAP_FILL = "rgba(0,0,0,0.06)"


def uncertainty_figure(result: Predictive, height: int = 620, notation: str = notation_rule.DROP) -> go.Figure:
    """Top: the T passes' mean ± 2 std over x, sin(x), the training points, the gap shaded.
    Bottom: the std alone, so its size in the gap, on the data and beyond reads directly."""
    x, mean, std = result.x, result.mean, result.std
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.66, 0.34], vertical_spacing=0.07)
    fig.add_scatter(x=np.r_[x, x[::-1]], y=np.r_[mean + 2 * std, (mean - 2 * std)[::-1]], fill="toself",
                    fillcolor=BAND, line=dict(width=0), hoverinfo="skip", name="mean ± 2 std of the passes",
                    row=1, col=1)
    fig.add_scatter(x=x, y=np.sin(x), mode="lines", line=dict(color=MUTED, width=2, dash="dash"),
                    name="true function sin(x)", hoverinfo="skip", row=1, col=1)
    fig.add_scatter(x=x, y=mean, mode="lines", line=dict(color=TRAIN, width=4), name="predictive mean",
                    hovertemplate="x = %{x:.2f}: mean %{y:.2f}<extra></extra>", row=1, col=1)
    d = result.data
    fig.add_scatter(x=d.x_train[:, 0], y=d.y_train, mode="markers", name="training points",
                    marker=dict(size=9, color=TEST, line=dict(color="white", width=1)), hoverinfo="skip",
                    row=1, col=1)
    fig.add_scatter(x=x, y=std, mode="lines", line=dict(color=INK, width=3), showlegend=False,
                    hovertemplate="x = %{x:.2f}: std %{y:.3f}<extra></extra>", row=2, col=1)
    for row in (1, 2):
        fig.add_vrect(x0=GAP[0], x1=GAP[1], fillcolor=GAP_FILL, line_width=0, row=row, col=1)
    fig.add_annotation(x=0, y=1, yref="y domain", text="no training data", showarrow=False, yanchor="top",
                       font=dict(size=SMALL, color=MUTED), row=1, col=1)
    fig.update_yaxes(title_text="output y", row=1, col=1)
    fig.update_yaxes(title_text="std", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="x", row=2, col=1)
    subtitle = (f"{result.passes} passes with dropout on ({notation_rule.text(result.p, notation)}); std in the gap "
                f"{result.std_in_gap:.3f}, on the data {result.std_on_data:.3f}, beyond it {result.std_beyond:.3f}")
    return _layout(fig, "Monte-Carlo dropout: a spread, not just a prediction", height, subtitle, subplot_lines=0)
