"""The regularizers experiment's figure: test error of each method on this data, beside the 2014 paper's
MNIST errors (Table 9), which are reference text for the order of the methods, not for their values."""
from __future__ import annotations

import numpy as np
import pandas as pd
from plotly.subplots import make_subplots

from ..regularizers import METHODS, PAPER_MNIST_ERROR
from ..stats import t_interval
from .style import INK, MUTED, SMALL


def error_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per method (in METHODS order): seeds that finished, mean test error in % and its 95% t-interval."""
    rows = []
    for method in [m for m in METHODS if m in set(df["method"])]:
        errors = 100 * (1 - df.loc[(df["method"] == method), "test_acc"].dropna().to_numpy())
        n = len(errors)
        i = t_interval(errors)
        half = i.hi - i.mean if n > 1 else np.nan
        rows.append(dict(method=method, seeds=n, runs=int((df["method"] == method).sum()),
                         error=errors.mean() if n else np.nan, half_width=half))
    return pd.DataFrame(rows)


def regularizers_figure(df: pd.DataFrame):
    # here, not at the top: figures.experiments imports this module to list the figure in FIGURES
    from .experiments import DROPOUT, NO_DROPOUT, _layout

    summary = error_summary(df)
    methods = list(summary["method"])
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.68, 0.32], horizontal_spacing=0.04,
                        subplot_titles=("dropviz, this data: test error (%)",
                                        "2014 paper, MNIST (Table 9)"))
    colors = [DROPOUT if METHODS[m][0] else NO_DROPOUT for m in methods]
    for method, color in zip(methods, colors):
        errors = 100 * (1 - df.loc[df["method"] == method, "test_acc"].dropna())
        fig.add_scatter(x=errors, y=[method] * len(errors), mode="markers", showlegend=False, hoverinfo="x",
                        marker=dict(size=10, color="white", line=dict(color=color, width=2)), row=1, col=1)
    fig.add_scatter(x=summary["error"], y=methods, mode="markers", name="mean, 95% interval over seeds",
                    error_x=dict(type="data", array=summary["half_width"].fillna(0), thickness=3, width=8,
                                 color=INK),
                    marker=dict(size=16, symbol="diamond", color=colors, line=dict(color=INK, width=1.5)),
                    hovertemplate="%{y}: %{x:.2f}%<extra></extra>", row=1, col=1)
    fig.add_scatter(x=[None], y=[None], mode="markers", name="one seed", marker=dict(
        size=10, color="white", line=dict(color=MUTED, width=2)), row=1, col=1)
    paper = [PAPER_MNIST_ERROR.get(m) for m in methods]
    fig.add_bar(x=[v or 0 for v in paper], y=methods, orientation="h", marker_color="#b9b9b9", showlegend=False,
                text=[f"{v:.2f}%" if v else "not in Table 9" for v in paper], textposition="outside",
                textfont=dict(size=SMALL, color=INK), cliponaxis=False, hoverinfo="skip", row=1, col=2)
    top = max(v for v in paper if v) if any(paper) else 1.0
    fig.update_xaxes(range=[0, top * 2.6], showticklabels=False, showgrid=False, row=1, col=2)
    fig.update_xaxes(title_text="test error (%), each dot one seed", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(autorange="reversed", type="category")
    finished, runs = int(summary["seeds"].sum()), int(summary["runs"].sum())
    note = "" if finished == runs else f"; {runs - finished} diverged runs left out"
    return _layout(fig, "Dropout beside L2 and max-norm", 560,
                   f"{summary['runs'].max()} seeds per method{note}. Right: the paper's MNIST errors (bigger "
                   "nets, 60,000 images), for the order only", subplot_lines=1)
