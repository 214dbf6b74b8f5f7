"""The Variants view (counter, masks, rescaling, curves against the twin) as a Streamlit Components v2 element.

Its JavaScript (view.js, beside this file) ships with the app: no build, nothing from a CDN. It draws only
what dropviz/variants/payload.py sends. Registered once per process here, in an imported module, not in the
re-executed page script. The engine modules of dropviz.variants do not import this one.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

JS = (Path(__file__).resolve().parent / "view.js").read_text(encoding="utf-8")
# Each SVG is laid out in its pane's CSS pixels, text in CSS pixels: readable however wide the pane.
CSS = """
.dropviz-variants .row { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.dropviz-variants .masks { flex: 3 1 520px; min-width: 0; }
.dropviz-variants .side { flex: 2 1 380px; min-width: 0; }
svg { display: block; max-width: 100%; height: auto; }
"""

_mount = st.components.v2.component("dropviz.variants_view", js=JS, css=CSS)


def variants_view(payload: dict, key: str = "v_view", on_pull=None, on_pause=None):
    """Show frames; the element keeps its identity (key), so the browser updates it in place. With
    payload["pull"], the browser asks for the next frames while playing: on_pull runs (as a widget callback)
    for each request, whose number is in the element's state under "pull". When Pause is pressed, on_pause
    runs with the iteration on screen under "pause"."""
    callbacks = {} if on_pull is None else {"on_pull_change": on_pull}
    if on_pause is not None:
        callbacks["on_pause_change"] = on_pause
    return _mount(key=key, data=payload, height="content", **callbacks)
