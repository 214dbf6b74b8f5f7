"""The stage: the live view with its playback, a compact top bar of controls and ONE detail panel, sized to
fit one 1280x720 projector screen. The live page's presenter view (?present=1) and the Lesson page draw it.

Contract (kept stable for app_pages/lesson.py):

    stage(state, panel, *, hidden=frozenset(), extra_keys=None, try_it=None, share=1.0) -> str

- state: the page's LivePage (dropviz.live.LivePage). stage reads and changes only this object (its
  LiveSession `state.live`, its figure cache and its pull counter), never st.session_state[PAGE_KEY].
- panel: the detail panel to show, one of PANELS ("boundary": decision boundary, or digits for the
  digits data set; "rescale"; "gradient"). Unless "panel" is hidden, the top bar lets the presenter
  choose another; the choice lives in st.session_state[PANEL_KEY] and stage returns the panel shown.
  Call stage with the same `panel` on every run; a new value (e.g. the next lesson step) replaces the
  presenter's choice.
- hidden: names from CONTROLS whose widgets are left out of the top bar; their keys are off too.
- try_it: a follower's "Try it yourself" (state.follow: the page follows a class, read-only).
- extra_keys: called as extra_keys(action) for key presses stage does not handle ("next" and "prev":
  PageDown and PageUp), as a widget callback (before the rerun it triggers; no st.rerun needed). Without
  it those keys keep their browser meaning.
- share: the part of the page's width the stage is drawn in (the Lesson page's: 3/4, beside the step), so the
  detail panel's titles wrap to the width it gets and a narrow stage gives the loss curves more height. The
  class code (state.broadcast) is in the key help under the panel only at full width: beside the step it would
  wrap off a 1280x720 screen, so the caller shows it.

Widgets it makes, by key: play, step, reset, w_p, w_input_p, w_mode, w_speed, w_test_time, w_panel,
w_layer_<depth>, stage_keys (the keyboard) and live_view; fragments: "controls" (the top bar), "stage_live",
"stage_panel". The caller must not make widgets with these keys. p, input_p, mode and speed apply at once to state.live.
Test time (st.session_state["w_test_time"]) is the one setting kept outside `state`.

While playing, the browser pulls frames (dropviz/live/live_view.js): while it draws the last frames it
has, it asks; the "stage_live" fragment, which holds only the live view, runs one LiveSession.pull()
(about two seconds of frames, computed now) and sends them all, and the browser draws every one in order.
Pause (button or Space) stops the asking in the browser at once and draws what it already has, quickly,
so nothing is computed ahead and thrown away: the iteration on screen is the engine's, and Step and
every panel continue from it.

Play, Pause, Step and the live settings rerun only the fragments they change (st.rerun with fragment keys,
from their callbacks), not the whole page: a full run redraws every widget and Plotly panel, which held the
next frame back by 0.2-0.5 s (measured). While playing, the detail panel is redrawn with a pull at most
every PANELS_EVERY seconds, so the timer lives in the browser's pulls and a paused page has none; it is built
just before that pull computes ahead, so it shows the frame about to be on screen (LivePage.draw_ahead).
"""
from __future__ import annotations

import functools
import hashlib
import secrets
import time
from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dropviz import figures
from dropviz import notation as notation_rule
from dropviz.config import FIELD
from dropviz.figures.download import plot_config
from dropviz.figures.style import fit_title
from dropviz.live import LivePage, classroom, live_payload, own_data
from dropviz.live.component import live_view
from dropviz.live.keys import P_STEP, key_help, keyboard, shown_step
from dropviz.live.page_state import CONTROLS, DEFAULT_PANEL
from dropviz.live.payload import LOOK, frame_text
from dropviz.live.session import SPEED_NAMES

