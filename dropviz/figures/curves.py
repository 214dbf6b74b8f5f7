"""Live loss and accuracy curves: this run, its p = 0 twin (dashed) and faded ghosts of earlier runs."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from .labels import ACCURACY_TITLE, ITERATION, LOSS_TITLE, MEASURED, SERIES, gap_text, p_change_text, run_title
from .style import INK, P_CHANGE_LINE, RUN_STYLES, SMALL, axis, base_layout, figure


def _finite(history: list[dict], key: str) -> tuple[list, list]:
    xs, ys = [], []
    for row in history:
        x, y = row.get("step"), row.get(key)
        if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
            xs.append(x)
            ys.append(y)
    return xs, ys


def _last(history: list[dict], key: str):
    xs, ys = _finite(history, key)
    return (xs[-1], ys[-1]) if xs else None


def _wrap(text: str, width: int = 44) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def curves_figure(runs: list[dict], height: int = 600) -> go.Figure:
    """Loss (left) and accuracy (right) against iteration, for every run.

    Each run: {"label": str, "history": Trainer.history, "style": "main" | "twin" | "ghost",
    "p_changes": [(step, p), ...]}. Training loss is the clean one (the whole training set without
    dropout), comparable with the test loss. Non-finite values are left out.
    """
    traces, shapes, notes = [], [], []
    for number, run in enumerate(runs):
        style = run.get("style", "ghost")
        look = RUN_STYLES.get(style, RUN_STYLES["ghost"])
        group, title = f"run{number}", run_title(run)
        for loss_key, acc_key, name, color in SERIES:
            line, opacity = look.plotly(color), look.opacity
            for key, axes, show in ((loss_key, ("x", "y"), True), (acc_key, ("x2", "y2"), False)):
                xs, ys = _finite(run.get("history", []), key)
                traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", name=name, legendgroup=group,
                                         legendgrouptitle=dict(text=_wrap(title), font=dict(size=SMALL)),
                                         showlegend=show, opacity=opacity, line=line,
                                         xaxis=axes[0], yaxis=axes[1],
                                         hovertemplate=f"{title}: {name}<br>iteration %{{x}}: %{{y:.3f}}"
                                                       "<extra></extra>"))
        if style == "main":
            for step, p in run.get("p_changes", []):
                for x, y in (("x", "y"), ("x2", "y2")):
                    shapes.append(dict(type="line", xref=x, yref=f"{y} domain", x0=step, x1=step, y0=0, y1=1,
                                       line=P_CHANGE_LINE.plotly(INK)))
                    notes.append(dict(x=step, y=1.0, xref=x, yref=f"{y} domain", text=p_change_text(p),
                                      showarrow=False, yanchor="bottom", font=dict(size=SMALL, color=INK)))
    gap = _gap_note(runs)
    if gap:
        notes.append(gap)
    # each panel's quantity is written above it: a y-axis title between the panels would overlap the lines
    for x, title in (("x", LOSS_TITLE), ("x2", ACCURACY_TITLE)):
        head, _, rest = title.partition(" ")  # the quantity in bold: "<b>Loss</b> (cross-entropy)"
        text = f"<b>{head}</b> {rest}".strip()
        notes.append(dict(xref=f"{x} domain", yref="paper", x=0, y=0.9, xanchor="left", yanchor="bottom",
                          showarrow=False, text=text, font=dict(size=SMALL + 1, color=INK)))
    layout = base_layout("Loss and accuracy", height, "curves", subtitle=MEASURED, hovermode="closest",
                         xaxis=axis(ITERATION, domain=[0.0, 0.45], rangemode="tozero"),
                         yaxis=axis("", rangemode="tozero", domain=[0.0, 0.9]),
                         xaxis2=axis(ITERATION, domain=[0.57, 1.0], anchor="y2", rangemode="tozero"),
                         yaxis2=axis("", anchor="x2", range=[0, 1.02], tickformat=".0%", domain=[0.0, 0.9]),
                         shapes=shapes, annotations=notes, showlegend=True,
                         legend=dict(orientation="h", x=0, xanchor="left", y=-0.2, yanchor="top",
                                     font=dict(size=SMALL), groupclick="togglegroup"),
                         margin=dict(l=70, r=20, t=130, b=40))
    return figure(traces, layout)


def _gap_note(runs: list[dict]) -> dict | None:
    """The test loss gap at the main run's last iteration: main minus twin (negative: dropout helps)."""
    main = next((r for r in runs if r.get("style") == "main"), None)
    twin = next((r for r in runs if r.get("style") == "twin"), None)
    if main is None or twin is None:
        return None
    a, b = _last(main.get("history", []), "test_loss"), _last(twin.get("history", []), "test_loss")
    text = gap_text(a[1] if a else None, b[1] if b else None)
    if not text:
        return None
    # a fixed place under the title, not beside the curve's end: at iteration 0 that is the left edge (clipped)
    return dict(x=0, y=1.0, xref="paper", yref="paper", yshift=6, xanchor="left", yanchor="bottom",
                showarrow=False, font=dict(size=SMALL + 1, color=INK), text=text)
