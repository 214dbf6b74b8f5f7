"""The presentation keys: one table, the help that lists it, and the stage's handling of each action."""
from pathlib import Path

import pytest

from dropviz import Config
from dropviz.live.keys import HELP, KEYS, P_STEP, key_help
from dropviz.live.page_state import CONTROLS, PANELS, view_from_query, view_query

ROOT = Path(__file__).resolve().parent.parent


def test_one_key_table():
    assert KEYS[" "] == "play_pause" and KEYS["."] == KEYS["ArrowRight"] == "step"
    assert (KEYS["ArrowUp"], KEYS["ArrowDown"], KEYS["t"]) == ("p_up", "p_down", "test_time")
    assert (KEYS["PageDown"], KEYS["PageUp"]) == ("next", "prev")
    assert P_STEP == 0.05


def test_key_help_lists_only_the_actions_a_page_handles():
    everything = key_help()
    assert all(what in everything for _, what in HELP)
    live = key_help(("play_pause", "step", "p_up", "p_down", "test_time"))
    assert "Space" in live and "p ± 0.05" in live and "lesson" not in live
    assert "Step" not in key_help(("play_pause",))


def test_the_keys_javascript_has_no_key_names_and_leaves_text_fields_and_sliders_alone():
    js = (ROOT / "dropviz" / "live" / "keys.js").read_text()
    assert "\"ArrowUp\"" not in js and "\"PageDown\"" not in js  # the table is in Python
    assert "TEXTAREA" in js and 'role="slider"' in js and "dropviz-key" in js


def test_stage_clamps_p_to_the_fields_range():
    from app_pages.stage import clamp_p
    assert clamp_p(0.95 + P_STEP) == 0.95 and clamp_p(-P_STEP) == 0.0 and clamp_p(0.5 + P_STEP) == 0.55


def test_view_parameters_round_trip():
    assert view_from_query({}) == (False, "boundary", frozenset(), [])
    present, panel, hidden, warnings = view_from_query({"present": "1", "panel": "gradient", "hide": "speed,mode"})
    assert (present, panel, hidden, warnings) == (True, "gradient", frozenset({"speed", "mode"}), [])
    assert view_query(present, panel, hidden) == {"present": "1", "panel": "gradient", "hide": "mode,speed"}
    assert view_query(False, "boundary", frozenset()) == {}
    assert set(PANELS) == {"boundary", "rescale", "gradient"} and "input_p" in CONTROLS


def test_bad_view_parameters_give_one_sentence_each():
    _, _, hidden, warnings = view_from_query({"hide": "mode, warp ,x", "present": "yes please", "panel": "3d"})
    assert hidden == frozenset({"mode"}) and len(warnings) == 3
    hide = next(w for w in warnings if w.startswith("hide="))
    assert "'warp'" in hide and "'x'" in hide and ", ".join(CONTROLS) in hide
    assert any(w.startswith("present='yes please'") for w in warnings)
    assert any(w.startswith("panel='3d'") and "boundary, rescale, gradient" in w for w in warnings)


def test_presses_merged_by_streamlit_all_count():
    from dropviz.live.keys import MAX_TIMES, presses
    seen = {}
    assert presses("step#a#1", seen) == ("step", 1)
    assert presses("step#a#4", seen) == ("step", 3)  # presses 2, 3 and 4 arrived as one trigger
    assert presses("step#a#4", seen) == ("step", 0)  # the same trigger fired again: already done
    assert presses("p_up#a#1", seen) == ("p_up", 1)  # each key counts its own presses
    assert presses("step#b#1", seen) == ("step", 1)  # a new element (another page) counts from 1 again
    assert presses("step#a#500", seen) == ("step", MAX_TIMES)
    assert presses("step", seen) == ("step", 0)


@pytest.mark.parametrize("action, times, steps, playing, p", [
    ("step", 3, 3, False, 0.5), ("play_pause", 2, 0, False, 0.5), ("play_pause", 3, 0, True, 0.5),
    ("p_up", 3, 0, False, 0.65), ("p_down", 2, 0, False, 0.4)])
def test_a_key_pressed_several_times_acts_that_many_times(action, times, steps, playing, p):
    from app_pages import stage
    from dropviz.live import LivePage, LiveSession
    state = LivePage(LiveSession(Config(width=8)))
    stage.on_key(state, action, None, times)  # outside a page st.rerun does nothing
    assert state.live.step_count == steps and state.live.playing == playing and state.live.cfg.p == pytest.approx(p)
    state.live.pause()


ECHOES = [("w_p", "p_up", 0.5, 0.55), ("w_test_time", "test_time", False, True)]


@pytest.mark.parametrize("key, action, before, after", ECHOES)
def test_a_key_press_outlives_the_browser_sending_the_old_value_back(key, action, before, after, monkeypatch):
    """A busy browser draws the value a key gave a widget seconds late, and its requests meanwhile carry the
    old value back (seen in Chromium: p went back to 0.5 2.4 s after ↑). That echo is undone for
    ECHO_SECONDS, and each runs the whole page (at most once a second), so the browser is sent the widget again;
    any other value, or the old one later, is the user's own change."""
    import streamlit as st

    from app_pages import stage
    from dropviz.live import LivePage, LiveSession
    state = LivePage(LiveSession(Config(width=8)))
    now = [1000.0]
    monkeypatch.setattr(stage.time, "monotonic", lambda: now[0])

    def changed_in_browser(value):  # the widget's on_change, as a request carrying `value` runs it
        st.session_state[key] = value
        if key == "w_p":
            stage.on_widget(state, "p")
        else:
            stage.undo_echoes(state, key)

    st.session_state[key] = before
    stage.on_key(state, action, None, 1)
    assert st.session_state[key] == after
    reruns = []
    monkeypatch.setattr(stage, "rerun_page", lambda: reruns.append("page"))
    for _ in range(3):  # requests sent before the browser drew the new value
        now[0] += 2.0
        changed_in_browser(before)
        assert st.session_state[key] == after and state.live.cfg.p == pytest.approx(0.55 if key == "w_p" else 0.5)
    assert reruns == ["page"] * 3  # each echo (1 s apart or more) runs the page: the widget is sent again
    now[0] += stage.ECHO_SECONDS - 1  # echoes keep the watch going: 15 s after the key press, still an echo
    changed_in_browser(before)
    assert st.session_state[key] == after
    now[0] += stage.ECHO_SECONDS
    changed_in_browser(before)  # by hand, later
    assert st.session_state[key] == before and state.live.cfg.p == pytest.approx(0.5)
    if key == "w_p":  # another value by hand counts at once, even within the window
        stage.on_key(state, action, None, 1)
        changed_in_browser(0.7)
        assert state.live.cfg.p == pytest.approx(0.7)