# The top bar's controls, by the names hide= takes (CONTROLS, in dropviz/live/page_state.py):
# play, step, reset, p, input_p, test_time, mode, panel, speed. The panels, by name, as the panel choice says them:
PANELS: dict[str, str] = {"boundary": "decision boundary", "rescale": "rescaling", "gradient": "gradients"}
__all__ = ["CONTROLS", "DEFAULT_PANEL", "PANELS", "stage"]
PANEL_KEY = "w_panel"
TEST_TIME_KEY = "w_test_time"
KEYS_KEY = "stage_keys"
CONTROLS_FRAGMENT, LIVE_FRAGMENT, PANEL_FRAGMENT = "controls", "stage_live", "stage_panel"
PANEL_BOXES = {True: "stage_panel_box", False: "detail_panels"}  # the panels' container: the stage's, the full page's
# Requests for frames the browser may have unanswered. 1: the next frame is asked for once the last one is
# drawn. With 2 (the next computed while the last travels to the browser, ~40 ms through Streamlit under
# load) Streamlit's front end drew only the newer of two frames that came close together (measured): a
# frame computed and never shown, which Pause and Step must never have.
PULL_DEPTH = 1
PANELS_EVERY = 3.0  # seconds between redraws of the detail panel while playing at frame speeds
SLOW_MOTION = 0.5   # seconds per iteration from which the panel follows every frame
BASE = (1280, 720)  # the projector the stage is laid out for; larger windows scale the panel's text
# The stage below the top bar: at the left (LEFT of the width) the diagram over the live loss curves (their
# share of the height: CURVES); at the right the detail panel over its full height, with the key help.
# Heights in CSS, so the browser lays them out at once; the Plotly panel gets the same height in px from the
# reported window size.
TOP_BAR = 92        # px above the stage: the top bar and the page's padding
MIN_STAGE = 520     # px: a smaller window (or a zoomed one) scrolls rather than squeezing the text
CURVES = 0.38
LEFT = 0.53
MAX_NEURONS = 10  # drawn per layer: bigger neurons on the smaller stage
HELP = 52           # px of the key help under the panel: two lines at 1280x720, the class code's the larger
# Beside the lesson's step the stage is narrower: the curves' subtitle and legend wrap to more lines, so they get
# more of the height (the diagram keeps enough for its neurons; measured at 1280x720 in Chromium)
CURVES_NARROW = 0.44
PAGE_PAD, GAP = 64, 16  # px: the page's padding left and right (STAGE_CSS), the columns' gap ("small": 1rem)
STAGE_HEIGHT = f"max({MIN_STAGE}px, calc(100vh - {TOP_BAR}px))"
LAYOUT = {"height": STAGE_HEIGHT, "rows": f"1fr {CURVES:.0%}"}
LAYOUT_NARROW = {"height": STAGE_HEIGHT, "rows": f"1fr {CURVES_NARROW:.0%}"}
SHARE_KEY = "_stage_share"
KEY_ACTIONS = {"play_pause": "play", "step": "step", "p_up": "p", "p_down": "p", "test_time": "test_time"}

# Scoped to pages that draw the stage (the top bar's container class): Streamlit's running indicator,
# Stop button, toolbar and menu are hidden, the page's padding shrinks so everything fits one screen.
STAGE_CSS = """<style>
body:has(.st-key-stage_bar) [data-testid="stStatusWidget"],
body:has(.st-key-stage_bar) [data-testid="stToolbarActions"],
body:has(.st-key-stage_bar) [data-testid="stMainMenu"],
body:has(.st-key-stage_bar) [data-testid="stDecoration"],
body:has(.st-key-stage_bar) [data-testid="stAppDeployButton"] { display: none !important; }
body:has(.st-key-stage_bar) header[data-testid="stHeader"] { background: transparent; height: 0; }
/* the header stays a transparent strip over the top bar (its height is Streamlit's own): clicks go through it to
   Play and the sliders; its one control left, the button that opens the sidebar (the other pages), still takes them */
body:has(.st-key-stage_bar) header[data-testid="stHeader"],
body:has(.st-key-stage_bar) header[data-testid="stHeader"] * { pointer-events: none; }
body:has(.st-key-stage_bar) header [data-testid="stExpandSidebarButton"] { pointer-events: auto; }
body:has(.st-key-stage_bar) .stMainBlockContainer { padding: 0.3rem 0.8rem 0 3.2rem; max-width: none; }
body:has(.st-key-stage_bar) .stMain [data-testid="stVerticalBlock"] { gap: 0.25rem; }
.st-key-PANEL_BOX { height: PANEL_H; flex: 0 0 auto; overflow: hidden; }  /* its own height, not its content's */
.st-key-stage_bar { gap: 0.5rem; align-items: flex-end; flex-wrap: nowrap; }
.st-key-stage_bar [data-testid="stWidgetLabel"] p { font-size: 0.85rem; }
.st-key-stage_bar .stSlider { min-width: 7rem; }
.st-key-stage_bar .st-key-w_p { min-width: 10.5rem; }
.st-key-stage_bar .stButton button { padding: 0.25rem 0.6rem; }
.st-key-stage_help p { font-size: 0.85rem; margin: 0; line-height: 1.2; }
.st-key-stage_help strong { font-size: 1.35rem; color: #1b1b1b; }
/* a caption is faded (opacity); the class code must read from the back row: the caption's text is greyed by colour
   instead, and the code stays black */
.st-key-stage_help [data-testid="stCaptionContainer"], .st-key-lesson_code [data-testid="stCaptionContainer"] {
  opacity: 1 !important; color: #4a4a4a !important; }
.st-key-lesson_code strong { font-size: 1.35rem; color: #1b1b1b; }
</style>"""


