"""The live view, apart from its page: the session and the payload the browser draws.

session.py (runs, twin, ghosts, speed) and payload.py (what the browser draws) are pure Python and import
no Streamlit, so this package imports none either; only component.py, the Streamlit component with its
JavaScript (live_view.js), does.
"""
from .payload import live_payload
from .session import LiveSession

__all__ = ["LiveSession", "live_payload"]
