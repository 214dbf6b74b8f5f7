"""Pure figure functions of the Variants page and the `variants` experiment: a VariantFrame (or the
experiment's DataFrame) in, a plotly Figure out. Sized for a projector (style.py's fonts)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from plotly.subplots import make_subplots

from ..dropout import factor_text
from ..stats import t_interval
from .style import (
    ACTIVATION_SCALE,
    DROPPED,
    EDGE,
    EMPTY,
    FONT,
    INK,
    INPUT_FILL,
    MUTED,
    RUN_STYLES,
    SMALL,
    TEST,
    TRAIN,
    base_layout,
    figure,
    fit_title,
    hidden_axis,
    ink_axis,
)

NAMES = {"none": "no dropout", "standard": "element-wise", "channel": "channel", "block": "block (DropBlock)",
         "naive": "naive (fresh mask per step)", "variational": "variational (mask shared over time)",
         "dropconnect": "DropConnect"}
FAMILY_NAMES = {"dense": "Dense", "conv": "Convolutional", "recurrent": "Recurrent"}
TILE, GAP, PER_ROW, LABEL = 8, 2, 8, 4  # a feature map is 8 x 8 cells, 8 tiles a row, a layer's name above them
NARROW = 760  # px: a full-width chart on a 1280 px screen with the sidebar open; titles are wrapped to it


def _experiment_layout(*args):
    from .experiments import _layout  # here: figures.experiments registers variants_figure
    return _layout(*args)


def variant_label(spec) -> str:
    return NAMES[spec.variant] + ("" if spec.variant == "none" else f", p = {spec.p:g}")


def _factors_text(frame) -> str:
    return (f"survivors {factor_text(frame.train_factor)} in training, "
            f"everything {factor_text(frame.test_factor)} at test time")


# The words of the mask panels, the rescaling and the curves: one place for the Plotly figures and the
# browser's view (dropviz/variants/payload.py).
CROSSED = "✕ = dropped this iteration"
RNN_DROPPED = "red = dropped"


def conv_layer_label(layer: int, channels: int) -> str:
    return f"conv {layer + 1}: {channels} feature maps"


def masks_title(spec) -> str:
    """The mask panel's title: what this variant drops."""
    if spec.family == "conv":
        what = {"standard": "each position dropped on its own", "channel": "whole feature maps dropped",
                "block": f"{spec.block_size} x {spec.block_size} squares dropped", "none": "nothing dropped"}
        return f"Feature maps of the tracked digit: {what[spec.variant]}"
    if spec.family == "recurrent":
        how = {"naive": "a fresh mask every step (noise)", "variational": "one mask for all steps (stripes)",
               "none": "nothing dropped"}
        return f"RNN masks: {how[spec.variant]}"
    return {"standard": "Standard dropout: units dropped, with all their edges",
            "dropconnect": "DropConnect: single edges dropped, every unit stays",
            "none": "No dropout: every unit and edge"}[spec.variant]


def masks_subtitle(frame, shown: int = 6, units: int = 8) -> str:
    """The mask panel's subtitle: the factors, and how to read the marks."""
    spec = frame.spec
    factors = "" if spec.variant == "none" else _factors_text(frame)
    if spec.family == "conv":
        return (factors + "; " if factors else "") + CROSSED
    if spec.family == "recurrent":
        return f"{RNN_DROPPED}; " + factors
    return f"{shown} brightest pixels → first {units} of 64 hidden units" + ("; " + factors if factors else "")


RNN_AXES = {"input": "input pixel", "state": "recurrent unit (state fed back)", "steps": "time step (image row)"}
DENSE_COLUMNS = ("input pixels", "hidden units")
DENSE_NAMES = {"kept": "kept edge", "dropped": "dropped edge", "unit": "dropped unit"}
RESCALE_TITLE = "Rescaling"
CURVES_TITLE = "Against the no-dropout twin"
TWIN_NAME = "twin: no dropout"
CURVES_AXES = ("test accuracy", "test loss", "iteration")