STAGE_CSS = STAGE_CSS.replace("PANEL_H", STAGE_HEIGHT).replace("PANEL_BOX", PANEL_BOXES[True])


# This server process, and this browser session, as the live view tells them apart: a reload (a new
# session) or a restart (a new process) that starts the run again is said, not silently shown as 0.
BOOT = secrets.token_hex(4)


def session_token() -> str:
    ctx = get_script_run_ctx()
    session = ctx.session_id if ctx is not None else ""
    return hashlib.sha256(f"{BOOT}:{session}".encode()).hexdigest()[:12]


def clamp_p(value: float) -> float:
    f = FIELD["p"]
    return round(min(f.hi, max(f.lo, value)), 2)


def viewport() -> tuple[int, int]:
    """The browser window's size in CSS pixels, as the keyboard element reports it (default: 1280x720)."""
    value = st.session_state.get(KEYS_KEY)
    size = value.get("viewport") if value is not None else None
    try:
        w, h = (int(v) for v in size)
        return (w, h) if w > 0 and h > 0 else BASE
    except (TypeError, ValueError):
        return BASE


def share() -> float:
    return float(st.session_state.get(SHARE_KEY, 1.0))


def layout() -> dict:
    """The live view's size and its diagram/curves split (the payload's "layout")."""
    return LAYOUT if share() >= 1 else LAYOUT_NARROW


def panel_width(window: int, share: float = 1.0) -> float:
    """The detail panel's width in CSS px in a window `window` px wide, the stage drawn in `share` of the page."""
    stage_width = share * (window - PAGE_PAD + GAP) - GAP
    return max(300.0, (stage_width - GAP) * (1 - LEFT) - 8)  # 8: the chart's own inset (measured)


# ---------------------------------------------------------------------------- actions
def fragment(state: LivePage, key: str, body: Callable[..., None], *args, every: float | None = None) -> None:
    """Run body(*args) as the fragment `key` (errors said in a sentence: guarded); rerun() may name it.
    every: seconds between its own reruns (a follower's timer), None for none."""
    state.fragments.add(key)
    st.fragment(key=key, run_every=every)(guarded(state, body))(*args)


def rerun(state: LivePage, *parts: str) -> None:
    """From a widget callback: rerun only the fragments `parts`, or the whole page if one is not on it."""
    if parts and all(part in state.fragments for part in parts):
        st.rerun(list(parts))
    st.rerun()


def rerun_page() -> None:
    """A callback whose change needs the whole page (a widget inside a fragment reruns only that)."""
    st.rerun()


def after_action(state: LivePage) -> None:
    """Play, Pause, Step or a live setting: the controls, the live view and, unless playing, the detail
    panel are redrawn."""
    if state.live.diverged or state.live.busy:
        rerun_page()  # the message (and the disabled buttons)
    rerun(state, CONTROLS_FRAGMENT, LIVE_FRAGMENT, *(() if state.live.playing else (PANEL_FRAGMENT,)))


def _apply(state: LivePage, **changes) -> None:
    live = state.live
    live.apply(live.cfg.replace(**changes))


def on_play(state: LivePage) -> None:
    state.live.toggle()
    after_action(state)


def on_step(state: LivePage) -> None:
    state.live.step_once()
    after_action(state)


def on_reset(state: LivePage) -> None:
    state.live.reset()
    rerun_page()


ECHO_SECONDS = 10.0  # this long after a key set a widget (or its last echo), its old value is taken for an echo
REDRAW_SECONDS = 1.0  # while echoes come, the whole page runs again at most this often


