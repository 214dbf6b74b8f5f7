"""dropviz live view: page layout and widget wiring only.

Data flows widgets -> Config -> LiveSession (main run + p = 0 twin) -> Frame -> live view and figures.
While playing, a fragment with run_every steps the session and redraws the browser-side live view
(counter, network diagram, loss curves); the Plotly panels are redrawn by a slower fragment. When
paused, no fragment has a timer, so an idle session costs no CPU. The page's state is one LivePage
(dropviz/live/page_state.py) under st.session_state[PAGE_KEY]; widgets keep their own keys (w_...).
"""
from __future__ import annotations

import functools

import torch

torch.set_num_threads(1)

import streamlit as st  # noqa: E402

from dropviz import figures  # noqa: E402
from dropviz.config import FIELD, FIELDS, Config  # noqa: E402
from dropviz.live import PAGE_KEY, LivePage, LiveSession, live_payload  # noqa: E402
from dropviz.live.component import live_view  # noqa: E402
from dropviz.live.session import SPEED_BY_NAME, SPEED_NAMES  # noqa: E402
from dropviz.presets import PRESETS  # noqa: E402

# Seconds between redraws of the Plotly panels while playing at frame speeds (None: only when paused).
# Each redraw of the three panels blocks the browser for a few hundred ms (measured), so they are
# redrawn rarely; in slow motion they are redrawn with every iteration, together with the live view.
PANELS_EVERY = 3.0
SLOW_MOTION = 0.5  # seconds per iteration from which every panel follows every iteration
OWN_SETTINGS = "(your own settings)"
PLOT_CONFIG = {"displayModeBar": False}
SHARED_CONFIG = "config"  # the Experiments page starts from the Config this page shows


# ---------------------------------------------------------------------------- state and URL
def page() -> LivePage:
    return st.session_state[PAGE_KEY]


def session() -> LiveSession:
    return page().live


def start_page() -> None:
    """First run of a browser session: settings come from the URL; bad ones warn and fall back."""
    new = st.session_state[PAGE_KEY] = LivePage.from_query(st.query_params.to_dict())
    set_widgets(new.live.cfg)
    st.session_state["w_speed"] = new.live.speed


def set_widgets(cfg: Config) -> None:
    for f in FIELDS:
        st.session_state[f"w_{f.name}"] = getattr(cfg, f.name)


def widget_config() -> tuple[Config | None, str]:
    values = {f.name: st.session_state[f"w_{f.name}"] for f in FIELDS}
    try:
        return Config(**values), ""
    except ValueError as err:
        return None, str(err)


def write_url(live: LiveSession) -> None:
    want = {**live.cfg.to_query(), "speed": live.speed_key}
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


# ---------------------------------------------------------------------------- callbacks
def on_preset() -> None:
    name = st.session_state["w_preset"]
    if name in PRESETS:
        set_widgets(PRESETS[name].config)


def on_play_pause() -> None:
    session().toggle()


def on_step() -> None:
    session().step_once()


def on_reset() -> None:
    session().reset()


# ---------------------------------------------------------------------------- sidebar
def sidebar() -> None:
    # a preset stays selected only while the settings are still the preset's
    chosen = st.session_state.get("w_preset", OWN_SETTINGS)
    current, _ = widget_config()
    if chosen in PRESETS and current != PRESETS[chosen].config:
        st.session_state["w_preset"] = OWN_SETTINGS
    sb = st.sidebar
    sb.selectbox("Preset", [OWN_SETTINGS, *PRESETS], key="w_preset", on_change=on_preset,
                 help="Named starting points, each showing one lesson about dropout.")
    if st.session_state["w_preset"] in PRESETS:
        preset = PRESETS[st.session_state["w_preset"]]
        speed = SPEED_BY_NAME[st.session_state["w_speed"]]
        sb.caption(preset.caption(speed.per_tick / speed.interval))
    sb.select_slider("Speed", SPEED_NAMES, key="w_speed",
                     help="From slow motion (one iteration a second, for explaining) to many iterations "
                          "per displayed frame. Applies without a reset.")

    for title, rows in SIDEBAR:
        sb.subheader(title)
        for name, label, kind in rows:
            _widget(sb, name, label, kind)


# Sidebar sections: (Config field, label, widget). Ranges and help come from the FIELDS table.
SIDEBAR = (
    ("Dropout", (("p", "p: drop probability", "slider"), ("input_p", "input dropout (drop probability of inputs)",
                 "slider"), ("mode", "mode", "radio"))),
    ("Data", (("dataset", "dataset", "select"), ("noise", "noise", "slider"),
              ("n_train", "training points", "number"))),
    ("Network", (("depth", "depth (hidden layers)", "slider"), ("width", "width (neurons per layer)", "slider"),
                 ("activation", "activation", "radio"))),
    ("Training", (("optimizer", "optimizer", "radio"), ("lr", "learning rate", "number"),
                  ("batch_size", "batch size", "number"), ("seed", "seed (weights, batches, masks)", "number"),
                  ("data_seed", "data seed", "number"))),
)
SLIDER_STEP = {"p": 0.05, "input_p": 0.05, "noise": 0.05}


