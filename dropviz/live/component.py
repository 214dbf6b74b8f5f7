"""The live view (iteration counter, network diagram, loss curves) as a Streamlit Components v2 element.

Its JavaScript (live_view.js, beside this file) ships with the app: no npm build, nothing from a CDN.
It draws only what dropviz/live/payload.py sends. Registered once per process here, in an imported
module, not in the re-executed page script. The only module of dropviz that imports Streamlit.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

JS = (Path(__file__).resolve().parent / "live_view.js").read_text(encoding="utf-8")
CSS = """
.dropviz-live { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.dropviz-live .diagram { flex: 3 1 560px; min-width: 0; }
.dropviz-live .curves { flex: 2 1 380px; min-width: 0; }
svg { display: block; max-height: 72vh; }  /* small screens: the whole diagram stays in view */
"""

_mount = st.components.v2.component("dropviz.live_view", js=JS, css=CSS)


def live_view(payload: dict, key: str = "live_view", on_ready=None):
    """Show frames; the element keeps its identity (key) so the browser updates it in place.

    With payload["request_panels"], the browser calls on_ready once its first frame is drawn.
    """
    if on_ready is None:
        return _mount(key=key, data=payload, height="content")
    return _mount(key=key, data=payload, height="content", on_ready_change=on_ready)