def set_widget(state: LivePage, key: str, value) -> None:
    """A key press gives the widget `key` a new value. Every request to Streamlit carries every widget's
    value as the browser has it, and a busy browser draws the new value seconds late (measured: 2.4 s after
    the run that set it, and sometimes not from that run at all), so requests sent meanwhile carry the old
    value back: undo_echoes() undoes those. (Which request was sent after the browser drew the value cannot
    be told: a frame request's trigger runs in the same run as the key's when both come together.)"""
    now = time.monotonic()
    state.echoes[key] = (st.session_state.get(key), value, now + ECHO_SECONDS, now + REDRAW_SECONDS)
    st.session_state[key] = value


def undo_echoes(state: LivePage, *keys: str) -> bool:
    """In a widget's on_change: True if, within ECHO_SECONDS of a key press or of the last echo, one of the
    widgets `keys` came back with the value that key press replaced. The widget is set back to the key's value,
    and the whole page runs again (at most every REDRAW_SECONDS): a frame request's own rerun does not draw the
    widget, and a browser that has not drawn the new value keeps sending the old one. Any other change is the
    user's."""
    echoed, redraw = False, False
    now = time.monotonic()
    for key in keys:
        old, new, until, redraw_at = state.echoes.pop(key, (None, None, 0.0, 0.0))
        if now < until and st.session_state.get(key) == old:
            due = now >= redraw_at
            echoed, redraw = True, redraw or due
            # the watch lasts while the echoes come: a browser that never draws the value must not win later
            state.echoes[key] = (old, new, now + ECHO_SECONDS, now + REDRAW_SECONDS if due else redraw_at)
            st.session_state[key] = new
    if redraw:
        rerun_page()
    return echoed


def on_test_time(state: LivePage) -> None:
    if not undo_echoes(state, TEST_TIME_KEY):
        rerun_page()


def on_widget(state: LivePage, name: str) -> None:
    if undo_echoes(state, f"w_{name}"):
        return
    value = st.session_state[f"w_{name}"]
    if name == "speed":
        state.live.set_speed(value)
    else:
        _apply(state, **{name: value})
        state.rush = state.live.playing
    after_action(state)


def on_key(state: LivePage, action: str, extra_keys: Callable[[str], None] | None, times: int = 1) -> None:
    """A presentation key (dropviz/live/keys.py), pressed `times` times: the stage's own actions, the rest to
    extra_keys (once per press).

    ↑/↓ run the whole page: a slider given a new value by a callback keeps its old one in the browser when
    only fragments rerun (Streamlit 1.67, seen in Chromium), and sends it back with the next rerun.
    """
    live = state.live
    shown = shown_step(st.session_state.get(KEYS_KEY, {}).get("action"))  # the frame the live view stopped on
    if action in ("play_pause", "step") and live.playing and shown is not None:
        live.pause_at(shown)
        times -= action == "play_pause"
    if action == "play_pause":
        if times % 2:
            live.toggle()
    elif action == "step":
        for _ in range(times):
            live.step_once()
    elif action in ("p_up", "p_down"):
        p = clamp_p(live.cfg.p + times * (P_STEP if action == "p_up" else -P_STEP))
        _apply(state, p=p)
        set_widget(state, "w_p", p)
        state.rush = live.playing
        rerun_page()
    elif action == "test_time":
        if times % 2:
            set_widget(state, TEST_TIME_KEY, not st.session_state.get(TEST_TIME_KEY, False))
        return
    else:
        if extra_keys is not None:
            for _ in range(times):
                extra_keys(action)
        return
    after_action(state)


def on_pause(state: LivePage) -> None:
    """The live view paused at the frame on screen (Pause or Step pressed while playing, or the tab hidden): the
    run goes back to that frame; then, for a Step, one iteration."""
    pause = _view_trigger("pause")
    state.live.pause_at(pause.get("step"))
    if pause.get("then") == "step":
        state.live.step_once()
    after_action(state)


def on_hold(state: LivePage) -> None:
    """A setting changed while playing, and the browser showed an earlier frame than the run's: the run goes back
    to the frame on screen, and the change applies from it (LiveSession.rewind); the browser draws nothing more
    until this is answered."""
    hold = _view_trigger("hold")
    state.live.rewind(hold.get("step"))
    if isinstance(hold.get("n"), int):
        state.held = max(state.held, hold["n"])


