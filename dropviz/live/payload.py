"""Everything the browser's live view draws each frame: numbers, words, colours and line styles.

Pure: a LiveSession in, a small JSON-ready dict out (payload_text: the JSON text the element is sent). The
JavaScript (live_view.js) only places what is here, so what the counter, the diagram and the loss curves show
is exactly what the engine did, in the words and colours the Plotly figures use too (dropviz/figures/labels.py
and style.py).
"""
from __future__ import annotations

import json
import math

from .. import notation as notation_rule
from ..figures.labels import ITERATION, LOSS_TITLE, MEASURED, SERIES, gap_text, layer_lines, p_change_text, run_title
from ..figures.style import (
    ACTIVATION_SCALE,
    DROPPED_OUTLINE,
    FAMILY,
    INK,
    INK_SCALE,
    MAX_NEURONS,
    P_CHANGE_LINE,
    PALETTE,
    RUN_STYLES,
    nice_ceil,
    rgb_stops,
    shown_count,
)
from ..history import thin
from .session import LiveSession

DEFAULT_NOTATION = notation_rule.DEFAULT

COMPACT_DEPTH = 4  # deeper networks say a layer's p and factor once for all layers: per column they overlap
LEGEND_TRAIN = ("Filled = kept, colour = activation (dark = 0, yellow = high). Empty with red ✕ = dropped this "
                "iteration: sends 0, gets no gradient.")
LEGEND_TRAIN_SHORT = "Filled = kept (colour = activation). Empty with red ✕ = dropped: sends 0, gets no gradient."
LEGEND_TEST_SHORT = "Test time: nothing dropped. Colour = activation (dark = 0, yellow = high)."
LEGEND_TEST = "Test time: nothing is dropped, every neuron is active. Colour = activation (dark = 0, yellow = high)."
LOOK = {  # the same in every payload: the palette and styles of dropviz/figures/style.py
    "font": FAMILY, "colors": PALETTE,
    "activation_scale": rgb_stops(ACTIVATION_SCALE), "image_scale": rgb_stops(INK_SCALE),
    "dropped_dash": DROPPED_OUTLINE.svg_dash,
    "aria": {"diagram": "network diagram", "curves": "loss curves"},
    # the status line's words when the live view cannot trust what it shows ({step}: the iteration shown)
    "notices": {"disconnected": "⚠ disconnected: cannot reach the dropviz server",
                "restarted": "⚠ the server restarted: run started again from iteration {step}",
                "reloaded": "⚠ page reloaded: run started again from iteration {step}",
                "stalled": "⏸ waiting for the teacher's page: it has sent no frames for a few seconds"},
}


def _round(values, digits=3) -> list[float]:
    return [round(float(v), digits) if math.isfinite(v) else 0.0 for v in values]


def layer_header(p: float, mode: str, test_time: bool, notation: str = DEFAULT_NOTATION) -> tuple[str, str]:
    """What multiplies this layer's outputs, in two short lines (the dropout rule of dropviz.dropout)."""
    return layer_lines(p, mode, test_time, notation=notation)


def status_line(live: LiveSession) -> str:
    if live.diverged:
        return "⚠ diverged: paused"
    if not live.playing:
        return "❚❚ paused"
    return f"▶ playing · {live.shared or live.speed}"


def live_payload(live: LiveSession, pairs=None, test_time: bool = False, epoch: int = 0,
                 max_neurons: int = MAX_NEURONS, notation: str = DEFAULT_NOTATION) -> dict:
    """Frames for the browser to play back one every `interval_ms`, the loss curves and the look.

    pairs: (frame, twin frame) of each frame to show, oldest first; default: the current ones.
    A new `epoch` tells the browser to drop frames it has not shown yet (settings changed). notation: how p
    is written (dropviz.notation); the engine's numbers are the same.
    """
    pairs = pairs or [live.current_pair()]
    return {"epoch": epoch, "interval_ms": round(1000 * live.interval), "look": LOOK,
            "frames": [frame_payload(live, f, t, test_time, max_neurons, notation) for f, t in pairs],
            "curves": curves_payload(live, notation)}


