"""Pure figure functions for the experiments: an experiment's DataFrame in, a plotly Figure out.

Sized for a projector: big fonts, thick lines, mean over seeds with a band from the lowest to the
highest seed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from plotly.subplots import make_subplots

from .figures.style import BAD, FONT, GOOD, GRID, INK, MUTED, SMALL, TEST, TITLE, TRAIN, FAMILY

NO_DROPOUT = "#5a5a5a"
DROPOUT = "#1b7f3a"
LINE = 4


def _layout(fig, title: str, height: int):
    fig.update_layout(
        title=dict(text=title, font=dict(size=TITLE, color=INK), x=0.01, xanchor="left"),
        font=dict(family=FAMILY, size=FONT, color=INK), height=height,
        margin=dict(l=80, r=30, t=110, b=70), paper_bgcolor="white", plot_bgcolor="white",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, font=dict(size=SMALL)),
        hoverlabel=dict(font=dict(size=SMALL)), template={})
    fig.update_xaxes(gridcolor=GRID, linecolor=MUTED, showline=True, ticks="outside", tickfont=dict(size=SMALL),
                     title_font=dict(size=FONT), automargin=True)
    fig.update_yaxes(gridcolor=GRID, linecolor=MUTED, showline=True, ticks="outside", tickfont=dict(size=SMALL),
                     title_font=dict(size=FONT), automargin=True)
    fig.update_annotations(font_size=FONT)
    return fig


def _band(fig, x, mean, lo, hi, color, name, row, col, dash=None, show=True):
    """Mean line over a translucent band from the lowest to the highest seed."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    fig.add_scatter(x=np.r_[x, x[::-1]], y=np.r_[hi, lo[::-1]], fill="toself", fillcolor=f"rgba({r},{g},{b},0.18)",
                    line=dict(width=0), hoverinfo="skip", showlegend=False, legendgroup=name, row=row, col=col)
    fig.add_scatter(x=x, y=mean, mode="lines+markers", name=name, legendgroup=name, showlegend=show,
                    line=dict(color=color, width=LINE, dash=dash), marker=dict(size=9), row=row, col=col)


def _stats(df: pd.DataFrame, by: str, column: str):
    g = df.groupby(by)[column]
    s = pd.DataFrame({"mean": g.mean(), "lo": g.min(), "hi": g.max()}).sort_index()
    return s.index.to_numpy(), s["mean"].to_numpy(), s["lo"].to_numpy(), s["hi"].to_numpy()


# ---------------------------------------------------------------------- 1. choosing p
def p_sweep_figure(df: pd.DataFrame):
    variants = list(dict.fromkeys(df["variant"]))
    fig = make_subplots(rows=2, cols=len(variants), shared_xaxes=True, vertical_spacing=0.1,
                        horizontal_spacing=0.08, column_titles=variants if len(variants) > 1 else None)
    seeds = df["seed"].nunique()
    for c, variant in enumerate(variants, start=1):
        d = df[df["variant"] == variant]
        for row, metric, label in ((1, "loss", "loss"), (2, "acc", "accuracy")):
            for split, color, dash in (("train", TRAIN, None), ("test", TEST, "dash")):
                x, m, lo, hi = _stats(d, "p", f"{split}_{metric}")
                _band(fig, x, m, lo, hi, color, f"{split} {label}", row, c, dash, show=(c == 1))
            fig.update_yaxes(title_text=label if c == 1 else None, row=row, col=c)
        x, test_loss, _, _ = _stats(d, "p", "test_loss")
        _, train_loss, _, _ = _stats(d, "p", "train_loss")
        if np.all(np.isnan(test_loss)):
            continue
        best = int(np.nanargmin(test_loss))
        for row in (1, 2):
            fig.add_vline(x=x[best], line=dict(color=GOOD, width=3, dash="dot"), row=row, col=c)
        fig.add_annotation(x=x[best], y=1, yref=f"y{'' if c == 1 else c} domain", text=f"<b>best p = {x[best]:g}</b>",
                           showarrow=False, yanchor="top", xanchor="left", xshift=6, bgcolor="rgba(255,255,255,0.8)",
                           font=dict(color=GOOD, size=FONT), row=1, col=c)
        gap = test_loss - train_loss
        if best > 0 and gap[0] > 1.5 * gap[best] and gap[0] - gap[best] > 0.05:  # only say what the data shows
            fig.add_annotation(x=x[0], y=test_loss[0], text="overfits:<br>test ≫ train", showarrow=True, ax=60, ay=-10,
                               xanchor="left", font=dict(color=BAD, size=SMALL), row=1, col=c)
        rise = train_loss[-1] - np.nanmin(train_loss)
        if best < len(x) - 1 and rise > 0.05 and train_loss[-1] > 2 * np.nanmin(train_loss):
            fig.add_annotation(x=x[-1], y=train_loss[-1], text="underfits:<br>train loss rises", showarrow=True,
                               ax=-70, ay=-40, xanchor="right", font=dict(color=BAD, size=SMALL), row=1, col=c)
        fig.update_xaxes(title_text="p (drop probability)", row=2, col=c)
    fig.update_yaxes(rangemode="tozero", row=1)
    return _layout(fig, f"Choosing p: final loss and accuracy (test time), mean and range over {seeds} seeds", 640)


