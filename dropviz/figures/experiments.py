"""Pure figure functions for the experiments: an experiment's DataFrame in, a plotly Figure out.

Sized for a projector: big fonts, thick lines, mean over seeds with a band from the lowest to the
highest seed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from plotly.subplots import make_subplots

from .regularizers import regularizers_figure
from .style import BAD, FAMILY, FONT, GOOD, GRID, INK, MUTED, SMALL, TEST, TITLE, TRAIN

NO_DROPOUT = "#5a5a5a"
DROPOUT = "#1b7f3a"
LINE = 4


TITLE_PX = 90     # from the top: the title and its subtitle (one line each: keep them short)
SUBPLOT_PX = 34   # then the subplot titles, per line: a 3-panel chart's are 2 lines (a panel is ~200 px wide)
STANDOFF = 8      # px between an axis title and its tick labels (Streamlit's theme: 20-24, and grey text)


def _layout(fig, title: str, height: int, subtitle: str = "", subplot_lines: int = 1):
    """Title and subtitle from the top edge, subplot titles under them, the legend at the bottom under the
    axis titles (a legend with yref "container" adds its height to the bottom margin, whatever its rows).

    At 1280 px the charts are 900 (sidebar open) to 1200 px wide: every title must fit in 900 px."""
    title_dict = dict(text=title, font=dict(size=TITLE, color=INK), x=0.01, xanchor="left", y=1, yanchor="top",
                      yref="container", pad=dict(t=10, b=0, l=0, r=0))
    if subtitle:
        title_dict["subtitle"] = dict(text=subtitle, font=dict(size=SMALL, color=MUTED))
    fig.update_layout(
        title=title_dict, font=dict(family=FAMILY, size=FONT, color=INK), height=height,
        margin=dict(l=80, r=30, t=TITLE_PX + SUBPLOT_PX * subplot_lines, b=10, pad=0),
        paper_bgcolor="white", plot_bgcolor="white",
        legend=dict(orientation="h", x=0, xanchor="left", y=0, yanchor="bottom", yref="container",
                    font=dict(size=SMALL, color=INK)),
        hoverlabel=dict(font=dict(size=SMALL)), template={})
    for update in (fig.update_xaxes, fig.update_yaxes):
        update(gridcolor=GRID, linecolor=MUTED, showline=True, ticks="outside", tickfont=dict(size=SMALL, color=INK),
               title_font=dict(size=FONT, color=INK), title_standoff=STANDOFF, automargin=True)
    fig.update_annotations(font_size=FONT, selector=lambda a: a.font.size is None)
    return fig


def log_ticks(values, most: int = 6) -> list[float]:
    """Three to `most` tick values for a log axis over these values, to label in full at the normal size
    (plotly's own minor labels, "2" and "5" between the powers of ten, are 3/4 size: too small to read).
    Powers of ten if they give three, else 1-2-5, else finer: few enough for a 200 px wide panel."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return [1.0]
    lo, hi = v.min(), v.max()
    ticks: list[float] = []
    for mantissas in ((1,), (1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [float(f"{m * 10.0 ** e:.6g}") for e in range(int(np.floor(np.log10(lo))) - 1,
                                                              int(np.ceil(np.log10(hi))) + 1)
                 for m in mantissas if lo / 1.05 <= m * 10.0 ** e <= hi * 1.05]
        if len(ticks) >= 3:
            break
    return ticks if len(ticks) <= most else ticks[::-(-len(ticks) // most)]


def _log_axis(values) -> dict:
    ticks = log_ticks(values)
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def _band(fig, x, mean, lo, hi, color, name, row, col, dash=None, show=True):
    """Mean line over a translucent band from the lowest to the highest seed."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    fig.add_scatter(x=np.r_[x, x[::-1]], y=np.r_[hi, lo[::-1]], mode="lines", fill="toself",
                    fillcolor=f"rgba({r},{g},{b},0.18)",
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
    return _layout(fig, "Choosing p: final loss and accuracy at test time", 640,
                   f"each point: networks trained with that p (drop probability); mean and range over {seeds} seeds",
                   subplot_lines=int(len(variants) > 1))


# ---------------------------------------------------------------------- 2. amount of data
def data_size_figure(df: pd.DataFrame):
    p = df.loc[df["p"] > 0, "p"].iloc[0]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("test accuracy (same test set for all)", f"gain from dropout (p = {p:g})"))
    for q, color, name in ((0.0, NO_DROPOUT, "p = 0"), (p, DROPOUT, f"p = {p:g}")):
        x, m, lo, hi = _stats(df[df["p"] == q], "n_train", "test_acc")
        _band(fig, x, m, lo, hi, color, name, 1, 1, dash="dash" if q == 0 else None)
    paired = df.pivot_table(index=["n_train", "seed"], columns="p", values="test_acc").reset_index()
    paired["gain"] = paired[p] - paired[0.0]
    x, m, lo, hi = _stats(paired, "n_train", "gain")
    _band(fig, x, m, lo, hi, GOOD, "gain (same seed)", 1, 2)
    fig.add_hline(y=0, line=dict(color=MUTED, width=2), row=1, col=2)
    fig.update_xaxes(type="log", title_text="training points (log scale)", tickvals=x,
                     ticktext=[str(int(v)) for v in x])
    fig.update_yaxes(title_text="test accuracy", tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text="accuracy with − without", tickformat="+.1%", row=1, col=2)
    best = int(np.nanargmax(m))
    fig.add_annotation(x=np.log10(x[best]), y=m[best], text=f"largest gain {m[best]:+.1%}<br>at n = {int(x[best])}",
                       showarrow=True, ax=0, ay=-45, font=dict(color=GOOD, size=SMALL), bgcolor="rgba(255,255,255,0.8)",
                       row=1, col=2)
    return _layout(fig, "Amount of data: does dropout help?", 520,
                   f"test accuracy without (p = 0) and with dropout (p = {p:g}); "
                   f"mean and range over {df['seed'].nunique()} seeds")


# ---------------------------------------------------------------------- 3. test-time rule
def matching_passes(curve: pd.DataFrame, column: str, tolerance: float = 0.0) -> int | None:
    """Smallest T from which the seed-mean Monte-Carlo value stays within `tolerance` above weight scaling."""
    mc = curve.groupby("T")[f"mc_{column}"].mean().sort_index()
    scaled = curve.groupby("seed")[f"scaled_{column}"].first().mean()
    above = np.flatnonzero(mc.to_numpy() > scaled + tolerance)
    if len(above) == 0:
        return int(mc.index[0])
    return None if above[-1] == len(mc) - 1 else int(mc.index[above[-1] + 1])


ERROR_TOLERANCE = 0.005  # half a percentage point: below what a few hundred test points can resolve


def mc_vs_scaling_figure(df: pd.DataFrame):
    curve, grid, data = (df[df["part"] == k] for k in ("curve", "map", "data"))
    has_map = len(grid) > 0
    p = curve["p"].iloc[0]
    panels = [("error", "test error", ".1%", ERROR_TOLERANCE), ("loss", "test loss (cross-entropy)", ".2f", 0.0)]
    titles = []
    for column, label, _, tol in panels:
        t = matching_passes(curve, column, tol)
        titles.append(f"{label.split(' (')[0]}:<br>MC matches " + (f"from T = {t}" if t else "at no T"))
    if has_map:
        titles.append("Monte-Carlo spread:<br>std of P(class 1)")
    fig = make_subplots(rows=1, cols=len(titles), horizontal_spacing=0.12, subplot_titles=titles)
    for c, (column, label, fmt, tol) in enumerate(panels, start=1):
        x, m, lo, hi = _stats(curve, "T", f"mc_{column}")
        _band(fig, x, m, lo, hi, TEST, "Monte-Carlo average of T passes", 1, c, show=(c == 1))
        scaled = curve.groupby("seed")[f"scaled_{column}"].first().mean()
        fig.add_hline(y=scaled, line=dict(color=TRAIN, width=LINE, dash="dash"), row=1, col=c)
        t = matching_passes(curve, column, tol)
        if t:
            fig.add_vline(x=t, line=dict(color=GOOD, width=3, dash="dot"), row=1, col=c)
        fig.update_xaxes(title_text="T (passes, log scale)", row=1, col=c, **_log_axis(curve["T"]))
        fig.update_yaxes(title_text=label.split(" (")[0], tickformat=fmt, row=1, col=c)
    fig.add_scatter(x=[None], y=[None], mode="lines", line=dict(color=TRAIN, width=LINE, dash="dash"),
                    name="weight scaling (one deterministic pass)", row=1, col=1)
    if has_map:
        c = len(titles)
        xs, ys = np.sort(grid["x1"].unique()), np.sort(grid["x2"].unique())
        z = grid.pivot_table(index="x2", columns="x1", values="mc_std").reindex(index=ys, columns=xs).to_numpy()
        fig.add_heatmap(x=xs, y=ys, z=z, colorscale="Viridis", zmin=0, showlegend=False, row=1, col=c,
                        colorbar=dict(title=dict(text="std", font=dict(size=SMALL)), tickfont=dict(size=SMALL),
                                      len=0.9))
        for label, color in ((0, "#ffffff"), (1, "#ff7f0e")):
            pts = data[data["label"] == label]
            fig.add_scatter(x=pts["x1"], y=pts["x2"], mode="markers", name=f"training class {label}",
                            marker=dict(color=color, size=9, line=dict(color=INK, width=1.5)), row=1, col=c)
        fig.update_xaxes(title_text="x1", range=[xs[0], xs[-1]], row=1, col=c)
        fig.update_yaxes(title_text="x2", range=[ys[0], ys[-1]], row=1, col=c)
    fig.update_annotations(font_size=SMALL)
    return _layout(fig, f"Test-time rule (p = {p:g}): averaging T passes vs weight scaling", 600,
                   "Monte-Carlo dropout keeps dropping at test time and averages T passes; "
                   f"mean and range over {curve['seed'].nunique()} seeds", subplot_lines=2)


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
    shares = hist["fraction"][hist["fraction"] > 0]
    powers = [10.0 ** k for k in range(int(np.floor(np.log10(shares.min()))) if len(shares) else -4, 1)]
    fig.update_yaxes(type="log", title_text="share of activations (log)", tickvals=powers,
                     ticktext=[f"{100 * v:g}%" for v in powers], row=1, col=1)
    fig.update_yaxes(title_text="share of neurons", tickformat=".0%", row=1, col=2)
    fig.update_xaxes(title_text="activation", row=1, col=1)
    fig.update_xaxes(title_text="mean |activation| over the test set", row=1, col=2)
    return _layout(fig, "Sparsity: hidden activations at test time", 520,
                   f"without (p = 0) and with dropout (p = {p:g}), all {summary['seed'].nunique()} seeds pooled")


# ---------------------------------------------------------------------- 5. cost
def cost_figure(df: pd.DataFrame):
    timing, curve, target = (df[df["part"] == k] for k in ("timing", "curve", "target"))
    p = timing.loc[timing["p"] > 0, "p"].iloc[0]
    arms = ((0.0, NO_DROPOUT, "p = 0"), (p, DROPOUT, f"p = {p:g}"))
    ms = {q: timing[timing["p"] == q]["ms_per_iteration"].median() for q, _, _ in arms}
    its = {q: target[target["p"] == q]["iterations"] for q, _, _ in arms}
    if its[0.0].notna().all() and its[p].notna().all():
        more = f"{its[p].mean() / its[0.0].mean():.2g}x the iterations"
    else:
        more = f"reached by {its[0.0].notna().sum()} vs {its[p].notna().sum()} of {len(its[p])} seeds"
    drop = curve[curve["p"] == p]
    ends = drop[(drop["run"] == "seed") & (drop["step"] == drop["step"].max())]["test_loss"]
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.11, column_widths=[0.22, 0.39, 0.39],
                        subplot_titles=(f"time per iteration:<br>{ms[p] / ms[0.0]:.2g}x with dropout",
                                        f"to the target loss:<br>{more}",
                                        f"test loss:<br>seeds end {ends.max() - ends.min():.2g} apart"))
    for q, color, name in arms:
        fig.add_bar(x=[name], y=[ms[q]], marker_color=color, showlegend=False, text=[f"{ms[q]:.2f} ms"],
                    textposition="outside", cliponaxis=False, row=1, col=1)
    repeats = timing["repeat"].nunique()
    fig.update_yaxes(title_text=f"ms (median of {repeats})", rangemode="tozero", range=[0, 1.25 * max(ms.values())],
                     row=1, col=1)
    goal = float(target["target_loss"].iloc[0])
    seeds = curve[curve["run"] == "seed"]
    for q, color, name in arms:
        x, m, lo, hi = _stats(seeds[seeds["p"] == q], "step", "train_loss")
        _band(fig, x, m, lo, hi, color, name, 1, 2)
        reached = its[q].notna().sum()
        if reached:
            fig.add_scatter(x=[its[q].mean()], y=[goal], mode="markers+text", marker=dict(color=color, size=16,
                            symbol="diamond", line=dict(color=INK, width=1)), showlegend=False,
                            text=[f"{its[q].mean():.0f}"], textposition="bottom center",
                            textfont=dict(color=color, size=SMALL),
                            hovertext=f"{name}: {its[q].mean():.0f} iterations ({reached} of {len(its[q])} seeds)",
                            row=1, col=2)
    fig.add_hline(y=goal, line=dict(color=BAD, width=2, dash="dot"), row=1, col=2)
    # on a log axis an annotation's y is log10 of the value (add_hline's own annotation missed that)
    fig.add_annotation(x=1, xref="x2 domain", y=np.log10(goal), yref="y2", xanchor="right", yanchor="bottom",
                       text=f"target {goal:g}", showarrow=False, font=dict(color=BAD, size=SMALL),
                       bgcolor="rgba(255,255,255,0.8)")
    plotted = np.r_[seeds.groupby(["p", "step"])["train_loss"].agg(["min", "max"]).to_numpy().ravel(), goal]
    plotted = plotted[np.isfinite(plotted) & (plotted > 0)]
    # an explicit range: autorange pads a log axis for the diamonds' labels by far too much (up to 3x)
    span = dict(range=[np.log10(plotted.min() / 1.3), np.log10(plotted.max() * 1.1)]) if plotted.size else {}
    fig.update_yaxes(title_text="training loss (test time)", row=1, col=2, **_log_axis(plotted), **span)
    fig.update_xaxes(title_text="iteration", row=1, col=2)
    for i, (_, c) in enumerate(drop[drop["run"] == "seed"].groupby("seed")):
        fig.add_scatter(x=c["step"], y=c["test_loss"], mode="lines", line=dict(color=DROPOUT, width=2.5),
                        opacity=0.85, name=f"p = {p:g}, seeds", legendgroup="seeds", showlegend=(i == 0), row=1, col=3)
    first_seed = int(drop["seed"].min())
    rep = drop[(drop["run"] == "repeat") & (drop["seed"] == first_seed)]
    first = drop[(drop["run"] == "seed") & (drop["seed"] == first_seed)]
    diff = np.max(np.abs(rep["test_loss"].to_numpy() - first["test_loss"].to_numpy()))
    fig.add_scatter(x=rep["step"], y=rep["test_loss"], mode="lines", line=dict(color=INK, width=3, dash="dot"),
                    name=f"seed {first_seed} again: max difference {diff:.3g}", row=1, col=3)
    fig.update_annotations(font_size=SMALL)
    fig.update_xaxes(title_text="iteration", row=1, col=3)
    fig.update_yaxes(title_text="test loss", row=1, col=3)
    return _layout(fig, "Cost of dropout: speed, iterations needed, run-to-run spread", 540,
                   f"without (p = 0) and with dropout (p = {p:g}); {seeds['seed'].nunique()} seeds", subplot_lines=2)


from .variants import variants_figure  # noqa: E402 - it uses _layout above when it draws

FIGURES = {"p-sweep": p_sweep_figure, "data-size": data_size_figure, "mc-vs-scaling": mc_vs_scaling_figure,
           "sparsity": sparsity_figure, "cost": cost_figure, "regularizers": regularizers_figure,
           "variants": variants_figure}