SEPARATORS = (",", ":")


def frame_text(frame: dict) -> str:
    """One frame of a payload as JSON text: encoded once, sent to the teacher's view and every follower's."""
    return json.dumps(frame, separators=SEPARATORS)


def payload_text(payload: dict, frame_texts: list[str] | None = None) -> str:
    """The payload as the JSON text the live view parses. Sent as text, not a dict, because Streamlit encodes a
    dict twice per rerun (for the element's identity and for the message: ~2.8 ms each for a second's frames),
    and a text only escapes it; frame_texts: the frames already encoded (frame_text), which followers share."""
    texts = frame_texts if frame_texts is not None else [frame_text(f) for f in payload["frames"]]
    rest = json.dumps({k: v for k, v in payload.items() if k != "frames"}, separators=SEPARATORS)
    return '{"frames":[' + ",".join(texts) + "]" + ("," + rest[1:] if rest != "{}" else "}")


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def frame_payload(live: LiveSession, frame, twin, test_time: bool, max_neurons: int = MAX_NEURONS,
                  notation: str = DEFAULT_NOTATION) -> dict:
    """One displayed frame: the counter, the header lines and every column of the diagram, with their texts."""
    image = live.data.image_shape
    compact = len(frame.layers) > COMPACT_DEPTH
    columns = [_input_column(frame, test_time, image, notation)]
    for number, lf in enumerate(frame.layers, start=1):
        columns.append(_layer_column(number, lf, frame.mode, test_time, compact, max_neurons, notation))
    columns.append(_output_column(frame, test_time, image))

    status = status_line(live)
    if live.cfg.p != frame.p:  # changed since this frame was computed: say so, the next frames have it
        status += f" · {notation_rule.text(live.cfg.p, notation)} from the next iteration"
    tracked = f"following training example #{frame.tracked_index} (class {frame.y})"
    if not frame.tracked_in_batch and not test_time and frame.step > 0:
        tracked += ": not in this batch, mask shown for illustration"
    shared = shared_note = ""
    if compact:
        first = frame.layers[0]
        width, shown = len(first.mask), shown_count(len(first.mask), max_neurons)
        shared = "every hidden layer: " + ", ".join(layer_header(first.p, frame.mode, test_time, notation))
        shared_note = ("none dropped" if test_time else f"dropped this iteration, of {width} per layer") + (
            f" · first {shown} neurons drawn" if shown < width else "")
    return {
        "step": frame.step,
        "counter": f"Iteration {frame.step}",
        "status": status,
        "metrics": f"test loss {frame.test_loss:.3f} · test accuracy {_percent(frame.test_acc)}",
        "twin": (f"{notation_rule.twin(notation)}: test loss {twin.test_loss:.3f} · "
                 f"accuracy {_percent(twin.test_acc)}"),
        "tracked": tracked,
        "legend": LEGEND_TEST if test_time else LEGEND_TRAIN,
        "legend_short": LEGEND_TEST_SHORT if test_time else LEGEND_TRAIN_SHORT,  # the presenter view's one line
        "gap": gap_text(frame.test_loss, twin.test_loss),
        "compact": compact, "shared": shared, "shared_note": shared_note,
        "image": image is not None,
        "columns": columns,
    }


def _column(title: str, lines=("", ""), notes=("", "", "")) -> dict:
    return {"title": title, "lines": list(lines), "notes": list(notes)}


def _input_column(frame, test_time: bool, image: tuple[int, int] | None, notation: str = DEFAULT_NOTATION) -> dict:
    values = _round(frame.x)
    keep = [1] * len(values)
    if frame.input_mask is not None and not test_time:
        keep = [int(k) for k in frame.input_mask]
    lines = (layer_lines(frame.input_p, frame.mode, test_time, "input", notation) if frame.input_p > 0
             else ("", ""))
    col = _column("input", lines, (f"{image[0]}×{image[1]} image" if image else "", "", ""))
    col.update(values=values, keep=keep, labels=[] if image else [f"x{i + 1} = {v:.2f}" for i, v in enumerate(values)])
    return col


