"""Pure figure functions for the experiments: an experiment's DataFrame in, a plotly Figure out.

Sized for a projector: big fonts, thick lines, mean over seeds with a band for its 95% t-interval
(dropviz.stats), over the seeds that finished: a diverged run is marked and counted, not averaged.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from plotly.subplots import make_subplots

from .. import notation as notation_rule
from ..stats import CONFIDENCE, choose_p, summarise
from .regularizers import regularizers_figure
from .style import BAD, FAMILY, FONT, GOOD, GRID, INK, MUTED, SMALL, TEST, TITLE, TRAIN

NO_DROPOUT = "#5a5a5a"
DROPOUT = "#1b7f3a"
VALIDATION = "#7b3294"
INTERVAL = f"mean, {CONFIDENCE:.0%} t-interval"
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
    """Mean line over a translucent band for its interval (where there is one: a gap where no seed finished)."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    ok = np.isfinite(lo) & np.isfinite(hi)
    fig.add_scatter(x=np.r_[x[ok], x[ok][::-1]], y=np.r_[hi[ok], lo[ok][::-1]], mode="lines", fill="toself",
                    fillcolor=f"rgba({r},{g},{b},0.18)",
                    line=dict(width=0), hoverinfo="skip", showlegend=False, legendgroup=name, row=row, col=col)
    fig.add_scatter(x=x, y=mean, mode="lines+markers", name=name, legendgroup=name, showlegend=show,
                    line=dict(color=color, width=LINE, dash=dash), marker=dict(size=9), row=row, col=col)


def _stats(df: pd.DataFrame, by: str, column: str, clip: tuple = (-np.inf, np.inf)):
    """x, mean, and the t-interval's lo and hi over the finite values at each x; the band is clipped to the
    values the quantity can take (`clip`), as a t-interval of a few seeds can reach past them."""
    s = summarise(df, by, column)
    return (s.index.to_numpy(), s["mean"].to_numpy(), np.clip(s["lo"].to_numpy(), *clip),
            np.clip(s["hi"].to_numpy(), *clip))


