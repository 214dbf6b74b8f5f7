"""The Variants page's settings, and how a URL restores them: ?family=conv&variant=block&p=0.3&block=3.

p, mode and seed are checked by their Config Fields (same ranges and words as everywhere); family, variant
and block size here. A bad value is named in one sentence and its default kept.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..config import FIELD, shown
from .nets import FAMILIES

BLOCK_SIZES = (1, 8)  # a block is at most the 8 x 8 feature map


@dataclass(frozen=True)
class Settings:
    family: str = "conv"
    variant: str = "channel"
    p: float = 0.3
    mode: str = "inverted"
    block: int = 3
    seed: int = 0

    def query(self) -> dict:
        return {"family": self.family, "variant": self.variant, "p": f"{self.p:g}", "mode": self.mode,
                "block": str(self.block), "seed": str(self.seed)}


def _block(text: str) -> tuple[Any, str]:
    lo, hi = BLOCK_SIZES
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not value.is_integer() or not lo <= value <= hi:
        return text, f"is not valid: expected an integer from {lo} to {hi}"
    return int(value), ""


def from_query(params: Mapping[str, Any], base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from URL parameters (a list of values: the last is used); warnings for the bad ones."""
    s, warnings = base or Settings(), []

    def last(name):
        raw = params[name]
        return str(raw[-1] if isinstance(raw, (list, tuple)) and raw else raw).strip()

    values: dict[str, Any] = {}
    if "family" in params:
        text = last("family")
        if text in FAMILIES:
            values["family"] = text
        else:
            warnings.append(f"family={shown(text)} is not valid: expected one of {', '.join(FAMILIES)}")
    family = values.get("family", s.family)
    if "variant" in params:
        text = last("variant")
        if text in FAMILIES[family]:
            values["variant"] = text
        else:
            warnings.append(f"variant={shown(text)} is not valid for {family}: expected one of "
                            f"{', '.join(FAMILIES[family])}")
    if s.variant not in FAMILIES[family] and "variant" not in values:
        values["variant"] = FAMILIES[family][1]
    for name in ("p", "mode", "seed"):
        if name in params:
            value, problem = FIELD[name].read(last(name))
            if problem:
                warnings.append(f"{name}={shown(value)} {problem}")
            else:
                values[name] = value
    if "block" in params:
        value, problem = _block(last("block"))
        if problem:
            warnings.append(f"block={shown(value)} {problem}")
        else:
            values["block"] = value
    return replace(s, **values), warnings