def _view_trigger(name: str) -> dict:
    """The live view's trigger `name` ({step, n, ...}), or {} for anything else."""
    value = st.session_state.get("live_view")
    trigger = value.get(name) if value is not None else None
    return trigger if isinstance(trigger, dict) else {}


def on_pull(state: LivePage) -> None:
    """The browser asks for the next frames while playing ({n: its request's number, panels: whether the page's
    Plotly panels are in its window}): compute them now (LiveSession.pull), and redraw the panels if they are due
    and in view. Panels below the fold (the full page at 1280x720) are not drawn while playing: they were a tenth
    of the server's time."""
    value = st.session_state.get("live_view")
    request = value.get("pull") if value is not None else None
    in_view = True
    if isinstance(request, dict):
        in_view, request = request.get("panels") is not False, request.get("n")
    try:
        state.pulled = max(state.pulled, int(request))
    except (TypeError, ValueError, OverflowError):
        return
    live = state.live
    before = live.diverged
    now = time.monotonic()
    every_frame = live.interval >= SLOW_MOTION or state.follow_frames  # the panel follows every pulled frame
    panels = live.playing and in_view and (every_frame or now - state.panels_at >= PANELS_EVERY)
    if panels and not every_frame:
        state.draw_ahead()  # the frame about to be on screen, not the last of the seconds computed now
    state.pulled_frames += live.pull()
    if live.diverged and not before:
        state.rerun_page = True  # the top bar and the message need the whole page
    if panels:
        state.panels_at = now  # slow motion: the panel follows every iteration; else every PANELS_EVERY s
        rerun(state, LIVE_FRAGMENT, PANEL_FRAGMENT)
    # else the trigger's own run is the live fragment's: an st.rerun here queued a second run, and the first one
    # ended early for it (bench/wire.py counted 2 script runs per request, one of them cut short)


# ---------------------------------------------------------------------------- drawing
def _sync_widgets(state: LivePage, panel: str) -> None:
    """Widgets show the session's settings (a key, the URL or another page may have changed them)."""
    cfg = state.live.cfg
    for name in ("p", "input_p", "mode"):
        if st.session_state.get(f"w_{name}") != getattr(cfg, name):
            st.session_state[f"w_{name}"] = getattr(cfg, name)
    if st.session_state.get("w_speed") != state.live.speed:
        st.session_state["w_speed"] = state.live.speed
    if st.session_state.get("_stage_panel_given") != panel or st.session_state.get(PANEL_KEY) not in PANELS:
        st.session_state[PANEL_KEY] = panel if panel in PANELS else DEFAULT_PANEL
        st.session_state["_stage_panel_given"] = panel


def p_slider(parent, name: str, notation: str, label: str, **kwargs):
    """The slider of a drop probability (name: p or input_p), key w_<name>: it always holds the drop
    probability the engine uses. In the paper's notation (dropviz.notation) it shows the retain probability
    1 - p, growing left to right."""
    f, key = FIELD[name], f"w_{name}"
    if notation == notation_rule.DROP:
        return parent.slider(label, min_value=f.lo, max_value=f.hi, step=P_STEP, key=key, **kwargs)
    values = notation_rule.slider_values(st.session_state.get(key, f.default), P_STEP, f.hi, notation)
    return parent.select_slider(label, values, key=key, format_func=lambda p: f"{notation_rule.shown(p, notation):g}",
                                **kwargs)


