"""What the browser's Variants view (view.js) draws: numbers, words and colours, per frame.

Pure: VariantFrames and the history in, a small JSON-ready dict out. view.js only places what is here, in
the words of dropviz/figures/variants.py (whose Plotly panels the page keeps for download) and the colours
and line styles of dropviz/figures/style.py, so the two always say the same.

Compact on purpose (a few frames travel with every request while playing): a feature map's values are whole
percent of its layer's largest value, as the Plotly panel scales them, and a mask is a string with "1" where
something is dropped.
"""
from __future__ import annotations

import math

import numpy as np

from ..figures import variants as fv
from ..figures.style import ACTIVATION_SCALE, DROPPED, FAMILY, MUTED, PALETTE, RUN_STYLES, TEST, TRAIN, rgb_stops
from ..history import thin

MAX_POINTS = 240  # per curve sent to the browser with each request (thinned by dropviz.history.thin)
DENSE_PIXELS = 6  # the dense panel's brightest pixels, as the Plotly panel draws them


def _line(style, color: str) -> dict:
    return {"color": color, "width": style.width, "dash": style.svg_dash, "opacity": style.opacity}


LOOK = {"font": FAMILY, "colors": PALETTE, "activation_scale": rgb_stops(ACTIVATION_SCALE),
        "main": _line(RUN_STYLES["main"], TEST), "twin": _line(RUN_STYLES["twin"], MUTED),
        "bars": [MUTED, DROPPED, TRAIN, TEST]}  # the rescaling's bars, in the Plotly panel's colours


def dropped_string(mask) -> str:
    """A 0/1 mask (any shape, row-major) as a string: "1" where dropped; None (nothing dropped): all "0"."""
    if mask is None:
        return ""
    return "".join("1" if k == 0 else "0" for k in np.asarray(mask).ravel())


def _finite(value: float, digits: int = 4) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def conv_masks(frame) -> dict:
    """Each conv layer's feature maps of the tracked digit (whole percent of the layer's largest value) and
    what is dropped: positions, and whole channels (drawn with one large cross)."""
    layers = []
    for layer, (maps, mask) in enumerate(zip(frame.seen, frame.masks)):
        maps = np.asarray(maps, dtype=float)
        top = maps.max() if maps.max() > 0 else 1.0
        whole = [] if mask is None else [c for c in range(len(maps)) if (np.asarray(mask[c]) == 0).all()]
        percent = np.rint(100 * np.clip(maps / top, 0, 1)).astype(int)
        layers.append({"label": fv.conv_layer_label(layer, len(maps)), "channels": len(maps),
                       "side": maps.shape[-1], "values": percent.ravel().tolist(),
                       "dropped": dropped_string(mask), "whole": whole})
    return {"layers": layers}


def rnn_masks(frame) -> dict:
    """The time x unit grids: input pixels and recurrent units, one row per step."""
    grids = []
    for name, seen, mask in zip(("input", "state"), frame.seen, frame.masks):
        steps, units = np.asarray(seen).shape
        grids.append({"label": fv.RNN_AXES[name], "rows": steps, "cols": units,
                      "dropped": dropped_string(mask) or "0" * (steps * units)})
    return {"grids": grids, "steps_label": fv.RNN_AXES["steps"]}


def dense_masks(frame) -> dict:
    """The tracked digit's brightest pixels to the first hidden units: dropped edges (DropConnect, row-major
    pixel x unit) or dropped units (standard dropout)."""
    ins, outs = fv.dense_shown(frame, DENSE_PIXELS)
    mask = frame.masks[0]
    edges = units = ""
    if mask is not None and np.asarray(mask).ndim == 2:
        edges = dropped_string(np.asarray(mask)[np.ix_(ins, outs)])
    elif mask is not None:
        units = dropped_string(np.asarray(mask)[outs])
    return {"inputs": len(ins), "units": len(outs), "edges": edges, "dropped_units": units,
            "columns": list(fv.DENSE_COLUMNS), "names": fv.DENSE_NAMES}


MASKS = {"conv": conv_masks, "recurrent": rnn_masks, "dense": dense_masks}


def frame_payload(frame) -> dict:
    """One displayed frame: the counter, the variant's and the twin's test numbers, the mask panel, the
    rescaling and the curves' line for this iteration."""
    spec = frame.spec
    shown = f"{100 * frame.test_acc:.1f}%"
    if frame.moment_acc is not None:
        shown += f" (moment matching: {100 * frame.moment_acc:.1f}%)"
    lv = frame.levels
    at = frame.step if frame.evaluated_at is None else frame.evaluated_at
    row = (at, frame.test_acc, frame.test_loss, frame.twin_test_acc, frame.twin_test_loss)
    return {
        "step": frame.step,
        "counter": f"Iteration {frame.step}",
        "metrics": f"{fv.variant_label(spec)} · test accuracy {shown} · test loss {frame.test_loss:.3f}" +
                   ("" if at == frame.step else f" (iteration {at})"),
        "twin": f"{fv.TWIN_NAME}: test accuracy {100 * frame.twin_test_acc:.1f}% · "
                f"test loss {frame.twin_test_loss:.3f}",
        "family": spec.family,
        "title": fv.masks_title(spec),
        "subtitle": fv.masks_subtitle(frame, DENSE_PIXELS, DENSE_PIXELS + 2),
        "masks": MASKS[spec.family](frame),
        "rescale": {"title": fv.RESCALE_TITLE, "subtitle": fv.rescale_subtitle(spec),
                    "names": fv.rescale_names(frame, "\n"),
                    "values": [_finite(lv[k]) for k in ("computed", "dropped", "scaled", "test")]},
        "curves_note": fv.curves_subtitle(row),
    }


def curves_payload(history: list[tuple], spec) -> dict:
    """Test accuracy and loss of the variant and its twin, per recorded iteration (at most MAX_POINTS)."""
    rows = thin(history, MAX_POINTS)
    column = lambda k: [_finite(r[k]) for r in rows]  # noqa: E731
    return {"title": fv.CURVES_TITLE, "acc_title": fv.CURVES_AXES[0], "loss_title": fv.CURVES_AXES[1],
            "x_title": fv.CURVES_AXES[2], "names": [fv.variant_label(spec), fv.TWIN_NAME],
            "step": [int(r[0]) for r in rows], "acc": column(1), "loss": column(2),
            "twin_acc": column(3), "twin_loss": column(4)}


def view_payload(frames: list, history: list[tuple], spec, epoch: int, interval_ms: int) -> dict:
    """Frames for the browser to draw one every `interval_ms`, oldest first (the last is the engine's state),
    with the curves up to the last. A new `epoch` (a new run) tells the browser to drop what it has."""
    return {"epoch": epoch, "interval_ms": interval_ms, "look": LOOK,
            "frames": [frame_payload(f) for f in frames], "curves": curves_payload(history, spec)}