# ---------------------------------------------------------------------- 2. amount of data
def data_size_figure(df: pd.DataFrame):
    p = df.loc[df["p"] > 0, "p"].iloc[0]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("test accuracy", f"gain from dropout (p = {p:g})"))
    for q, color, name in ((0.0, NO_DROPOUT, "p = 0"), (p, DROPOUT, f"p = {p:g}")):
        x, m, lo, hi = _stats(df[df["p"] == q], "n_train", "test_acc")
        _band(fig, x, m, lo, hi, color, name, 1, 1, dash="dash" if q == 0 else None)
    paired = df.pivot_table(index=["n_train", "seed"], columns="p", values="test_acc").reset_index()
    paired["gain"] = paired[p] - paired[0.0]
    x, m, lo, hi = _stats(paired, "n_train", "gain")
    _band(fig, x, m, lo, hi, GOOD, "gain (same seed)", 1, 2)
    fig.add_hline(y=0, line=dict(color=MUTED, width=2), row=1, col=2)
    fig.update_xaxes(type="log", title_text="training points (log scale)", tickvals=x, ticktext=[str(int(v)) for v in x])
    fig.update_yaxes(title_text="accuracy", row=1, col=1)
    fig.update_yaxes(title_text="accuracy with − without", tickformat="+.2f", row=1, col=2)
    return _layout(fig, f"Amount of data: does dropout help? mean and range over {df['seed'].nunique()} seeds", 520)


# ---------------------------------------------------------------------- 3. test-time rule
def mc_vs_scaling_figure(df: pd.DataFrame):
    curve, grid, data = (df[df["part"] == k] for k in ("curve", "map", "data"))
    has_map = len(grid) > 0
    p = curve["p"].iloc[0]
    fig = make_subplots(rows=1, cols=2 if has_map else 1, horizontal_spacing=0.14,
                        subplot_titles=("test error vs number of passes T",
                                        "Monte-Carlo std of P(class 1)") if has_map else None)
    x, m, lo, hi = _stats(curve, "T", "mc_error")
    _band(fig, x, m, lo, hi, TEST, "Monte-Carlo average of T passes", 1, 1)
    scaled = curve.groupby("seed")["scaled_error"].first()
    fig.add_hline(y=scaled.mean(), line=dict(color=TRAIN, width=LINE, dash="dash"), row=1, col=1)
    fig.add_scatter(x=[None], y=[None], mode="lines", line=dict(color=TRAIN, width=LINE, dash="dash"),
                    name="weight scaling (one deterministic pass)", row=1, col=1)
    fig.update_xaxes(type="log", title_text="T (stochastic passes, log scale)", row=1, col=1)
    fig.update_yaxes(title_text="test error", tickformat=".0%", row=1, col=1)
    if has_map:
        xs, ys = np.sort(grid["x1"].unique()), np.sort(grid["x2"].unique())
        z = grid.pivot_table(index="x2", columns="x1", values="mc_std").reindex(index=ys, columns=xs).to_numpy()
        fig.add_heatmap(x=xs, y=ys, z=z, colorscale="Viridis", zmin=0, showlegend=False, row=1, col=2,
                        colorbar=dict(title=dict(text="std", font=dict(size=SMALL)), tickfont=dict(size=SMALL), len=0.9))
        for label, color in ((0, "#ffffff"), (1, "#ff7f0e")):
            pts = data[data["label"] == label]
            fig.add_scatter(x=pts["x1"], y=pts["x2"], mode="markers", name=f"training class {label}",
                            marker=dict(color=color, size=9, line=dict(color=INK, width=1.5)), row=1, col=2)
        fig.update_xaxes(title_text="x1", range=[xs[0], xs[-1]], row=1, col=2)
        fig.update_yaxes(title_text="x2", range=[ys[0], ys[-1]], row=1, col=2)
    return _layout(fig, f"Test-time rule (p = {p:g}): {int(x.max())} Monte-Carlo passes vs weight scaling, "
                        f"{curve['seed'].nunique()} seeds", 560)


