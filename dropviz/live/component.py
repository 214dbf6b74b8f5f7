"""The live view (iteration counter, network diagram, loss curves) as a Streamlit Components v2 element.

Its JavaScript (live_view.js, beside this file) ships with the app: no npm build, nothing from a CDN.
It draws only what dropviz/live/payload.py sends. Registered once per process here, in an imported
module, not in the re-executed page script.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from .payload import payload_text
from .view_css import CSS

JS = (Path(__file__).resolve().parent / "live_view.js").read_text(encoding="utf-8")

_mount = st.components.v2.component("dropviz.live_view", js=JS, css=CSS)


def live_view(payload: dict, key: str = "live_view", on_ready=None, on_pull=None, on_pause=None, on_hold=None,
              frame_texts: list[str] | None = None):
    """Show frames; the element keeps its identity (key) so the browser updates it in place. The payload goes as
    JSON text (payload_text; frame_texts: its frames already encoded).

    With payload["request_panels"], the browser calls on_ready once its first frame is drawn. With
    payload["pull"], the browser asks for each next frame while playing: on_pull runs (as a widget
    callback) for each request; the element's state holds {n: the request's number, panels: whether the page's
    panels are in the window} under "pull". on_pause: the
    browser paused at the frame on screen ({step, n, then} under "pause"); on_hold: a setting changed while it
    showed an earlier frame than the run's ({step, n} under "hold").
    """
    callbacks = {}
    if on_ready is not None:
        callbacks["on_ready_change"] = on_ready
    if on_pull is not None:
        callbacks["on_pull_change"] = on_pull
    if on_pause is not None:
        callbacks["on_pause_change"] = on_pause
    if on_hold is not None:
        callbacks["on_hold_change"] = on_hold
    return _mount(key=key, data=payload_text(payload, frame_texts), height="content", **callbacks)
