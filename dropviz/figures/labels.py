"""Words that the Plotly figures and the live view both show, written once so both say the same.

The live view's payload (dropviz/live/payload.py) and the figures import these; a layer's multiplier
is always read from dropviz.dropout, the one dropout rule.
"""
from __future__ import annotations

import math

from .. import notation as notation_rule
from ..dropout import factor_text, multipliers
from .style import TEST, TRAIN

ITERATION = "iteration"  # the x axis of every chart over training time
LOSS_TITLE = "Loss (cross-entropy)"
ACCURACY_TITLE = "Accuracy"
MEASURED = "train and test both measured without dropout; lower loss is better"
# (loss key, accuracy key, name, colour) of the two curves of every run
SERIES = (("test_loss", "test_acc", "test", TEST), ("clean_train_loss", "train_acc", "train", TRAIN))
TWIN = "twin without dropout (p = 0)"
GAP_TIE = 0.005  # test losses closer than this count as equal: the gap gets no verdict


ALL_ON = {"hidden": "all active", "input": "all kept"}  # a layer at test time: nothing is dropped


def layer_lines(p: float, mode: str, test_time: bool, layer: str = "hidden",
                notation: str = notation_rule.DEFAULT) -> tuple[str, str]:
    """What multiplies a layer's outputs (layer: "hidden", or "input" with input_p), in two short lines: its
    p, and its factor in this phase, as the engine applies it (dropviz.dropout).

    Training: ("p = 0.5", "×2.00") inverted, ("p = 0.25", "×1 (test ×0.75)") classic.
    Test time: ("all active", "×1") inverted, ("all active", "×0.75 = 1−p") classic; inputs: ("all kept",
    "×0.90 = 1−input p"). In the paper's notation p reads "retain = 0.75" and 1−p "retain".
    """
    m = multipliers(p, mode)
    if test_time:
        return ALL_ON[layer], factor_text(m.test) + (f" = {notation_rule.keep_expr(notation, layer)}"
                                                    if m.test != 1 else "")
    test = f" (test {factor_text(m.test)})" if m.test != 1 else ""
    return notation_rule.text(p, notation, layer), factor_text(m.train) + test


def run_title(run: dict, notation: str = notation_rule.DEFAULT) -> str:
    """A run on the loss charts: this run with the p it trains with now, its twin, or an earlier run."""
    style, history = run.get("style", "ghost"), run.get("history", [])
    if style == "main":
        p = history[-1].get("p") if history else None
        return "this run" + (f" (dropout, {notation_rule.text(p, notation)})" if p is not None else "")
    if style == "twin":
        return TWIN.replace("p = 0", notation_rule.text(0.0, notation))
    return "earlier: " + run.get("label", "run")


def p_change_text(p: float, notation: str = notation_rule.DEFAULT) -> str:
    """The note at the marker where p was changed."""
    return notation_rule.change_text(p, notation)


def gap_verdict(gap: float) -> str:
    """Which run generalizes better, by the test loss gap (this run minus its twin): "" when about equal."""
    if not math.isfinite(gap) or abs(gap) < GAP_TIE:
        return ""
    return "dropout better" if gap < 0 else "twin better"


def gap_text(main_loss: float, twin_loss: float) -> str:
    """'test loss, this run − twin: +0.012 (twin better)'; "" if either loss is unknown."""
    if main_loss is None or twin_loss is None or not (math.isfinite(main_loss) and math.isfinite(twin_loss)):
        return ""
    gap = round(main_loss - twin_loss, 3)
    verdict = gap_verdict(gap)
    return (f"test loss, this run − twin: {'−' if gap < 0 else '+'}{abs(gap):.3f}"
            + (f" ({verdict})" if verdict else ""))