def _layer_column(number: int, lf, mode: str, test_time: bool, compact: bool, max_neurons: int,
                  notation: str = DEFAULT_NOTATION) -> dict:
    width = len(lf.mask)
    shown = shown_count(width, max_neurons)
    dropped = int((~lf.mask).sum())
    act = _round((lf.test_pre if test_time else lf.pre)[:shown])
    color_max = nice_ceil(max(abs(a) for a in act))  # a round number: the colour range rarely changes
    if compact:  # the p and factor are said once for all layers; here only how many were dropped
        col = _column(f"layer {number}", notes=("" if test_time else str(dropped), "", ""))
    else:
        col = _column(f"layer {number}", layer_header(lf.p, mode, test_time, notation),
                      (f"+{width - shown} more" if shown < width else "",
                       "none dropped" if test_time else f"{dropped} of {width} dropped",
                       f"colour: 0 … {color_max:g}"))
    col.update(act=act, color_max=color_max,
               keep=[1] * shown if test_time else [int(k) for k in lf.mask[:shown]])  # test: none dropped
    col.update(n_dropped=0 if test_time else dropped, width=width)
    return col


def _output_column(frame, test_time: bool, image) -> dict:
    probs = _round(frame.test_output if test_time else frame.output)
    names = [str(c) if image else f"class {c}" for c in range(len(probs))]
    labels = [f"{name} {_percent(p)}" + (" ← true" if c == frame.y else "")
              for c, (name, p) in enumerate(zip(names, probs))]
    col = _column("output", ("prediction" if test_time else "this pass", ""), ("never dropped", "", ""))
    col.update(probs=probs, labels=labels, label=int(frame.y), best=max(range(len(probs)), key=probs.__getitem__))
    return col


MAX_POINTS = 240  # per curve sent to the browser each frame (thinned by dropviz.history.thin)
LEGEND_SWATCH = 5.0  # line width of the colour swatches in the live chart's legend


def _short_label(label: str) -> str:
    return label if len(label) <= 60 else label[:57] + "…"


def _line(style, color: str) -> dict:
    return {"color": color, "width": style.width, "dash": style.svg_dash, "opacity": style.opacity}


def curves_payload(live: LiveSession, notation: str = DEFAULT_NOTATION) -> dict:
    """Loss curves of this run, its p = 0 twin (dashed) and the ghosts (faded), with their words and styles."""
    series, legend = [], [{"text": name, **_line(RUN_STYLES["main"], color), "width": LEGEND_SWATCH}
                          for _, _, name, color in SERIES]
    ghosts = []
    for run in live.runs():
        style = run["style"]
        rows = thin(run["history"], MAX_POINTS)
        for key, _, name, color in SERIES:
            pts = [(r["step"], r[key]) for r in rows if math.isfinite(r[key])]
            series.append({"run": style, "name": name, **_line(RUN_STYLES[style], color),
                           "x": [s for s, _ in pts], "y": _round([v for _, v in pts], 4)})
        # an earlier run is named in the legend, beside its faded swatch: a label on the chart sat over the curves
        item = {"text": _short_label(run_title(run, notation)), **_line(RUN_STYLES[style], INK)}
        (ghosts if style == "ghost" else legend).append(item)
    return {"title": LOSS_TITLE, "subtitle": MEASURED, "x_title": ITERATION, "legend": legend + ghosts,
            "gap_widest": gap_text(0.0, 9.999),  # the widest the gap line gets, to lay the chart out once
            "series": series,
            "markers": [{"step": s, "text": p_change_text(p, notation), **_line(P_CHANGE_LINE, INK)}
                        for s, p in live.p_changes]}

