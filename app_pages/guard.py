"""A page's last guard: visitors get a sentence, never a traceback."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st


def run_page(main: Callable[..., None], *args) -> None:
    """main(*args); an exception it lets through is said in one sentence, with how to start again."""
    try:
        main(*args)
    except Exception as err:  # noqa: BLE001 - visitors get a sentence, never a traceback
        st.error(f"Something went wrong: {type(err).__name__}: {err}. Reload the page to start again.")