def top_bar(state: LivePage, hidden: frozenset[str], try_it: Callable[[], None] | None = None) -> None:
    live = state.live
    f_p, f_in = FIELD["p"], FIELD["input_p"]
    with st.container(key="stage_bar", horizontal=True, vertical_alignment="bottom"):
        if state.follow:
            st.markdown(f"**Following class {state.follow}**: the teacher's run, read-only. Pick your own panel.")
            st.button("Try it yourself", on_click=try_it, key="try_it", type="primary", width="content",
                      help="Your own run, from the teacher's current settings; the class goes on without you.")
        if "play" not in hidden:
            # no tooltips on the buttons: one stays open under the mouse after a click, over the iteration counter
            # (the key help under the panel names their keys)
            st.button("❚❚ Pause" if live.playing else "▶ Play", on_click=on_play, args=(state,), type="primary",
                      disabled=live.diverged, key="play")
        if "step" not in hidden:
            st.button("Step +1", on_click=on_step, args=(state,), disabled=live.diverged, key="step")
        if "reset" not in hidden:
            st.button("Reset", on_click=on_reset, args=(state,), key="reset")
        if "p" not in hidden:
            p_slider(st, "p", state.notation, notation_rule.short_title(state.notation), on_change=on_widget,
                     args=(state, "p"), help=f"{f_p.help}. Keys: ↑ / ↓")
        if "input_p" not in hidden:
            p_slider(st, "input_p", state.notation, notation_rule.short_title(state.notation, "input"),
                     on_change=on_widget, args=(state, "input_p"), help=f_in.help)
        if "test_time" not in hidden:
            st.toggle("test time", key=TEST_TIME_KEY, on_change=on_test_time, args=(state,),
                      help="The network as it runs at test time: nothing dropped. Key: t")
        if "mode" not in hidden:
            st.segmented_control("mode", FIELD["mode"].choices, key="w_mode", on_change=on_widget,
                                 args=(state, "mode"), help=FIELD["mode"].help)
        if "panel" not in hidden:
            digits = live.data.image_shape is not None
            st.selectbox("panel", list(PANELS), key=PANEL_KEY, width=190, on_change=rerun_page,
                         format_func=lambda n: "digits" if digits and n == "boundary" else PANELS[n])
        if "speed" not in hidden:
            st.selectbox("speed", SPEED_NAMES, key="w_speed", on_change=on_widget, args=(state, "speed"),
                         width=215)


def guarded(state: LivePage, body: Callable[..., None]) -> Callable[..., None]:
    """body, for a fragment: an error in its own reruns pauses training and is said in a sentence.

    A fragment's own reruns do not pass through the page's try/except; st.rerun and st.stop raise
    BaseException and pass through.
    """
    @functools.wraps(body)  # a fragment without a key is named after its function
    def run(*args):
        try:
            body(*args)
        except Exception as err:  # noqa: BLE001 - one broken part must not take the page down
            state.live.pause()
            st.error(f"Something went wrong: {type(err).__name__}: {err}. Training is paused; press Play "
                     "to continue or Reset to start again.")
    return run


def live_fragment(state: LivePage, test_time: bool, present: bool = True) -> None:
    """The "stage_live" fragment: the live view alone, so a pulled frame costs one light rerun.

    present: laid out for the stage (else for the live page's full view, which calls it too).
    """
    if state.rerun_page:
        state.rerun_page = False
        st.rerun()
    if state.follow:
        follower_view(state, present)
        return
    live = state.live
    pairs = state.frames_to_send()  # every frame computed is sent and drawn, the engine's last
    payload = live_payload(live, pairs, test_time, state.epoch, notation=state.notation,
                           **({"max_neurons": MAX_NEURONS} if present else {}))
    payload.update(pull=True, pull_depth=PULL_DEPTH, present=present, playing=live.playing, play_id=live.play_id,
                   pulled=state.pulled, boot=BOOT, session=session_token(), rush=state.rush, held=state.held,
                   panels=f".st-key-{PANEL_BOXES[present]}")
    state.rush = False
    if present:
        payload["layout"] = layout()
    texts = [frame_text(f) for f in payload["frames"]]
    if state.broadcast is not None:
        state.broadcast.publish(payload, live.playing, texts)
    live_view(payload, key="live_view", on_pull=lambda: on_pull(state), on_pause=lambda: on_pause(state),
              on_hold=lambda: on_hold(state), frame_texts=texts)


# A follower of a lesson sees the step's heading above the stage, as plain text; the stage is that much shorter
FOLLOW_STEP = 30  # px
FOLLOW_HEIGHT = f"max({MIN_STAGE}px, calc(100vh - {TOP_BAR + FOLLOW_STEP}px))"
FOLLOW_CSS = f"""<style>
.st-key-follow_step {{ height: {FOLLOW_STEP - 4}px; overflow: hidden; }}
.st-key-follow_step [data-testid="stText"] {{ font-family: inherit; font-size: 20px; font-weight: 700;
  line-height: {FOLLOW_STEP - 4}px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
body:has(.st-key-follow_step) .st-key-{PANEL_BOXES[True]} {{ height: {FOLLOW_HEIGHT}; }}
</style>"""
FOLLOW_PANEL_KEY = "_follow_panel"  # the panel the class last gave this follower; "" once they picked their own


