"""The notation p is shown in on every page (?notation=drop|retain, dropviz.notation): from the URL when it
has one, else as this browser session last showed it, kept across pages in st.session_state[SHARED_NOTATION]."""
from __future__ import annotations

import streamlit as st

from dropviz.live.page_state import NOTATION, notation_from_query, notation_query

SHARED_NOTATION = "notation"


def current() -> tuple[str, list[str]]:
    """This page's notation and, for a bad ?notation=, one warning sentence (the page keeps its notation)."""
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    notation, warnings = notation_from_query(params, default=st.session_state.get(SHARED_NOTATION, NOTATION.default))
    st.session_state[SHARED_NOTATION] = notation
    return notation, warnings


def write_url(notation: str) -> None:
    """Keep the page's URL naming its notation (only when it is not the default), other parameters untouched."""
    want = notation_query(notation)
    if want.get("notation") != st.query_params.get("notation"):
        if want:
            st.query_params["notation"] = want["notation"]
        else:
            del st.query_params["notation"]
