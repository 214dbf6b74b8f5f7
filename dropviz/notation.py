"""How p is written, in one place: dropviz's drop probability, or the 2014 paper's retain probability.

The engine always works with the drop probability p. `notation=retain` (a view setting read from the URL,
dropviz.config.VIEW_FIELDS) changes only what is shown: the paper (Srivastava et al., 2014) writes p for the
probability of *retaining* a unit, so it shows retain = 1 - p. Every label, slider and axis that shows a p
goes through these functions.
"""
from __future__ import annotations

from .config import NOTATIONS, VIEW_FIELD

DROP, RETAIN = NOTATIONS
DEFAULT = VIEW_FIELD["notation"].default
NAMES = {  # (notation, layer) -> the symbol a label writes
    (DROP, "hidden"): "p", (DROP, "input"): "input p",
    (RETAIN, "hidden"): "retain", (RETAIN, "input"): "input retain",  # short: the diagram's columns are narrow
}


def check(notation: str) -> str:
    VIEW_FIELD["notation"].check(notation)
    return notation


def shown(p: float, notation: str) -> float:
    """The number shown for drop probability p: p itself, or the retain probability 1 - p (rounded so that
    1 - 0.2 reads 0.8, not 0.7999999999999999)."""
    return float(p) if check(notation) == DROP else round(1.0 - float(p), 12)


def drop_p(value: float, notation: str) -> float:
    """The drop probability behind a shown number (the inverse of `shown`)."""
    return float(value) if check(notation) == DROP else round(1.0 - float(value), 12)


def name(notation: str, layer: str = "hidden") -> str:
    """The symbol: p, input p; retain, input retain."""
    return NAMES[check(notation), layer]


def text(p: float, notation: str, layer: str = "hidden") -> str:
    """'p = 0.2' or 'retain = 0.8'."""
    return f"{name(notation, layer)} = {shown(p, notation):g}"


def keep_expr(notation: str, layer: str = "hidden") -> str:
    """The keep probability as a formula in this notation: 1−p (1−input p), or the retain probability itself."""
    return f"1−{name(notation, layer)}" if check(notation) == DROP else name(notation, layer)


def title(notation: str, layer: str = "hidden") -> str:
    """An axis or slider title: what the number is, so the p-sweep axis reads against the paper's Fig 9."""
    if check(notation) == DROP:
        return f"{name(notation, layer)}: drop probability" + (" of inputs" if layer == "input" else "")
    return (f"{name(notation, layer)}: probability of retaining " + ("an input" if layer == "input" else "a unit")
            + " (the paper's p = 1 − drop probability)")


def short_title(notation: str, layer: str = "hidden") -> str:
    """A slider's label where room is short (the presenter's top bar)."""
    if check(notation) == DROP:
        return "p: drop probability" if layer == "hidden" else "input p"
    return "retain: the paper's p" if layer == "hidden" else name(notation, layer)


def slider_values(current: float, step: float, hi: float, notation: str) -> list[float]:
    """The drop probabilities a slider offers, in the order it shows them: 0, step, ... hi and the current
    value; in the paper's notation reversed, so the retain probability it shows grows left to right."""
    values = {round(k * step, 10) for k in range(int(round(hi / step)) + 1)} | {float(current)}
    return sorted(values, reverse=check(notation) == RETAIN)


def axis_title(notation: str) -> str:
    """The p-sweep's x axis title (see `sweep_axis`)."""
    return title(notation)


def sweep_axis(ps, notation: str) -> tuple[list[float], str]:
    """The p-sweep's x values and axis title in this notation: the drop probabilities themselves, or the
    paper's retain probabilities 1 - p (as on its Fig 9's axis, "probability of retaining a unit").
    `x, title = sweep_axis(df["p"], notation)`, then plot against x and `fig.update_xaxes(title_text=title)`;
    marks at a p (the best p, the plateau) go through `shown` and `text` too."""
    return [shown(p, notation) for p in ps], axis_title(notation)


def twin(notation: str) -> str:
    """The no-dropout twin, short (the live view's header has little room): 'p = 0 twin', 'retain 1 twin'."""
    if check(notation) == DROP:
        return f"{text(0.0, notation)} twin"
    return f"{name(notation)} {shown(0.0, notation):g} twin"


def change_text(p: float, notation: str) -> str:
    """The note where p was changed: 'p → 0.2' or 'retain → 0.8'."""
    return f"{name(notation)} → {shown(p, notation):g}"


def translation(p: float, input_p: float, notation: str) -> str:
    """A sentence for text written with dropviz's p (the lesson's): what its numbers are in this notation."""
    if check(notation) == DROP:
        return ""
    inputs = f"; input p = {input_p:g} is {text(input_p, notation, 'input')}" if input_p > 0 else ""
    return (f"In the 2014 paper's notation, where p is the probability of retaining a unit: this text's p = {p:g} "
            f"is {text(p, notation)}{inputs}.")
