"""The live view, apart from its page: the session, the page state, the payload the browser draws.

session.py (runs, twin, ghosts, speed), page_state.py (the page's state in one object) and payload.py
(what the browser draws) are pure Python and import no Streamlit, so this package imports none either;
only component.py, the Streamlit component with its JavaScript (live_view.js), does.
"""
from .page_state import PAGE_KEY, LivePage
from .payload import live_payload
from .session import LiveSession

__all__ = ["LiveSession", "LivePage", "PAGE_KEY", "live_payload"]
