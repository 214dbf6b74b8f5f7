"""The compact data the browser's live view draws each frame (counter and network diagram).

Pure: a LiveSession in, a small JSON-ready dict out. The browser only draws what is here, so what
the counter and the diagram show is exactly what the engine did.
"""
from __future__ import annotations

import math

from ..figures.style import MAX_NEURONS, shown_count
from .session import LiveSession


def _round(values, digits=3) -> list[float]:
    return [round(float(v), digits) if math.isfinite(v) else 0.0 for v in values]


def layer_header(p: float, mode: str, test_time: bool) -> tuple[str, str]:
    """What multiplies this layer's outputs, in two short lines: inverted vs classic dropout."""
    if test_time:
        if mode == "classic" and p > 0:
            return "all active", f"×{1 - p:.2f} = 1−p"
        return "all active", "×1"
    if p == 0:
        return "p = 0", "×1"
    if mode == "classic":
        return f"p = {p:g}", f"×1 (test ×{1 - p:.2f})"
    return f"p = {p:g}", f"×{1 / (1 - p):.2f}"


def status_line(live: LiveSession) -> str:
    if live.diverged:
        return "⚠ diverged: paused"
    return f"▶ playing · {live.speed}" if live.playing else "❚❚ paused"


def live_payload(live: LiveSession, pairs=None, test_time: bool = False, epoch: int = 0,
                 max_neurons: int = MAX_NEURONS) -> dict:
    """Frames for the browser to play back one every `interval_ms`, and the loss curves.

    pairs: (frame, twin frame) of each frame to show, oldest first; default: the current ones.
    A new `epoch` tells the browser to drop frames it has not shown yet (settings changed).
    """
    pairs = pairs or [(live.trainer.frame, live.twin.frame)]
    return {"epoch": epoch, "interval_ms": round(1000 * live.interval),
            "frames": [frame_payload(live, f, t, test_time, max_neurons) for f, t in pairs],
            "curves": curves_payload(live)}


def frame_payload(live: LiveSession, frame, twin, test_time: bool, max_neurons: int = MAX_NEURONS) -> dict:
    data = live.trainer.data
    layers = []
    for lf in frame.layers:
        width = len(lf.mask)
        shown = shown_count(width, max_neurons)
        dropped = int((~lf.mask).sum())
        layers.append({
            "act": _round((lf.test_pre if test_time else lf.pre)[:shown]),
            "mask": [1] * shown if test_time else [int(k) for k in lf.mask[:shown]],  # test: none dropped
            "header": layer_header(lf.p, frame.mode, test_time),
            "more": f"+{width - shown} more" if shown < width else "",
            "dropped": "none dropped" if test_time else f"{dropped} of {width} dropped",
            "n_dropped": 0 if test_time else dropped, "width": width,
        })
    image = data.image_shape is not None
    n_classes = len(frame.test_output)
    names = [str(c) for c in range(n_classes)] if image else [f"class {c}" for c in range(n_classes)]
    status = status_line(live)
    if live.cfg.p != frame.p and not live.playing:  # changed while paused: say so, the frame is older
        status += f" · p = {live.cfg.p:g} from the next iteration"
    tracked = f"following training example #{frame.tracked_index} (class {frame.y})"
    if not frame.tracked_in_batch and not test_time and frame.step > 0:
        tracked += ": not in this batch, mask shown for illustration"
    return {
        "step": frame.step,
        "p": frame.p if live.playing else live.cfg.p,  # the p this frame's text shows as current
        "input_p": frame.input_p,
        "input_scale": f"×{frame.input_scale:.2f}",
        "test_time": bool(test_time),
        "status": status,
        "tracked": tracked,
        "metrics": {"test_loss": frame.test_loss, "test_acc": frame.test_acc,
                    "twin_test_loss": twin.test_loss, "twin_test_acc": twin.test_acc},
        "input": {"kind": "image" if image else "points", "values": _round(frame.x),
                  "mask": None if frame.input_mask is None or test_time else [int(k) for k in frame.input_mask]},
        "layers": layers,
        "output": {"probs": _round(frame.test_output if test_time else frame.output),
                   "label": frame.y, "names": names},
    }


MAX_POINTS = 240  # per curve sent to the browser each frame
CURVES = (("test_loss", "test", "#d95f02"), ("clean_train_loss", "train", "#1b63b5"))
RUN_STYLE = {"main": (4.0, "", 1.0), "twin": (3.0, "10 7", 1.0), "ghost": (2.5, "", 0.3)}


def thin(history: list[dict]) -> list[dict]:
    """At most about MAX_POINTS rows: every k-th (k a power of two, so kept points stay put) plus the last."""
    stride = 1
    while len(history) > MAX_POINTS * stride:
        stride *= 2
    rows = history[::stride]
    if history and rows[-1] is not history[-1]:
        rows.append(history[-1])
    return rows


def _short_label(label: str) -> str:
    return label if len(label) <= 60 else label[:57] + "…"


def curves_payload(live: LiveSession) -> dict:
    """Loss curves of this run, its p = 0 twin (dashed) and the ghosts (faded), for the browser."""
    series = []
    for run in live.runs():
        style = run["style"]
        width, dash, opacity = RUN_STYLE[style]
        rows = thin(run["history"])
        for key, name, color in CURVES:
            pts = [(r["step"], r[key]) for r in rows if math.isfinite(r[key])]
            series.append({"run": style, "name": name, "color": color if style != "ghost" else "#555555",
                           "width": width, "dash": dash, "opacity": opacity,
                           "x": [s for s, _ in pts], "y": _round([v for _, v in pts], 4)})
        if style == "ghost":
            series[-2]["label"] = "earlier: " + _short_label(run["label"])
    return {"series": series, "p_changes": [[s, p] for s, p in live.p_changes], "p": live.cfg.p}