def _widget(sb, name, label, kind):
    f, key = FIELD[name], f"w_{name}"
    if kind == "radio":
        sb.radio(label, f.choices, key=key, horizontal=True, help=f.help)
    elif kind == "select":
        sb.selectbox(label, f.choices, key=key, help=f.help)
    elif kind == "slider":
        sb.slider(label, min_value=f.kind(f.lo), max_value=f.kind(f.hi), step=SLIDER_STEP.get(name, 1), key=key,
                  help=f.help)
    elif f.kind is float:  # the learning rate: a wide range, typed rather than dragged
        sb.number_input(label, min_value=f.lo, max_value=f.hi, step=0.001, format="%g", key=key, help=f.help)
    else:
        sb.number_input(label, min_value=int(f.lo), max_value=int(f.hi), step=1, key=key, help=f.help)


# ---------------------------------------------------------------------------- main area
def controls(live: LiveSession) -> None:
    play, step, reset, when = st.columns([1, 1, 1, 2.2], vertical_alignment="center")
    play.button("❚❚ Pause" if live.playing else "▶ Play", on_click=on_play_pause, width="stretch",
                type="primary", disabled=live.diverged, key="play")
    step.button("Step +1", on_click=on_step, width="stretch", disabled=live.diverged, key="step",
                help="Exactly one training iteration (pauses first).")
    reset.button("Reset", on_click=on_reset, width="stretch", key="reset",
                 help="Start again from iteration 0; the old run stays on the loss chart as a ghost.")
    when.toggle("Show test time (nothing dropped)", key="w_test_time")
    _caption("test_time" if _test_time() else f"network_{live.cfg.mode}", strong=True)


def live_panel() -> None:
    """The fast part: the browser-drawn live view. While playing, computes the next rerun's frames."""
    state = page()
    live = state.live
    pairs = None
    if live.playing:
        pairs = live.play_frames()
        if not live.playing:  # diverged: a full run shows the message and stops the timers
            st.rerun()
    live_view(live_payload(live, pairs, _test_time(), state.epoch))
    _caption("network")
    _caption("curves")


def _test_time() -> bool:
    return bool(st.session_state.get("w_test_time"))


def live_and_detail_panels() -> None:
    """Paused, stepping or slow motion: every panel shows the same iteration."""
    live_panel()
    detail_panels()


def curves_panel(live: LiveSession) -> None:
    if live.playing:
        st.info("**Loss and accuracy of every run**, with the settings of earlier runs: drawn when paused. "
                "The live loss curves are at the top.")
        return
    # no redraw for a p change alone: its marker shows with the next iteration, when the new p takes
    # effect; redrawing this chart on every paused slider move held the live view back ~70 ms
    _plot("Loss curves", lambda: figures.curves_figure(live.runs()), "curves")


# Two panels per row when the page is wide enough for each to stay readable (about 620 px), else one:
# on a 1280 px projector two side by side squeeze their labels into each other. Streamlit's horizontal
# container wraps its items; this rule, on the class Streamlit names after the container's key, only
# gives each item its readable width (Streamlit's own minimum for a stretching item is 8rem).
PANEL_WIDTH_CSS = """<style>
.st-key-detail_panels > div { flex: 1 1 620px !important; min-width: min(100%, 620px) !important; }
</style>"""


def detail_panels() -> None:
    """The Plotly panels, two per row on a wide page so their titles and labels stay readable."""
    live = session()
    st.html(PANEL_WIDTH_CSS)
    with st.container(key="detail_panels", horizontal=True, wrap=True):
        with st.container(key="panel_data"):
            if live.data.image_shape is not None:
                _plot("Digits", lambda: figures.digits_figure(live.data, live.test_predictions()), "digits",
                      _test_time_p(live))
                _caption("digits")
            else:
                _plot("Decision boundary", lambda: _boundary(live), "boundary", _test_time_p(live))
                _caption("boundary")
        with st.container(key="panel_rescale"):
            depth = live.cfg.depth
            layer = st.segmented_control("Rescaling panel: hidden layer", list(range(1, depth + 1)), default=1,
                                         key=f"w_layer_{depth}") or 1
            _plot("Rescaling", lambda: figures.rescale_figure(list(live.recent), layer - 1, live.cfg.mode),
                  "rescale", (layer,))
            _caption("rescale" if live.cfg.mode == "inverted" else "rescale_classic")
        with st.container(key="panel_gradient"):
            _plot("Gradients", lambda: figures.gradient_figure(live.frame), "gradient")
            _caption("gradient")
        with st.container(key="panel_curves"):
            curves_panel(live)