# ---------------------------------------------------------------------- 1. choosing p
def p_sweep_figure(df: pd.DataFrame, notation: str = notation_rule.DROP):
    """notation: "retain" labels the axis and the best p in the 2014 paper's retain probability (1 - p), the
    axis reversed so that it reads as the paper's Fig 9; the data stay drop probabilities."""
    variants = list(dict.fromkeys(df["variant"]))
    fig = make_subplots(rows=3, cols=len(variants), shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.4, 0.4, 0.2], horizontal_spacing=0.08,
                        column_titles=variants if len(variants) > 1 else None)
    seeds = df["seed"].nunique()
    cap = int(df["cap"].iloc[0])
    lines = (("train", TRAIN, None, "training"), ("val", VALIDATION, "dot", "validation (chooses p)"),
             ("test", TEST, "dash", "test (for reading only)"))
    for c, variant in enumerate(variants, start=1):
        d = df[df["variant"] == variant]
        for row, metric, label, clip in ((1, "loss", "loss", (0, np.inf)), (2, "acc", "accuracy", (0, 1))):
            for split, color, dash, name in lines:
                x, m, lo, hi = _stats(d, "p", f"{split}_{metric}", clip)
                _band(fig, x, m, lo, hi, color, name, row, c, dash, show=(c == 1 and row == 1))
            fig.update_yaxes(title_text=label if c == 1 else None, row=row, col=c)
        x, m, lo, hi = _stats(d, "p", "iterations", (0, cap))
        _band(fig, x, m, lo, hi, MUTED, "iterations used", 3, c, show=False)
        fig.add_hline(y=cap, line=dict(color=BAD, width=2, dash="dot"), row=3, col=c)
        fig.update_yaxes(title_text="iterations" if c == 1 else None, rangemode="tozero", range=[0, 1.15 * cap],
                         row=3, col=c)
        fig.update_xaxes(title_text=notation_rule.axis_title(notation), row=3, col=c)
        axis = "" if c == 1 else c
        diverged = d.groupby("p")["diverged"].agg(["sum", "size"])
        for p, (n, total) in diverged[diverged["sum"] > 0].iterrows():
            fig.add_annotation(x=p, y=0.02, yref=f"y{axis} domain", text=f"✕<br>{int(n)}/{total}",
                               showarrow=False, yanchor="bottom", font=dict(color=BAD, size=SMALL), row=1, col=c)
        if not d["val_loss"].notna().any():
            continue
        choice = choose_p(d)
        best = choice.index[choice["best"]][0]
        for p in choice.index[choice["plateau"]]:
            fig.add_vrect(x0=p - 0.05, x1=p + 0.05, fillcolor=GOOD, opacity=0.12, line_width=0, row="all", col=c)
        for row in (1, 2, 3):
            fig.add_vline(x=best, line=dict(color=GOOD, width=3, dash="dot"), row=row, col=c)
        fig.add_annotation(x=best, y=1, yref=f"y{axis} domain", showarrow=False, yanchor="top", xanchor="left",
                           xshift=6, bgcolor="rgba(255,255,255,0.8)", font=dict(color=GOOD, size=FONT), row=1, col=c,
                           text=f"<b>best {notation_rule.text(best, notation)}</b> (validation)<br>"
                                f"test error {choice.loc[best, 'test_error']:.1%}")
        x, train_loss, test_loss = choice.index.to_numpy(), *(_stats(d, "p", f"{k}_loss")[1] for k in ("train", "test"))
        b = int(np.flatnonzero(choice["best"])[0])
        gap = test_loss - train_loss
        if b > 0 and gap[0] > 1.5 * gap[b] and gap[0] - gap[b] > 0.05:  # only say what the data shows
            fig.add_annotation(x=x[0], y=test_loss[0], text="overfits:<br>test ≫ train", showarrow=True, ax=60, ay=-10,
                               xanchor="left", font=dict(color=BAD, size=SMALL), row=1, col=c)
        top = choice.iloc[-1]
        if b < len(x) - 1 and top["finished"] and top["stopped_early"] < top["finished"] / 2:
            fig.add_annotation(x=x[-1], y=cap, text=f"still improving<br>at the cap of {cap}", showarrow=False,
                               yanchor="top", xanchor="right", font=dict(color=BAD, size=SMALL),
                               bgcolor="rgba(255,255,255,0.8)", row=3, col=c)
        elif b < len(x) - 1 and train_loss[-1] - np.nanmin(train_loss) > 0.05 and \
                train_loss[-1] > 2 * np.nanmin(train_loss):
            fig.add_annotation(x=x[-1], y=train_loss[-1], text="underfits:<br>train loss rises", showarrow=True,
                               ax=-70, ay=-40, xanchor="right", font=dict(color=BAD, size=SMALL), row=1, col=c)
    fig.add_scatter(x=[None], y=[None], mode="markers", marker=dict(color=GOOD, opacity=0.3, size=16, symbol="square"),
                    name="within one standard error of the best")
    if df["diverged"].any():
        fig.add_scatter(x=[None], y=[None], mode="markers", marker=dict(color=BAD, size=12, symbol="x-thin-open"),
                        name="✕ k/n: k of n runs diverged, left out of the means")
    fig.update_yaxes(rangemode="tozero", row=1)
    if notation_rule.check(notation) != notation_rule.DROP:
        ps = sorted(df["p"].unique())
        fig.update_xaxes(tickvals=ps, ticktext=[f"{v:g}" for v in notation_rule.sweep_axis(ps, notation)[0]],
                         autorange="reversed")
    n_val, n_fit = int(df["n_val"].iloc[0]), int(df["n_fit"].iloc[0])
    return _layout(fig, f"Choosing p on validation data (early stopping, cap {cap})", 780,
                   f"{INTERVAL} over finished seeds (of {seeds}); validation: {n_val} of {n_fit + n_val} "
                   "training points", subplot_lines=int(len(variants) > 1))


# ---------------------------------------------------------------------- 2. amount of data
def data_size_figure(df: pd.DataFrame):
    p = df.loc[df["p"] > 0, "p"].iloc[0]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("test accuracy (same test set for all)", f"gain from dropout (p = {p:g})"))
    for q, color, name in ((0.0, NO_DROPOUT, "p = 0"), (p, DROPOUT, f"p = {p:g}")):
        x, m, lo, hi = _stats(df[df["p"] == q], "n_train", "test_acc", (0, 1))
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
    clear = "" if lo[best] > 0 else "<br>(its interval spans 0:<br>no clear gain)"
    fig.add_annotation(x=np.log10(x[best]), y=m[best], text=f"largest mean gain {m[best]:+.1%}<br>at n = {int(x[best])}"
                       + clear,
                       showarrow=True, ax=0, ay=-45, font=dict(color=GOOD, size=SMALL), bgcolor="rgba(255,255,255,0.8)",
                       row=1, col=2)
    return _layout(fig, "Amount of data: does dropout help?", 520,
                   f"p = 0 vs p = {p:g}; {INTERVAL} over {df['seed'].nunique()} seeds, each its own training points")


