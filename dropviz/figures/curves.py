"""Live loss and accuracy curves: this run, its p = 0 twin (dashed) and faded ghosts of earlier runs."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from .style import INK, SMALL, TEST, TRAIN, axis, base_layout, figure

STYLES = {  # dash, width, opacity
    "main": ("solid", 3.5, 1.0),
    "twin": ("dash", 3.0, 1.0),
    "ghost": ("solid", 2.0, 0.3),
}
SERIES = (  # (loss key, accuracy key, name, colour)
    ("test_loss", "test_acc", "test", TEST),
    ("clean_train_loss", "train_acc", "train (measured without dropout)", TRAIN),
)


def _finite(history: list[dict], key: str) -> tuple[list, list]:
    xs, ys = [], []
    for row in history:
        x, y = row.get("step"), row.get(key)
        if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
            xs.append(x); ys.append(y)
    return xs, ys


def _last(history: list[dict], key: str):
    xs, ys = _finite(history, key)
    return (xs[-1], ys[-1]) if xs else None


def _wrap(text: str, width: int = 44) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line); line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def _run_title(run: dict) -> str:
    style, history = run.get("style", "ghost"), run.get("history", [])
    if style == "main":
        p = history[-1].get("p") if history else None
        return "this run" + (f" (dropout, p = {p:g})" if p is not None else "")
    if style == "twin":
        return "twin without dropout (p = 0)"
    return _wrap("earlier: " + run.get("label", "run"))


def curves_figure(runs: list[dict], height: int = 600) -> go.Figure:
    """Loss (left) and accuracy (right) against iteration, for every run.

    Each run: {"label": str, "history": Trainer.history, "style": "main" | "twin" | "ghost",
    "p_changes": [(step, p), ...]}. Training loss is the clean one (the whole training set without
    dropout), comparable with the test loss. Non-finite values are left out.
    """
    traces, shapes, notes = [], [], []
    for number, run in enumerate(runs):
        style = run.get("style", "ghost")
        dash, width, opacity = STYLES.get(style, STYLES["ghost"])
        group, title = f"run{number}", _run_title(run)
        for loss_key, acc_key, name, color in SERIES:
            line = dict(color=color, width=width, dash=dash)
            for key, axes, show in ((loss_key, ("x", "y"), True), (acc_key, ("x2", "y2"), False)):
                xs, ys = _finite(run.get("history", []), key)
                traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", name=name, legendgroup=group,
                                         legendgrouptitle=dict(text=title, font=dict(size=SMALL)),
                                         showlegend=show, opacity=opacity, line=line,
                                         xaxis=axes[0], yaxis=axes[1],
                                         hovertemplate=f"{title}: {name}<br>iteration %{{x}}: %{{y:.3f}}<extra></extra>"))
        if style == "main":
            for step, p in run.get("p_changes", []):
                for x, y in (("x", "y"), ("x2", "y2")):
                    shapes.append(dict(type="line", xref=x, yref=f"{y} domain", x0=step, x1=step, y0=0, y1=1,
                                       line=dict(color=INK, width=2, dash="dot")))
                    notes.append(dict(x=step, y=1.0, xref=x, yref=f"{y} domain", text=f"p → {p:g}",
                                      showarrow=False, yanchor="bottom", font=dict(size=SMALL, color=INK)))
    gap = _gap_note(runs)
    if gap:
        notes.append(gap)
    # each panel's quantity is written above it: a y-axis title between the panels would overlap the lines
    for x, text in (("x", "<b>loss</b> (cross-entropy)"), ("x2", "<b>accuracy</b>")):
        notes.append(dict(xref=f"{x} domain", yref="paper", x=0, y=0.9, xanchor="left", yanchor="bottom",
                          showarrow=False, text=text, font=dict(size=SMALL + 1, color=INK)))
    layout = base_layout("Loss and accuracy", height, "curves", hovermode="closest",
                         xaxis=axis("iteration", domain=[0.0, 0.45], rangemode="tozero"),
                         yaxis=axis("", rangemode="tozero", domain=[0.0, 0.9]),
                         xaxis2=axis("iteration", domain=[0.57, 1.0], anchor="y2", rangemode="tozero"),
                         yaxis2=axis("", anchor="x2", range=[0, 1.02], tickformat=".0%", domain=[0.0, 0.9]),
                         shapes=shapes, annotations=notes, showlegend=True,
                         legend=dict(orientation="h", x=0, xanchor="left", y=-0.2, yanchor="top",
                                     font=dict(size=SMALL), groupclick="togglegroup"),
                         margin=dict(l=70, r=20, t=80, b=40))
    return figure(traces, layout)


def _gap_note(runs: list[dict]) -> dict | None:
    """'gap to no-dropout twin' at the main run's last test loss: main minus twin (negative: dropout helps)."""
    main = next((r for r in runs if r.get("style") == "main"), None)
    twin = next((r for r in runs if r.get("style") == "twin"), None)
    if main is None or twin is None:
        return None
    a, b = _last(main.get("history", []), "test_loss"), _last(twin.get("history", []), "test_loss")
    if a is None or b is None:
        return None
    # a fixed place under the title, not beside the curve's end: at iteration 0 that is the left edge (clipped)
    gap = a[1] - b[1]
    verdict = "" if abs(gap) < 0.005 else " (dropout better)" if gap < 0 else " (twin better)"
    return dict(x=0, y=1.0, xref="paper", yref="paper", yshift=6, xanchor="left", yanchor="bottom",
                showarrow=False, font=dict(size=SMALL + 1, color=INK),
                text=f"test loss gap to no-dropout twin: <b>{gap:+.2f}</b>{verdict}")