# ---------------------------------------------------------------------- 4. sparsity
def sparsity_figure(df: pd.DataFrame, layer: int | None = None):
    hist, units, summary = (df[df["part"] == k] for k in ("hist", "unit_mean", "summary"))
    layer = int(hist["layer"].max()) if layer is None else layer
    hist, units, summary = (t[t["layer"] == layer] for t in (hist, units, summary))
    p = summary.loc[summary["p"] > 0, "p"].iloc[0]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(f"activations of hidden layer {layer} (test set)",
                                        "mean activation of each neuron"))
    for q, color, name in ((0.0, NO_DROPOUT, "p = 0"), (p, DROPOUT, f"p = {p:g}")):
        s = summary[summary["p"] == q]
        label = (f"{name}: mean {s['mean_activation'].mean():.2f}, "
                 f"{100 * s['active_fraction'].mean():.0f}% active")
        h = hist[hist["p"] == q]
        fig.add_bar(x=(h["bin_left"] + h["bin_right"]) / 2, y=h["fraction"], width=h["bin_right"] - h["bin_left"],
                    name=label, legendgroup=name, marker=dict(color=color, opacity=0.6), row=1, col=1)
        u = units[units["p"] == q]["mean_activation"]
        edges = np.linspace(0, max(units["mean_activation"].max(), 1e-6), 31)
        counts, _ = np.histogram(u, edges)
        fig.add_bar(x=(edges[:-1] + edges[1:]) / 2, y=counts / max(counts.sum(), 1), width=np.diff(edges),
                    legendgroup=name, showlegend=False, marker=dict(color=color, opacity=0.6), row=1, col=2)
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(type="log", title_text="fraction of activations", row=1, col=1)
    fig.update_yaxes(title_text="fraction of neurons", row=1, col=2)
    fig.update_xaxes(title_text="activation", row=1, col=1)
    fig.update_xaxes(title_text="mean |activation| over the test set", row=1, col=2)
    return _layout(fig, "Sparsity: hidden activations at test time, with and without dropout", 520)


# ---------------------------------------------------------------------- 5. cost
def cost_figure(df: pd.DataFrame):
    timing, curve, target = (df[df["part"] == k] for k in ("timing", "curve", "target"))
    p = timing.loc[timing["p"] > 0, "p"].iloc[0]
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, column_widths=[0.22, 0.39, 0.39],
                        subplot_titles=("time per iteration", "iterations to the target",
                                        "test loss: spread over seeds"))
    arms = ((0.0, NO_DROPOUT, "p = 0"), (p, DROPOUT, f"p = {p:g}"))
    for q, color, name in arms:
        ms = timing[timing["p"] == q]["ms_per_iteration"]
        fig.add_bar(x=[name], y=[ms.median()], marker_color=color, showlegend=False, text=[f"{ms.median():.2f} ms"],
                    textposition="outside", error_y=dict(type="data", symmetric=False, array=[ms.max() - ms.median()],
                                                         arrayminus=[ms.median() - ms.min()]), row=1, col=1)
    fig.update_yaxes(title_text="ms (median of 5)", rangemode="tozero", row=1, col=1)
    goal = float(target["target_loss"].iloc[0])
    seeds = curve[curve["run"] == "seed"]
    for q, color, name in arms:
        x, m, lo, hi = _stats(seeds[seeds["p"] == q], "step", "train_loss")
        _band(fig, x, m, lo, hi, color, name, 1, 2)
        its = target[target["p"] == q]["iterations"]
        reached = its.notna().sum()
        if reached:
            fig.add_scatter(x=[its.mean()], y=[goal], mode="markers", marker=dict(color=color, size=16, symbol="diamond",
                            line=dict(color=INK, width=1)), showlegend=False,
                            hovertext=f"{name}: {its.mean():.0f} iterations ({reached} of {len(its)} seeds)", row=1, col=2)
    fig.add_hline(y=goal, line=dict(color=BAD, width=2, dash="dot"), row=1, col=2,
                  annotation_text=f"target {goal:g}", annotation_position="top right")
    fig.update_yaxes(type="log", title_text="training loss (test time)", row=1, col=2)
    fig.update_xaxes(title_text="iteration", row=1, col=2)
    drop = curve[curve["p"] == p]
    for i, (seed, c) in enumerate(drop[drop["run"] == "seed"].groupby("seed")):
        fig.add_scatter(x=c["step"], y=c["test_loss"], mode="lines", line=dict(color=DROPOUT, width=2.5),
                        opacity=0.85, name=f"p = {p:g}, seeds", legendgroup="seeds", showlegend=(i == 0), row=1, col=3)
    first_seed = drop["seed"].min()
    rep = drop[(drop["run"] == "repeat") & (drop["seed"] == first_seed)]
    first = drop[(drop["run"] == "seed") & (drop["seed"] == first_seed)]
    diff = np.max(np.abs(rep["test_loss"].to_numpy() - first["test_loss"].to_numpy()))
    fig.add_scatter(x=rep["step"], y=rep["test_loss"], mode="lines", line=dict(color=INK, width=3, dash="dot"),
                    name=f"seed {first_seed} again: max difference {diff:.3g}", row=1, col=3)
    fig.update_xaxes(title_text="iteration", row=1, col=3)
    fig.update_yaxes(title_text="test loss", row=1, col=3)
    return _layout(fig, "Cost of dropout: speed per iteration, iterations needed, and run-to-run spread", 540)


FIGURES = {"p-sweep": p_sweep_figure, "data-size": data_size_figure, "mc-vs-scaling": mc_vs_scaling_figure,
           "sparsity": sparsity_figure, "cost": cost_figure}