def follow_class(state: LivePage, panel: str) -> str:
    """A follower's page, on a full run: the run the class shows now (a lesson's current step), the step's
    heading above the stage, and the panel to show: the step's, until the follower picks another themselves."""
    broadcast = classroom.find(state.follow)
    if broadcast is None:
        return panel
    broadcast.catch_up(state)
    if broadcast.step:
        st.html(FOLLOW_CSS)
        with st.container(key="follow_step"):
            st.text(broadcast.step)
    if not broadcast.panel:
        return panel
    given = st.session_state.get(FOLLOW_PANEL_KEY)
    # another panel than the class gave is the follower's pick, unless it is the browser sending back the one
    # a new step replaced (undo_echoes: it sets the step's panel again)
    if given and st.session_state.get(PANEL_KEY) != given and not undo_echoes(state, PANEL_KEY):
        st.session_state[FOLLOW_PANEL_KEY] = given = ""  # picked their own: it stays through the steps
    if given == "":
        return st.session_state.get(PANEL_KEY, panel)
    if given != broadcast.panel:
        set_widget(state, PANEL_KEY, broadcast.panel)
        st.session_state[FOLLOW_PANEL_KEY] = broadcast.panel
    return broadcast.panel


def follower_view(state: LivePage, present: bool) -> None:
    """A follower's live view: the class's frames it has not shown yet, as the teacher's page built them.

    It trains nothing and builds no frame: it reruns every classroom.FOLLOW_SECONDS and sends what is new
    (nothing when the teacher is paused), and the browser shows the frames one interval apart. When the
    teacher's lesson moves to another step, the whole page runs again (heading, panel and run follow).
    """
    broadcast = classroom.find(state.follow)
    if broadcast is None:
        state.rerun_page = True  # the class has ended: the page says so and gives the follower a run
        return
    if broadcast.catch_up(state):
        st.rerun()
    # a full run of the page (a new epoch) sends the frame on screen again, with anything new
    again = state.follow_epoch != state.epoch and state.follow_seen > 0
    texts, last = broadcast.texts_since(state.follow_seen - again)  # the teacher's page encoded them once
    if not state.follow_seen:
        texts = texts[-1:]  # a new follower starts at the teacher's iteration
    elif not texts and not broadcast.playing:
        # the teacher is paused: the frame on screen again (a payload can be overtaken by a later rerun before the
        # browser draws it; a follower that missed its first frame showed no counter until the teacher played)
        texts = broadcast.texts_since(last - 1)[0]
    state.follow_seen, state.follow_epoch = last, state.epoch
    payload = {"epoch": state.epoch, "interval_ms": broadcast.interval_ms, "look": LOOK,  # frames: texts
               "curves": broadcast.curves, "present": present, "playing": broadcast.playing,
               "stalled": broadcast.stalled()}
    if present:
        payload["layout"] = {**layout(), "height": FOLLOW_HEIGHT} if broadcast.step else layout()
    live_view(payload, key="live_view", frame_texts=texts)


def _panel(state: LivePage, name: str, test_time: bool) -> None:
    """The "stage_panel" fragment: one Plotly panel, sized to the window."""
    live = state.live
    w, h = viewport()
    scale = max(1.0, min(w / BASE[0], h / BASE[1]))
    height = int(max(MIN_STAGE, h - TOP_BAR)) - HELP
    width = panel_width(w, share())
    if name == "rescale":
        depth = live.cfg.depth
        layer = 1
        if depth > 1:
            layer = st.segmented_control("hidden layer", list(range(1, depth + 1)), default=1,
                                         key=f"w_layer_{depth}", label_visibility="collapsed") or 1
            height -= int(50 * scale)
        size = dict(height=round(height / scale), width=round(width / scale))  # as drawn, before fonts scale
        fig = state.figure("rescale", lambda: figures.rescale_figure(list(live.recent), layer - 1, live.cfg.mode,
                                                                     **size), (layer, round(width), height))
    elif name == "gradient":
        fig = state.figure("gradient", lambda: figures.gradient_figure(live.frame))
    elif live.data.image_shape is not None:
        fig = state.figure("digits", lambda: figures.digits_figure(live.data, live.test_predictions(),
                                                                   width=round(width / scale)),
                           (*test_time_p(live), round(width)))
    else:
        kind, make = own_data.data_panel(live)
        fig = state.figure(kind, make, (*test_time_p(live), live.run_id))
    st.plotly_chart(sized(fig, height, scale, width), key=f"stage_{name}", config=plot_config(name),
                    width="stretch")