# ---------------------------------------------------------------------- 3. test-time rule
def no_worse_from(paired: pd.DataFrame, metric: str) -> int | None:
    """Smallest T from which Monte-Carlo averaging is never clearly worse than weight scaling: the paired
    interval of MC minus scaling reaches down to zero or below at that T and every larger one."""
    d = paired[paired["metric"] == metric].sort_values("T")
    worse = np.flatnonzero(d["lo"].to_numpy() > 0)
    if len(worse) == 0:
        return int(d["T"].iloc[0])
    return None if worse[-1] == len(d) - 1 else int(d["T"].iloc[worse[-1] + 1])


def verdict(lo: float, hi: float) -> str:
    """What a paired interval of MC minus weight scaling says (lower is better for error and loss)."""
    if hi < 0:
        return "MC clearly lower"
    if lo > 0:
        return "MC clearly higher"
    return "no clear difference"


def mc_vs_scaling_figure(df: pd.DataFrame):
    curve, paired, grid, data = (df[df["part"] == k] for k in ("curve", "paired", "map", "data"))
    has_map = len(grid) > 0
    p = curve["p"].iloc[0]
    last = int(curve["T"].max())
    panels = [("error", "test error", ".1%", 100, " pts"), ("loss", "log loss", ".2f", 1, "")]
    titles = []
    for metric, label, _, scale, unit in panels:
        end = paired[(paired["metric"] == metric) & (paired["T"] == last)].iloc[0]
        t = no_worse_from(paired, metric)
        titles.append(f"{label}, MC − scaling at T = {last}: {scale * end['diff']:+.2f}{unit}<br>"
                      f"{verdict(end['lo'], end['hi'])}; " + (f"no worse from T = {t}" if t else "worse at every T"))
    ece = curve.groupby("seed")[["mc_ece", "scaled_ece"]].agg(lambda v: v.iloc[-1]).mean()
    titles.append(f"calibration error (ECE) at T = {last}:<br>MC {ece['mc_ece']:.3f}, "
                  f"weight scaling {ece['scaled_ece']:.3f}")
    if has_map:
        titles.append("Monte-Carlo spread:<br>std of P(class 1)")
    specs = [[{}, {}], [{}, {}] if has_map else [{"colspan": 2}, None]]  # without a map, calibration spans the row
    fig = make_subplots(rows=2, cols=2, specs=specs, horizontal_spacing=0.12, vertical_spacing=0.2,
                        subplot_titles=titles)
    cells = [(1, 1), (1, 2), (2, 1), (2, 2)]
    for (r, c), (metric, label, fmt, _, _) in zip(cells, panels):
        d = paired[paired["metric"] == metric].sort_values("T")
        _band(fig, d["T"].to_numpy(), d["diff"].to_numpy(), d["lo"].to_numpy(), d["hi"].to_numpy(), TEST,
              f"MC average of T passes minus weight scaling ({CONFIDENCE:.0%} paired interval)", r, c,
              show=(metric == "error"))
        fig.add_hline(y=0, line=dict(color=TRAIN, width=LINE, dash="dash"), row=r, col=c)
        t = no_worse_from(paired, metric)
        if t:
            fig.add_vline(x=t, line=dict(color=GOOD, width=3, dash="dot"), row=r, col=c)
        fig.update_xaxes(title_text="T (passes, log scale)", row=r, col=c, **_log_axis(curve["T"]))
        fig.update_yaxes(title_text=f"{label}: MC − scaling", tickformat="+" + fmt, row=r, col=c)
    fig.add_scatter(x=[None], y=[None], mode="lines", line=dict(color=TRAIN, width=LINE, dash="dash"),
                    name="weight scaling (one deterministic pass): zero difference", row=1, col=1)
    r, c = cells[2]
    x, m, lo, hi = _stats(curve, "T", "mc_ece", (0, 1))
    _band(fig, x, m, lo, hi, TEST, "MC ECE", r, c, show=False)
    fig.add_hline(y=ece["scaled_ece"], line=dict(color=TRAIN, width=LINE, dash="dash"), row=r, col=c)
    fig.update_xaxes(title_text="T (passes, log scale)", row=r, col=c, **_log_axis(curve["T"]))
    fig.update_yaxes(title_text="ECE", rangemode="tozero", tickformat=".2f", row=r, col=c)
    if has_map:
        r, c = cells[3]
        xs, ys = np.sort(grid["x1"].unique()), np.sort(grid["x2"].unique())
        z = grid.pivot_table(index="x2", columns="x1", values="mc_std").reindex(index=ys, columns=xs).to_numpy()
        fig.add_heatmap(x=xs, y=ys, z=z, colorscale="Viridis", zmin=0, showlegend=False, row=r, col=c,
                        colorbar=dict(title=dict(text="std", font=dict(size=SMALL)), tickfont=dict(size=SMALL),
                                      len=0.4, y=0.2))
        for label, color in ((0, "#ffffff"), (1, "#ff7f0e")):
            pts = data[data["label"] == label]
            fig.add_scatter(x=pts["x1"], y=pts["x2"], mode="markers", name=f"training class {label}",
                            marker=dict(color=color, size=9, line=dict(color=INK, width=1.5)), row=r, col=c)
        fig.update_xaxes(title_text="x1", range=[xs[0], xs[-1]], row=r, col=c)
        fig.update_yaxes(title_text="x2", range=[ys[0], ys[-1]], row=r, col=c)
    fig.update_annotations(font_size=SMALL)
    n = int(paired["n"].max())
    return _layout(fig, f"Test-time rule (p = {p:g}): averaging T passes vs weight scaling", 860,
                   f"paired over {curve['seed'].nunique()} seeds x {n // max(1, curve['seed'].nunique())} test "
                   f"points ({n} pairs); ECE: {INTERVAL} over seeds", subplot_lines=2)


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
    last = curve[(curve["run"] == "seed") & (curve["step"] == curve["step"].max())]
    sd = {q: last[last["p"] == q]["test_loss"].std(ddof=1) for q, _, _ in arms}
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.11, column_widths=[0.22, 0.39, 0.39],
                        subplot_titles=(f"time per iteration:<br>{ms[p] / ms[0.0]:.2g}x with dropout",
                                        f"to the target loss:<br>{more}",
                                        f"final test loss, sd over seeds:<br>{sd[p]:.2g} with, "
                                        f"{sd[0.0]:.2g} without dropout"))
    for q, color, name in arms:
        fig.add_bar(x=[name], y=[ms[q]], marker_color=color, showlegend=False, text=[f"{ms[q]:.2f} ms"],
                    textposition="outside", cliponaxis=False, row=1, col=1)
    repeats = timing["repeat"].nunique()
    fig.update_yaxes(title_text=f"ms (median of {repeats})", rangemode="tozero", range=[0, 1.25 * max(ms.values())],
                     row=1, col=1)
    goal = float(target["target_loss"].iloc[0])
    seeds = curve[curve["run"] == "seed"]
    for q, color, name in arms:
        x, m, lo, hi = _stats(seeds[seeds["p"] == q], "step", "train_loss", (1e-12, np.inf))
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
    for q, color, name in arms:
        for i, (_, c) in enumerate(curve[(curve["p"] == q) & (curve["run"] == "seed")].groupby("seed")):
            fig.add_scatter(x=c["step"], y=c["test_loss"], mode="lines", line=dict(color=color, width=2.5),
                            opacity=0.85, name=f"{name}, one line a seed", legendgroup=f"seeds {q}",
                            showlegend=(i == 0), row=1, col=3)
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
                   f"without (p = 0) and with dropout (p = {p:g}); {INTERVAL} over {seeds['seed'].nunique()} seeds",
                   subplot_lines=2)


from .variants import variants_figure  # noqa: E402 - it uses _layout above when it draws

FIGURES = {"p-sweep": p_sweep_figure, "data-size": data_size_figure, "mc-vs-scaling": mc_vs_scaling_figure,
           "sparsity": sparsity_figure, "cost": cost_figure, "regularizers": regularizers_figure,
           "variants": variants_figure}
