"""The live view (iteration counter, network diagram, loss curves) as a Streamlit Components v2 element.

Its JavaScript (live_view.js, beside this file) ships with the app: no npm build, nothing from a CDN.
It draws only what dropviz/live/payload.py sends. Registered once per process here, in an imported
module, not in the re-executed page script.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

JS = (Path(__file__).resolve().parent / "live_view.js").read_text(encoding="utf-8")
# The panes get their size here; the JavaScript lays the SVGs out in that many CSS pixels, with text
# in CSS pixels, so text keeps its size when the pane is small and grows with browser zoom.
CSS = """
.dropviz-live { display: flex; flex-wrap: wrap; gap: 0.8rem; align-items: flex-start; }
.dropviz-live .diagram { flex: 3 1 560px; min-width: 0; }
.dropviz-live .curves { flex: 2 1 380px; min-width: 0; }
.dropviz-live.present { display: grid; grid-template-columns: minmax(0, 1fr); row-gap: 4px; }
.dropviz-live.present .diagram { grid-row: 1; height: 100%; overflow: hidden; }
.dropviz-live.present .curves { grid-row: 2; height: 100%; overflow: hidden; }
svg { display: block; max-width: 100%; height: auto; }
"""

_mount = st.components.v2.component("dropviz.live_view", js=JS, css=CSS)


def live_view(payload: dict, key: str = "live_view", on_ready=None, on_pull=None, on_pause=None):
    """Show frames; the element keeps its identity (key) so the browser updates it in place.

    With payload["request_panels"], the browser calls on_ready once its first frame is drawn. With
    payload["pull"], the browser asks for each next frame while playing: on_pull runs (as a widget
    callback) for each request; the element's state holds the request's number under "pull".
    """
    callbacks = {}
    if on_ready is not None:
        callbacks["on_ready_change"] = on_ready
    if on_pull is not None:
        callbacks["on_pull_change"] = on_pull
    if on_pause is not None:  # the tab was hidden while playing
        callbacks["on_pause_change"] = on_pause
    return _mount(key=key, data=payload, height="content", **callbacks)
