"""Presentation keys (Space, arrows, t, PageDown/PageUp) as an invisible Streamlit Components v2 element.

The key map is the one table of which key does what; the page's callback gets the action's name. In the
browser each press is also a DOM event "dropviz-key" ({detail: {action}}), so the live view can stop or
step at once instead of waiting for Python. Keys are ignored while focus is in a text field.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

# key (as the browser's KeyboardEvent.key names it) -> action; shown in the page's key help
KEYS: dict[str, str] = {
    " ": "play_pause",
    ".": "step",
    "ArrowRight": "step",
    "ArrowUp": "p_up",
    "ArrowDown": "p_down",
    "t": "test_time",
    "PageDown": "next",
    "PageUp": "prev",
}
HELP: tuple[tuple[str, str], ...] = (  # what the key help lists, in order
    ("Space", "Play / Pause"),
    (". or →", "Step +1"),
    ("↑ / ↓", "p ± 0.05"),
    ("t", "test time on / off"),
    ("PageDown / PageUp", "next / previous lesson step"),
)
P_STEP = 0.05  # what ↑ and ↓ change p by
SEEN_KEY = "_keys_seen"  # session state: per keyboard and action, the last press count Python acted on
MAX_TIMES = 20  # presses acted on at once, at most

_mount = st.components.v2.component("dropviz.keys", js=(Path(__file__).resolve().parent / "keys.js").read_text(
    encoding="utf-8"))


def keyboard(on_action: Callable[[str, int], None], key: str = "keys", actions: tuple[str, ...] | None = None,
             viewport: bool = False) -> None:
    """Listen for the presentation keys; `on_action(name, times)` runs (as a widget callback) for the presses.

    times: presses of that key since the last call, usually 1. Streamlit merges a widget's triggers that
    arrive while a rerun is pending (1.67: script_requests._coalesce_replay_trigger_states), so three quick
    presses of → may reach Python as one; each trigger carries the key's own press count, and the callback
    gets the difference, so every press counts.

    actions: the actions this page handles (default: all); the other keys keep their browser meaning.
    viewport: also report the window's size in CSS pixels, [width, height], under
    st.session_state[key]["viewport"] (once, and again after a resize).
    """
    keys = {k: a for k, a in KEYS.items() if actions is None or a in actions}

    def callback() -> None:
        value = st.session_state[key].get("action") if key in st.session_state else None
        if value:
            action, times = presses(str(value), st.session_state.setdefault(SEEN_KEY, {}).setdefault(key, {}))
            if times:
                on_action(action, times)

    _mount(key=key, data={"keys": keys, "viewport": viewport}, height=0, on_action_change=callback,
           on_viewport_change=lambda: None)


def presses(value: str, seen: dict[str, int]) -> tuple[str, int]:
    """The action of a trigger "action#mount#count[@shown]" and how many presses it stands for: its count less the
    last one acted on (`seen`, per mount of the element and action, updated here). 0 for a trigger already
    acted on: a trigger of an element that a fragment-only rerun did not draw again fires again with the
    next request, and must not step twice."""
    action, _, rest = value.partition("#")
    mount, _, count = rest.rpartition("#")
    count = count.partition("@")[0]
    key = f"{mount}#{action}"
    last = seen.get(key, 0)
    try:
        count = int(count)
    except ValueError:
        return action, 0
    seen[key] = max(last, count)
    return action, min(MAX_TIMES, count - last) if count > last else 0


def shown_step(value) -> int | None:
    """The iteration a live view showed when the key press of trigger `value` paused it (the "@shown" that keys.js
    adds), or None."""
    _, at, shown = str(value or "").rpartition("@")
    return int(shown) if at and shown.isdigit() else None


def key_help(actions: tuple[str, ...] | None = None) -> str:
    """One line of plain text: 'Keys: Space Play / Pause · . or → Step +1 · ...'."""
    shown = [(k, what) for k, what in HELP if actions is None or any(
        a in actions for a in _ACTIONS_OF_HELP[k])]
    return "Keys: " + " · ".join(f"{k}: {what}" for k, what in shown)


_ACTIONS_OF_HELP = {"Space": ("play_pause",), ". or →": ("step",), "↑ / ↓": ("p_up", "p_down"),
                    "t": ("test_time",), "PageDown / PageUp": ("next", "prev")}