def _test_time_p(live: LiveSession) -> tuple:
    """Classic mode's test-time predictions depend on p (x keep probability 1-p); inverted mode's don't."""
    return (live.cfg.p, live.cfg.input_p) if live.cfg.mode == "classic" else ()


def _boundary(live: LiveSession):
    grid_x, grid_y, probs, extent = live.grid_prediction()
    return figures.boundary_figure(live.data, grid_x, grid_y, probs, live.frame, extent)


def _plot(title: str, make, key: str, depends=()) -> None:
    """One Plotly panel, rebuilt only when it would differ (LivePage.figure); if it cannot be drawn, say
    so in words and keep the page working."""
    try:
        fig = page().figure(key, make, depends)
    except Exception as err:  # noqa: BLE001 - one broken panel must not take the page down
        st.error(f"{title} could not be drawn: {type(err).__name__}: {err}")
        return
    st.plotly_chart(fig, key=key, config=PLOT_CONFIG, width="stretch")


def _caption(name: str, strong: bool = False) -> None:
    text = figures.CAPTIONS[name]
    if strong:
        st.markdown(text)
    else:
        st.caption(text)


def first_view() -> None:
    """First run of a session: the live view goes out alone, outside any fragment (the Plotly panels
    delayed the first frame by seconds, measured). Once the browser has drawn it, it triggers a normal
    full run, which brings the rest of the page."""
    state = page()
    payload = live_payload(state.live, None, _test_time(), state.epoch)
    payload["request_panels"] = True
    live_view(payload, key="first_view", on_ready=on_panels_ready)
    st.caption("Loading the panels…")


def on_panels_ready() -> None:
    page().panels_ready = True


def fragment(body, every: float | None):
    """Run body as a fragment that reruns on its own every `every` seconds (None: only on demand).

    A fragment's own reruns (its timer) do not pass through live_page's try/except: an error there
    is caught here, pauses training and is shown as a sentence, never a traceback.
    """
    @functools.wraps(body)  # the fragment's id is derived from the function's name
    def guarded():
        try:
            body()
        except Exception as err:  # noqa: BLE001 - st.rerun/st.stop raise BaseException and pass through
            session().pause()
            st.error(f"Something went wrong: {type(err).__name__}: {err}. Training is paused; press Play "
                     "to continue or Reset to start again.")
    st.fragment(run_every=every)(guarded)()


def main(panels_every: float | None = PANELS_EVERY) -> None:
    st.set_page_config(page_title="dropviz: dropout, live", layout="wide", initial_sidebar_state="expanded")
    if PAGE_KEY not in st.session_state:
        start_page()
    state = page()
    live = state.live
    if "w_speed" not in st.session_state:  # back from the Experiments page: Streamlit forgot the widgets
        set_widgets(live.cfg)
        st.session_state["w_speed"] = live.speed
    sidebar()
    live.set_speed(st.session_state["w_speed"])
    cfg, problem = widget_config()
    if problem:
        st.warning(f"{problem}. Keeping the previous settings.")
    elif live.apply(cfg) != "same":
        state.url_warnings = []
    st.session_state[SHARED_CONFIG] = live.cfg
    write_url(live)
    for warning in state.url_warnings:
        st.warning(f"URL parameter ignored: {warning}.")

    st.markdown("#### dropviz · dropout, live. *p is the probability that a hidden neuron is dropped; "
                "1−p is the keep probability.*")
    controls(live)
    if live.diverged:
        st.error(live.message)

    state.full_run()  # a new epoch: the browser drops frames it has not shown yet
    panels(state, panels_every)


def panels(state: LivePage, panels_every: float | None) -> None:
    """The live view and the Plotly panels, as fragments with the timers the speed asks for.

    panels_every: seconds between redraws of the Plotly panels while playing at frame speeds (None: only
    when paused; 0: with every rerun of the live view, as in slow motion).
    """
    live = state.live
    if not state.panels_ready:
        first_view()
    elif not live.playing:
        fragment(live_and_detail_panels, None)
    elif live.interval >= SLOW_MOTION:
        fragment(live_and_detail_panels, live.interval)
    elif panels_every == 0:
        fragment(live_and_detail_panels, live.rerun_interval)
    else:
        fragment(live_panel, live.rerun_interval)
        fragment(detail_panels, panels_every)


def live_page(panels_every: float | None = PANELS_EVERY) -> None:
    try:
        main(panels_every)
    except Exception as err:  # noqa: BLE001 - visitors get a sentence, never a traceback
        st.error(f"Something went wrong: {type(err).__name__}: {err}. Reload the page to start again.")


if __name__ == "__main__":  # Streamlit runs a page as __main__; bench/ imports it to time other choices
    live_page()