def rescale_names(frame, sep: str = "<br>") -> list[str]:
    return ["computed", "dropped", f"kept{sep}{factor_text(frame.train_factor)}",
            f"test{sep}{factor_text(frame.test_factor)}"]


def rescale_subtitle(spec) -> str:
    what = {"conv": "conv 1 activation", "recurrent": "input pixel", "dense": "hidden unit"}[spec.family]
    if spec.variant == "dropconnect":
        what = "|pixel × weight| of an edge"
    return f"mean {what}, tracked digit"


def curves_subtitle(row) -> str:
    """row: (step, test_acc, test_loss, twin_test_acc, twin_test_loss), the latest frame's."""
    return (f"iteration {int(row[0])}: {100 * row[1]:.1f}% vs twin {100 * row[3]:.1f}%, "
            f"loss {row[2]:.3f} vs {row[4]:.3f}")


# ---------------------------------------------------------------------- conv: feature maps and their masks
def conv_maps_figure(frame, height: int = 470, width: float = NARROW):
    """The tracked digit's feature maps of both conv layers, one tile each; every dropped position is crossed
    out, and a whole dropped channel gets one large cross."""
    xs, ys, bigs, labels = [], [], [], []
    rows_total = sum(-(-len(maps) // PER_ROW) for maps in frame.seen)
    z = np.full((rows_total * (TILE + GAP) + LABEL * len(frame.seen), PER_ROW * (TILE + GAP)), np.nan)
    top_row = 0
    for layer, (maps, mask) in enumerate(zip(frame.seen, frame.masks)):
        top = maps.max() if maps.max() > 0 else 1.0
        labels.append((top_row, conv_layer_label(layer, len(maps))))
        top_row += LABEL
        for c, fmap in enumerate(maps):
            y0, x0 = top_row + (c // PER_ROW) * (TILE + GAP), (c % PER_ROW) * (TILE + GAP)
            z[y0:y0 + TILE, x0:x0 + TILE] = fmap / top
            if mask is None:
                continue
            dropped = mask[c] == 0
            if dropped.all():
                bigs.append((x0, y0))
            else:
                yy, xx = np.nonzero(dropped)
                xs += list(x0 + xx)
                ys += list(y0 + yy)
        top_row += -(-len(maps) // PER_ROW) * (TILE + GAP)
    traces = [dict(type="heatmap", z=z, colorscale=ACTIVATION_SCALE, zmin=0, zmax=1, showscale=False,
                   hoverinfo="skip", xgap=0, ygap=0)]
    if xs:
        traces.append(dict(type="scatter", x=xs, y=ys, mode="markers", hoverinfo="skip", showlegend=False,
                           marker=dict(symbol="x-thin", size=9, color=DROPPED, line=dict(width=2.5, color=DROPPED))))
    for x0, y0 in bigs:
        a, b = x0 - 0.5, x0 + TILE - 0.5
        c, d = y0 - 0.5, y0 + TILE - 0.5
        traces.append(dict(type="scatter", x=[a, b, None, a, b], y=[c, d, None, d, c], mode="lines",
                           hoverinfo="skip", showlegend=False, line=dict(color=DROPPED, width=5)))
        traces.append(dict(type="scatter", x=[a, b, b, a, a], y=[c, c, d, d, c], mode="lines", fill="toself",
                           fillcolor="rgba(255,255,255,0.55)", hoverinfo="skip", showlegend=False,
                           line=dict(color=DROPPED, width=2)))
    annotations = [dict(text=text, x=-0.5, y=r + LABEL - 0.7, xref="x", yref="y", xanchor="left",
                        yanchor="bottom", showarrow=False, font=dict(size=SMALL, color=INK))
                   for r, text in labels]
    layout = base_layout(masks_title(frame.spec), height, "conv-maps", subtitle=masks_subtitle(frame),
                         xaxis=hidden_axis(range=[-1, PER_ROW * (TILE + GAP) - GAP]),
                         yaxis=hidden_axis(autorange="reversed", scaleanchor="x"),
                         annotations=annotations, margin=dict(l=10, r=10, t=90, b=10))
    fit_title(layout, width)
    return figure(traces, layout)


# ---------------------------------------------------------------------- recurrent: time x unit mask grid
def rnn_mask_figure(frame, height: int = 420, width: float = NARROW):
    """The masks of the tracked digit's 8 steps: input pixels (left) and recurrent units (right), one row per
    step. A fresh mask per step looks like noise; one mask shared over time, like vertical stripes."""
    traces, spec = [], frame.spec
    for i, mask in enumerate(frame.masks):
        shown = np.ones_like(frame.seen[i]) if mask is None else mask
        steps, units = shown.shape
        traces.append(dict(type="heatmap", z=shown, x=np.arange(1, units + 1), y=np.arange(1, steps + 1),
                           xaxis=f"x{i + 1}" if i else "x", yaxis=f"y{i + 1}" if i else "y", zmin=0, zmax=1,
                           colorscale=[[0, DROPPED], [0.5, DROPPED], [0.5, INPUT_FILL], [1, INPUT_FILL]],
                           showscale=False, xgap=1, ygap=1, hoverinfo="skip"))
    layout = base_layout(
        masks_title(spec), height, "rnn-masks", subtitle=masks_subtitle(frame),
        xaxis=ink_axis(RNN_AXES["input"], domain=[0, 0.14], range=[0.5, 8.5], tickvals=[1, 8], showgrid=False),
        yaxis=ink_axis(RNN_AXES["steps"], autorange="reversed", tickvals=list(range(1, 9)), showgrid=False),
        xaxis2=ink_axis(RNN_AXES["state"], domain=[0.2, 1], showgrid=False,
                        tickvals=[1, 16, 32, 48, 64]),
        yaxis2=ink_axis("", anchor="x2", autorange="reversed", showticklabels=False, matches="y", showgrid=False),
        margin=dict(l=80, r=20, t=105, b=70))
    fit_title(layout, width)
    return figure(traces, layout)


# ---------------------------------------------------------------------- dense: dropped neurons vs dropped edges
def dense_shown(frame, shown: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """The pixels and hidden units the dense panel draws: the tracked digit's `shown` brightest pixels (in
    pixel order), and the first shown + 2 hidden units."""
    return np.sort(np.argsort(-frame.x, kind="stable")[:shown]), np.arange(shown + 2)


def dense_figure(frame, shown: int = 6, height: int = 470, width: float = NARROW):
    """Inputs to hidden units of the dense net, for the tracked digit's pixels that are most on: standard
    dropout crosses out hidden units (and so all their edges); DropConnect drops single edges, every unit stays."""
    spec, mask = frame.spec, frame.masks[0]
    ins, outs = dense_shown(frame, shown)
    yi, yo = np.linspace(0.9, 0.1, shown), np.linspace(1, 0, len(outs))
    kept_x, kept_y, drop_x, drop_y = [], [], [], []
    for a, i in enumerate(ins):
        for b, o in enumerate(outs):
            if mask is None:
                gone = False
            elif mask.ndim == 2:
                gone = mask[i, o] == 0
            else:
                gone = mask[o] == 0
            xs, ys = (drop_x, drop_y) if gone else (kept_x, kept_y)
            xs += [0, 1, None]
            ys += [yi[a], yo[b], None]
    traces = [dict(type="scatter", x=kept_x, y=kept_y, mode="lines", line=dict(color=EDGE, width=2.5),
                   hoverinfo="skip", name=DENSE_NAMES["kept"])]
    if drop_x and mask is not None and mask.ndim == 2:
        traces.append(dict(type="scatter", x=drop_x, y=drop_y, mode="lines", hoverinfo="skip",
                           name=DENSE_NAMES["dropped"], line=dict(color=DROPPED, width=2, dash="4px,5px")))
    unit_drop = mask is not None and mask.ndim == 1
    fill = [EMPTY if unit_drop and mask[o] == 0 else INPUT_FILL for o in outs]
    traces.append(dict(type="scatter", x=[0] * shown, y=yi, mode="markers", hoverinfo="skip", showlegend=False,
                       marker=dict(size=26, color=INPUT_FILL, line=dict(color=INK, width=1.5))))
    traces.append(dict(type="scatter", x=[1] * len(outs), y=yo, mode="markers", hoverinfo="skip", showlegend=False,
                       marker=dict(size=26, color=fill, line=dict(color=INK, width=1.5))))
    if unit_drop:
        gone = [b for b, o in enumerate(outs) if mask[o] == 0]
        traces.append(dict(type="scatter", x=[1] * len(gone), y=yo[gone], mode="markers", hoverinfo="skip",
                           name=DENSE_NAMES["unit"], marker=dict(symbol="x-thin", size=24, color=DROPPED,
                                                            line=dict(width=4, color=DROPPED))))
    layout = base_layout(masks_title(spec), height, "dense", subtitle=masks_subtitle(frame, shown, len(outs)),
                         showlegend=True,
                         legend=dict(orientation="h", x=0, y=-0.02, yanchor="top", font=dict(size=SMALL)),
                         xaxis=hidden_axis(range=[-0.4, 1.4]), yaxis=hidden_axis(range=[-0.08, 1.16]),
                         annotations=[dict(text=t, x=x, y=1.1, xref="x", yref="y", showarrow=False,
                                           font=dict(size=FONT, color=INK))
                                      for x, t in zip((0, 1), DENSE_COLUMNS)],
                         margin=dict(l=10, r=10, t=100, b=60))
    fit_title(layout, width)
    return figure(traces, layout)


# ---------------------------------------------------------------------- the rescaling
def rescale_figure(frame, height: int = 380, width: float = NARROW / 2):
    """The mean signal the first dropout site passes on for the tracked digit: as computed, after dropping,
    after the survivors' factor, and at test time. On average over masks the training bar equals the test bar."""
    lv, spec = frame.levels, frame.spec
    names = rescale_names(frame)
    values = [lv["computed"], lv["dropped"], lv["scaled"], lv["test"]]
    colors = [MUTED, DROPPED, TRAIN, TEST]
    traces = [dict(type="bar", x=names, y=values, marker=dict(color=colors), hoverinfo="skip",
                   text=[f"{v:.3f}" for v in values], textposition="outside", textfont=dict(size=SMALL),
                   cliponaxis=False)]
    hi, lo = max(max(values), 0.0), min(min(values), 0.0)
    pad = 0.3 * (hi - lo) or 1.0
    top, bottom = (hi + pad if hi > 0 else 0.0), (lo - pad if lo < 0 else 0.0)
    layout = base_layout(RESCALE_TITLE, height, "rescale", subtitle=rescale_subtitle(spec),
                         xaxis=ink_axis("", tickangle=0), yaxis=ink_axis("mean", range=[bottom, top]),
                         showlegend=False, margin=dict(l=80, r=20, t=100, b=70))
    fit_title(layout, width)
    return figure(traces, layout)


# ---------------------------------------------------------------------- against the twin
def curves_figure(history: list[tuple], spec, height: int = 400, width: float = NARROW):
    """Test accuracy and test loss of the variant (solid) and its p = 0 twin (dashed) against iterations.
    Built as plain dicts (style.figure): make_subplots' validation costs ~0.5 s, every tick."""
    h = np.asarray(history, dtype=float).reshape(-1, 5)
    step = h[:, 0]
    traces = []
    for i, (mine, twin) in enumerate(((1, 3), (2, 4))):
        axes = dict(xaxis="x" if i == 0 else "x2", yaxis="y" if i == 0 else "y2")
        traces.append(dict(type="scatter", x=step, y=h[:, mine], mode="lines", name=variant_label(spec),
                           showlegend=i == 0, line=RUN_STYLES["main"].plotly(TEST), hoverinfo="skip", **axes))
        traces.append(dict(type="scatter", x=step, y=h[:, twin], mode="lines", name=TWIN_NAME,
                           showlegend=i == 0, line=RUN_STYLES["twin"].plotly(MUTED), hoverinfo="skip", **axes))
    sub = curves_subtitle(h[-1])
    x_range = [0, max(10.0, step[-1])]
    top_loss = float(np.nanmax(h[:, [2, 4]])) * 1.05 if len(h) else 1.0
    layout = base_layout(
        CURVES_TITLE, height, "curves", subtitle=sub, showlegend=True,
        legend=dict(orientation="h", x=0, y=-0.4, yanchor="top", font=dict(size=SMALL)),
        xaxis=ink_axis(CURVES_AXES[2], domain=[0, 0.42], range=x_range),
        yaxis=ink_axis(CURVES_AXES[0], range=[0, 1.02]),
        xaxis2=ink_axis(CURVES_AXES[2], domain=[0.58, 1], range=x_range, anchor="y2"),
        yaxis2=ink_axis(CURVES_AXES[1], range=[0, top_loss], anchor="x2"),
        margin=dict(l=80, r=20, t=100, b=125))
    fit_title(layout, width)
    return figure(traces, layout)


# ---------------------------------------------------------------------- the experiment
def interval(values, level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the Student-t confidence interval of the mean (0 for one value): dropviz.stats."""
    i = t_interval(values, level)
    return i.mean, (i.hi - i.mean) if i.n > 1 else 0.0


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per family, variant and test rule: mean test accuracy and loss with 95% half-widths, and the mean
    difference in accuracy to the same seeds' no-dropout runs (paired: same weights and batches)."""
    rows = []
    base = df[df["variant"] == "none"].set_index(["family", "seed"])["test_acc"]
    for (family, variant, rule), g in df.groupby(["family", "variant", "test_rule"], sort=False):
        acc, acc_hw = interval(g["test_acc"])
        loss, loss_hw = interval(g["test_loss"])
        diff, diff_hw = interval(g["test_acc"].to_numpy() - base.loc[[(family, s) for s in g["seed"]]].to_numpy())
        rows.append(dict(family=family, variant=variant, test_rule=rule, seeds=len(g), test_acc=acc,
                         test_acc_pm=acc_hw, test_loss=loss, test_loss_pm=loss_hw, gain=diff, gain_pm=diff_hw))
    return pd.DataFrame(rows)


def variants_figure(df: pd.DataFrame):
    """Test accuracy and loss per variant, mean and 95% interval over seeds: one row per family, the variants
    down the side (their names never overlap), accuracy left and loss right."""
    s = summary(df)
    families = list(dict.fromkeys(s["family"]))
    fig = make_subplots(rows=len(families), cols=2, horizontal_spacing=0.08, vertical_spacing=0.1,
                        column_titles=["test accuracy", "test loss"])
    for row, family in enumerate(families, start=1):
        g = s[s["family"] == family]
        names = [NAMES[v].split(" (")[0] + (" (moments)" if r == "moment matching" else "")
                 for v, r in zip(g["variant"], g["test_rule"])]
        colors = [MUTED if v == "none" else TEST for v in g["variant"]]
        for col, (x, pm) in enumerate((("test_acc", "test_acc_pm"), ("test_loss", "test_loss_pm")), start=1):
            fig.add_scatter(x=g[x], y=names, mode="markers", showlegend=False, hoverinfo="skip",
                            error_x=dict(type="data", array=g[pm], thickness=3, width=6, color=INK),
                            marker=dict(size=13, color=colors), row=row, col=col)
            fig.update_yaxes(autorange="reversed", showticklabels=col == 1, row=row, col=col,
                             title_text=FAMILY_NAMES.get(family, family) if col == 1 else "")
    seeds = int(s["seeds"].max())
    return _experiment_layout(fig, "Dropout variants on 8×8 digits", 240 * len(families) + 150,
                              f"mean and 95% interval over {seeds} seed{'s' if seeds != 1 else ''}; grey: no dropout")