def test_time_p(live) -> tuple:
    """Classic mode's test-time predictions depend on p (x keep probability 1-p); inverted mode's don't."""
    return (live.cfg.p, live.cfg.input_p) if live.cfg.mode == "classic" else ()


_SIZED: dict = {}


class Checked(go.Figure):
    """A figure dict that Plotly has already checked: st.plotly_chart takes a Figure's to_dict() as it is, while
    a plain dict is built into a go.Figure again to be validated (14 ms a redraw of the decision boundary,
    measured: more than building it). `sized` only sets layout values Plotly accepts on any figure."""

    def __init__(self, spec: dict):  # the spec is the whole figure; go.Figure's own state is never built
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec


def sized(fig, height: int, scale: float, width: float | None = None) -> Checked:
    """The figure with the given height, every font `scale` times larger and its title and subtitle wrapped to
    `width` px (cached)."""
    key = (id(fig), height, round(scale, 2), None if width is None else round(width))
    if key in _SIZED and _SIZED[key][0] is fig:
        return _SIZED[key][1]
    out = fig.to_dict()
    layout = out["layout"]
    layout["height"] = height
    # bar labels (the rescaling panel's ✕) at the panel's smallest text size, not shrunk to fit their bars
    layout["uniformtext"] = {"minsize": round(16 * scale), "mode": "show"}
    if scale != 1:  # bigger text needs bigger margins, or titles run into legends
        _scale_fonts(out, scale)
        layout["margin"] = {k: round(v * scale) if isinstance(v, (int, float)) else v
                            for k, v in layout.get("margin", {}).items()}
    if width is not None:
        fit_title(layout, width)
    if len(_SIZED) > 16:
        _SIZED.clear()
    _SIZED[key] = (fig, Checked(out))
    return _SIZED[key][1]


def _scale_fonts(node, scale: float, in_font: bool = False) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "size" and in_font and isinstance(v, (int, float)):
                node[k] = round(v * scale, 1)
            else:
                _scale_fonts(v, scale, "font" in k)
    elif isinstance(node, list):
        for v in node:
            _scale_fonts(v, scale, in_font)


def stage(state: LivePage, panel: str, *, hidden: frozenset[str] = frozenset(),
          extra_keys: Callable[[str], None] | None = None, try_it: Callable[[], None] | None = None,
          share: float = 1.0) -> str:
    """Draw the top bar, the live view (with its playback) and one detail panel for `state`; handle the keys.

    Returns the panel shown. See the module's docstring for the contract.
    """
    st.html(STAGE_CSS)
    st.session_state[SHARE_KEY] = share
    if state.follow:
        panel = follow_class(state, panel)
    _sync_widgets(state, panel)
    actions = tuple(a for a, control in KEY_ACTIONS.items() if control not in hidden)
    if extra_keys is not None:
        actions += ("next", "prev")
    keyboard(lambda action, times: on_key(state, action, extra_keys, times), key=KEYS_KEY, actions=actions,
             viewport=True)
    fragment(state, CONTROLS_FRAGMENT, top_bar, state, hidden, try_it)
    if state.live.diverged:
        st.error(state.live.message)
    if state.live.busy:
        st.warning(state.live.busy)
    shown = st.session_state.get(PANEL_KEY, panel)
    shown = shown if shown in PANELS else DEFAULT_PANEL
    test_time = bool(st.session_state.get(TEST_TIME_KEY))
    left, right = st.columns([LEFT, 1 - LEFT], gap="small")
    following = bool(state.follow)
    with left:
        fragment(state, LIVE_FRAGMENT, live_fragment, state, test_time,
                 every=classroom.FOLLOW_SECONDS if following else None)
    with right, st.container(key=PANEL_BOXES[True], gap=None):
        fragment(state, PANEL_FRAGMENT, _panel, state, shown, test_time, every=PANELS_EVERY if following else None)
        with st.container(key="stage_help"):
            help_line = key_help(actions).replace("*", "\\*") if actions else ""
            if state.broadcast is not None and share >= 1.0:  # a narrower stage's page shows it (the Lesson's card)
                help_line = f"**Class code: {state.broadcast.code}**" + (f" · {help_line}" if help_line else "")
            if help_line:
                st.caption(help_line)
    return shown
