"""dropviz live view: page layout and widget wiring only.

Data flows widgets -> Config -> LiveSession (main run + p = 0 twin) -> Frame -> live view and figures.
While playing, the browser-side live view (counter, network diagram, loss curves) pulls a few frames at a
time: a light fragment holding only the live view steps the session per request (app_pages/stage.py); the
Plotly panels' fragment is redrawn with a pull every few seconds. Play, Pause and Step rerun only the
fragments they change (stage.after_action). When paused, nothing asks and no fragment has a timer, so an
idle session costs no CPU. The page's state is one LivePage
(dropviz/live/page_state.py) under st.session_state[PAGE_KEY]; widgets keep their own keys (w_...).

?present=1 (or the Present button) shows the presenter view instead: app_pages/stage.py's top bar, live
view and one detail panel on one 1280x720 screen; ?hide= leaves controls out, ?panel= picks the panel.
"""
from __future__ import annotations

import torch

torch.set_num_threads(1)

import streamlit as st  # noqa: E402

from app_pages import stage  # noqa: E402
from app_pages.guard import run_page  # noqa: E402
from app_pages.notation_view import SHARED_NOTATION  # noqa: E402
from dropviz import figures  # noqa: E402
from dropviz import notation as notation_rule  # noqa: E402
from dropviz.config import FIELD, FIELDS, Config  # noqa: E402
from dropviz.figures.captions import DOWNLOAD_HELP  # noqa: E402
from dropviz.figures.download import FORMATS, plot_config  # noqa: E402
from dropviz.live import (  # noqa: E402
    PAGE_KEY,
    LivePage,
    LiveSession,
    classroom,
    live_payload,
    own_data,
)
from dropviz.live.component import live_view  # noqa: E402
from dropviz.live.keys import key_help, keyboard  # noqa: E402
from dropviz.live.page_state import CONTROLS, notation_query, view_query  # noqa: E402
from dropviz.live.session import SPEED_BY_NAME, SPEED_NAMES  # noqa: E402
from dropviz.presets import PRESETS  # noqa: E402

OWN_SETTINGS = "(your own settings)"
FIGURE_FORMAT = "w_figure_format"
SHARED_CONFIG = "config"  # the Experiments page starts from the Config this page shows


# ---------------------------------------------------------------------------- state and URL
def page() -> LivePage:
    return st.session_state[PAGE_KEY]


def session() -> LiveSession:
    return page().live


def start_page() -> None:
    """First run of a browser session: settings come from the URL; bad ones warn and fall back.
    ?follow=CODE follows that class's teacher instead (follower_page)."""
    params = {k: st.query_params.get_all(k) for k in st.query_params}  # every value of a repeated key
    if "follow" in params:
        code = str(params["follow"][-1]).strip().upper()
        problem = classroom.code_problem(code)
        broadcast = None if problem else classroom.find(code)
        if broadcast is not None:
            st.session_state[PAGE_KEY] = follower_page(broadcast)
            return
        params = {k: v for k, v in params.items() if k != "follow"}
        problem = problem or (f"follow={code!r} names no class on this server now: the code is shown in the "
                              "teacher's presenter view or Lesson page, and a class ends when the teacher closes it")
    new = st.session_state[PAGE_KEY] = LivePage.from_query(params)
    if own_data.URL_KEY in params:
        new.url_warnings.append(own_data.LINK_WARNING)
    if "follow" in st.query_params.to_dict():
        new.url_warnings.append(problem)
    set_widgets(new.live.cfg)
    st.session_state["w_speed"] = new.live.speed


def follower_page(broadcast) -> LivePage:
    """A follower's page: the teacher's run, read-only, in the presenter's layout; only the panel is its own."""
    return LivePage(broadcast.live, present=True, hidden=frozenset(CONTROLS) - {"panel"}, follow=broadcast.code,
                    figures=broadcast.figures)


def own_run(warnings: list[str] | None = None) -> None:
    """Leave the class: this visitor's own run, from the teacher's current settings, on the live page."""
    teacher = session()
    own = st.session_state[PAGE_KEY] = LivePage(LiveSession(teacher.cfg, teacher.speed), warnings or [])
    set_widgets(own.live.cfg)
    st.session_state["w_speed"] = own.live.speed
    st.query_params.clear()


def follow_view(state: LivePage) -> None:
    """A follower: the teacher's live view, loss curves and a panel of their own choice; no controls."""
    if classroom.find(state.follow) is None:
        own_run([f"the class {state.follow} has ended (its teacher closed it): this is your own run, from its "
                 "last settings"])
        st.rerun()
    state.full_run()
    state.panel = stage.stage(state, state.panel, hidden=state.hidden, try_it=own_run)


def set_widgets(cfg: Config) -> None:
    for f in FIELDS:
        st.session_state[f"w_{f.name}"] = getattr(cfg, f.name)


def widget_config() -> tuple[Config | None, str]:
    cfg = page().live.cfg  # a setting without a widget on this run (the presenter view hides some) stays
    values = {f.name: st.session_state.get(f"w_{f.name}", getattr(cfg, f.name)) for f in FIELDS}
    try:
        return Config(**values), ""
    except ValueError as err:
        return None, str(err)


def page_query(state: LivePage, present: bool | None = None, hidden=None) -> dict[str, str]:
    """Every setting, the speed and the view, as URL parameters."""
    live = state.live
    present = state.present if present is None else present
    hidden = state.hidden if hidden is None else hidden
    own = {own_data.URL_KEY: own_data.URL_VALUE} if live.table else {}
    return {**live.cfg.to_query(), "speed": live.speed_key, **view_query(present, state.panel, hidden),
            **notation_query(state.notation), **own}


def write_url(state: LivePage) -> None:
    want = page_query(state)
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def plain(text: str) -> str:
    """Text from a visitor (a URL) as Markdown that shows it literally, each given value cut short
    (dropviz.config.literal)."""
    from dropviz.config import literal
    return literal(text)


# ---------------------------------------------------------------------------- callbacks
def on_preset() -> None:
    name = st.session_state["w_preset"]
    if name in PRESETS:
        set_widgets(PRESETS[name].config)


def on_live_setting() -> None:
    """p or input dropout moved while playing: applied now, and only the live view reruns (the next frames
    show it), so the change is on screen within one pull, not after a full run of the page."""
    state = page()
    if stage.undo_echoes(state, "w_p", "w_input_p"):
        return  # the browser sent back the value a key press replaced
    cfg, problem = widget_config()
    if not state.live.playing or problem:
        return  # paused, or a setting is invalid: the full run shows the change, or says what is wrong
    if state.live.apply(cfg) != "same":
        state.url_warnings = []
        state.rush = True
    write_url(state)
    stage.rerun(state, stage.LIVE_FRAGMENT)


def on_clear_ghosts() -> None:
    session().clear_ghosts()


def on_present(present: bool) -> None:
    page().present = present


def on_key(action: str, times: int) -> None:
    stage.on_key(page(), action, None, times)


# ---------------------------------------------------------------------------- sidebar
def sidebar(present: bool = False) -> None:
    """The settings; in the presenter view only those its top bar does not hold, and a way back."""
    sb = st.sidebar
    if present:
        sb.button("◀ Leave presenter view", on_click=on_present, args=(False,), key="unpresent", width="stretch",
                  help="Back to the full page with every panel.")
    # a preset stays selected only while the settings are still the preset's
    chosen = st.session_state.get("w_preset", OWN_SETTINGS)
    current, _ = widget_config()
    if chosen in PRESETS and current != PRESETS[chosen].config:
        st.session_state["w_preset"] = OWN_SETTINGS
    sb.selectbox("Preset", [OWN_SETTINGS, *PRESETS], key="w_preset", on_change=on_preset,
                 help="Named starting points, each showing one lesson about dropout.")
    if st.session_state["w_preset"] in PRESETS:
        preset = PRESETS[st.session_state["w_preset"]]
        speed = SPEED_BY_NAME[st.session_state["w_speed"]]
        sb.caption(preset.caption(speed.per_tick / speed.interval))
    if not present:
        sb.select_slider("Speed", SPEED_NAMES, key="w_speed",
                         help="From slow motion (one iteration a second, for explaining) to many iterations "
                              "per displayed frame. Applies without a reset.")

    for title, rows in SIDEBAR:
        rows = [r for r in rows if not (present and r[0] in IN_TOP_BAR)]
        if rows:
            sb.subheader(title)
        for name, label, kind in rows:
            _widget(sb, name, label, kind)
        if title == "Data" and not present:
            own_data_widgets(sb)
        if title == "Dropout":  # by the p slider; above the live view its three lines pushed the diagram down
            sb.caption(figures.CAPTIONS["notation"])
    if not present:
        export_widgets(sb)
    sb.button("Clear old runs", on_click=on_clear_ghosts, key="clear_ghosts",
              help="Remove the faded curves of earlier runs from the loss charts.")
    link_builder(sb)


def on_upload() -> None:
    """A file was uploaded: train on it, or keep the previous data and say why not. A file removed from the
    uploader changes nothing: the browser removes the old file before it sends a new one, and a bad new one must
    leave the run on the old one (the button below goes back to the built-in data)."""
    file, state = st.session_state.get("w_data_file"), page()
    if file is None:
        return
    state.data_problem = own_data.load_file(state.live, file.getvalue(), file.name)


def own_data_widgets(sb) -> None:
    """Your own CSV file, kept in this browser session only (Streamlit holds it in memory; nothing is written)."""
    live = session()
    sb.file_uploader("your own data (CSV)", type=["csv"], key="w_data_file", on_change=on_upload,
                     help="A header row, numeric feature columns and a class column (named label, else the last "
                          "one): 2 to 64 features, 2 to 10 classes, at most 5,000 rows and 5 MB. It stays in this "
                          "browser session: never saved, never seen by others, and not in shared links.")
    if page().data_problem:
        sb.error(plain(page().data_problem + (" Still training on " + live.table.name if live.table
                                                           else " Still training on the built-in data") + "."))
    if live.table is not None:
        sb.caption(plain(f"Training on {live.table.summary()}: dataset, noise and training points do not apply."))
        sb.button("Back to the built-in data", on_click=on_built_in_data, key="built_in_data", width="stretch",
                  help="Train on the data set chosen above again; your file is forgotten.")


def on_built_in_data() -> None:
    page().data_problem = ""
    session().use_table(None)


def export_widgets(sb) -> None:
    """Downloads: the replay (a standalone HTML file) and the history CSV; the panels' picture format."""
    live = session()
    sb.subheader("Export")
    sb.radio("panel downloads", FORMATS, key=FIGURE_FORMAT, horizontal=True, format_func=str.upper,
             help=DOWNLOAD_HELP)
    last = sb.number_input("replay: last iterations", min_value=1, max_value=2000, value=own_data.REPLAY_LAST,
                           step=50, key="w_replay_last",
                           help="How many of the latest iterations the replay file holds, one frame each.")
    # never disabled: Play and Step rerun only their fragments, so this sidebar may be older than the run
    sb.download_button("Download replay", lambda: own_data.replay_file(live, int(last)),
                       file_name="dropviz-replay.html", mime="text/html", key="download_replay",
                       on_click="ignore", width="stretch",
                       help="A standalone HTML file of the latest iterations, with the network diagram, the counter "
                            "and the loss curves: it plays, pauses and steps with no server and no network (for "
                            "slides, from a USB stick). Made by training the run again one iteration at a time.")
    sb.download_button("Download history", lambda: own_data.history_file(live), file_name="dropviz-history.csv",
                       mime="text/csv", key="download_history", on_click="ignore", width="stretch",
                       help="A CSV with one row per iteration: step, p, the losses and accuracies of this run and, "
                            "beside them, its p = 0 twin's (twin_test_loss, ...).")


IN_TOP_BAR = ("p", "input_p", "mode")  # the presenter view's top bar holds these (and the speed)


def link_builder(parent) -> None:
    """The classroom link: this setup, the presenter view and the controls to hide, as a URL to copy."""
    state = page()
    with parent.expander("Classroom link"):
        present = st.checkbox("presenter view", value=True, key="link_present")
        hidden = st.multiselect("hide controls", CONTROLS, default=sorted(state.hidden, key=CONTROLS.index),
                                key="link_hide", help="Left out of the presenter view's top bar, and their keys.")
        st.code(classroom_link(page_query(state, present, frozenset(hidden))), language=None, wrap_lines=True)


def classroom_link(query: dict[str, str]) -> str:
    from urllib.parse import urlencode
    base = (st.context.url or "http://localhost:8501/").split("?", 1)[0]
    return base + "?" + urlencode(query, safe=",")


# Sidebar sections: (Config field, label, widget). Ranges and help come from the FIELDS table.
SIDEBAR = (
    ("Dropout", (("p", "", "p_slider"), ("input_p", "", "p_slider"), ("mode", "mode", "radio"))),
    ("Data", (("dataset", "dataset", "select"), ("noise", "noise", "slider"),
              ("n_train", "training points", "number"))),
    ("Network", (("depth", "depth (hidden layers)", "slider"), ("width", "width (neurons per layer)", "slider"),
                 ("activation", "activation", "radio"))),
    ("Training", (("optimizer", "optimizer", "radio"), ("lr", "learning rate", "number"),
                  ("momentum", "momentum (sgd)", "slider"), ("batch_size", "batch size", "number"),
                  ("seed", "seed (weights, batches, masks)", "number"), ("data_seed", "data seed", "number"))),
    ("Other regularizers", (("weight_decay", "L2 weight decay", "number"),
                            ("max_norm", "max-norm bound (0: off)", "number"))),
)
SLIDER_STEP = {"noise": 0.05, "momentum": 0.01}
NUMBER_STEP = {"lr": 0.001, "weight_decay": 0.0001, "max_norm": 0.5}  # typed numbers: the + and - buttons' step


def _widget(sb, name, label, kind):
    f, key = FIELD[name], f"w_{name}"
    if kind == "p_slider":  # its label and values in the page's notation (dropviz.notation)
        notation = page().notation
        stage.p_slider(sb, name, notation, notation_rule.title(notation, "input" if name == "input_p" else "hidden"),
                       help=f.help, on_change=on_live_setting)
    elif kind == "radio":
        sb.radio(label, f.choices, key=key, horizontal=True, help=f.help)
    elif kind == "select":
        sb.selectbox(label, f.choices, key=key, help=f.help)
    elif kind == "slider":
        sb.slider(label, min_value=f.kind(f.lo), max_value=f.kind(f.hi), step=SLIDER_STEP.get(name, 1), key=key,
                  help=f.help)
    elif f.kind is float:  # a wide range (learning rate, L2, max-norm): typed rather than dragged
        sb.number_input(label, min_value=f.lo, max_value=f.hi, step=NUMBER_STEP[name], format="%g", key=key,
                        help=f.help)
    else:
        sb.number_input(label, min_value=int(f.lo), max_value=int(f.hi), step=1, key=key, help=f.help)


# ---------------------------------------------------------------------------- main area
def controls(live: LiveSession) -> None:
    keyboard(on_key, key=stage.KEYS_KEY, actions=KEY_ACTIONS)
    buttons, when, present = st.columns([3, 2.2, 1], vertical_alignment="center")
    with buttons:
        stage.fragment(page(), stage.CONTROLS_FRAGMENT, play_buttons, page())
    when.toggle("Show test time (nothing dropped)", key=stage.TEST_TIME_KEY,
                on_change=lambda: stage.undo_echoes(page(), stage.TEST_TIME_KEY))
    present.button("Present", on_click=on_present, args=(True,), key="present", width="stretch",
                   help="The presenter view: the live view, the loss curves and one panel on one screen, "
                        "big enough for the back row.")
    _caption("test_time" if _test_time() else f"network_{live.cfg.mode}", strong=True)
    st.caption(key_help(KEY_ACTIONS))


KEY_ACTIONS = ("play_pause", "step", "p_up", "p_down", "test_time")


def play_buttons(state: LivePage) -> None:
    """The "controls" fragment: Play/Pause, Step and Reset, redrawn alone when pressed."""
    live = state.live
    play, step, reset = st.columns(3, vertical_alignment="center")
    play.button("❚❚ Pause" if live.playing else "▶ Play", on_click=stage.on_play, args=(state,), width="stretch",
                type="primary", disabled=live.diverged, key="play")
    step.button("Step +1", on_click=stage.on_step, args=(state,), width="stretch", disabled=live.diverged,
                key="step", help="Exactly one training iteration (pauses first).")
    reset.button("Reset", on_click=stage.on_reset, args=(state,), width="stretch", key="reset",
                 help="Start again from iteration 0; the old run stays on the loss chart as a ghost.")


def live_panel() -> None:
    """The fast part: the browser-drawn live view, which pulls its frames one at a time while playing."""
    stage.fragment(page(), stage.LIVE_FRAGMENT, stage.live_fragment, page(), _test_time(), False)
    _caption("network")
    _caption("curves")


def _test_time() -> bool:
    return bool(st.session_state.get(stage.TEST_TIME_KEY))


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
    _plot("Loss curves", lambda: figures.curves_figure(live.runs(), notation=page().notation), "curves")


# Two panels per row when the page is wide enough for each to stay readable (about 620 px), else one:
# on a 1280 px projector two side by side squeeze their labels into each other. Streamlit's horizontal
# container wraps its items; this rule, on the class Streamlit names after the container's key, only
# gives each item its readable width (Streamlit's own minimum for a stretching item is 8rem).
PANEL_WIDTH_CSS = f"""<style>
.st-key-{stage.PANEL_BOXES[False]} > div {{ flex: 1 1 620px !important; min-width: min(100%, 620px) !important; }}
</style>"""


def detail_panels() -> None:
    """The Plotly panels, two per row on a wide page so their titles and labels stay readable."""
    live = session()
    st.html(PANEL_WIDTH_CSS)
    with st.container(key=stage.PANEL_BOXES[False], horizontal=True, wrap=True):
        with st.container(key="panel_data"):
            kind, make = own_data.data_panel(live)
            _plot(DATA_TITLES[kind], make, kind, (*stage.test_time_p(live), live.run_id))
            _caption(kind)
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


DATA_TITLES = {"digits": "Digits", "boundary": "Decision boundary", "projection": "Test points (PCA)"}


def _plot(title: str, make, key: str, depends=()) -> None:
    """One Plotly panel, rebuilt only when it would differ (LivePage.figure); if it cannot be drawn, say
    so in words and keep the page working."""
    try:
        fig = page().figure(key, make, depends)
    except Exception as err:  # noqa: BLE001 - one broken panel must not take the page down
        st.error(f"{title} could not be drawn: {type(err).__name__}: {err}")
        return
    st.plotly_chart(fig, key=key, config=plot_config(key, st.session_state.get(FIGURE_FORMAT, "png")),
                    width="stretch")


def _caption(name: str, strong: bool = False) -> None:
    text = figures.CAPTIONS[name]
    if strong:
        st.markdown(text)
    else:
        st.caption(text, help=DOWNLOAD_HELP)


def first_view() -> None:
    """First run of a session: the live view goes out alone, outside any fragment (the Plotly panels
    delayed the first frame by seconds, measured). Once the browser has drawn it, it triggers a normal
    full run, which brings the rest of the page."""
    state = page()
    payload = live_payload(state.live, None, _test_time(), state.epoch, notation=state.notation)
    payload["request_panels"] = True
    live_view(payload, key="first_view", on_ready=on_panels_ready)
    st.caption("Loading the panels…")


def on_panels_ready() -> None:
    page().panels_ready = True


def main(follow_frames: bool = False) -> None:
    if PAGE_KEY not in st.session_state:
        start_page()
    state = page()
    live = state.live
    state.notation = st.session_state.setdefault(SHARED_NOTATION, state.notation)  # or as another page set it
    st.set_page_config(page_title="dropviz: dropout, live", layout="wide",
                       initial_sidebar_state="collapsed" if state.present else "expanded")
    if state.follow:
        follow_view(state)  # nothing of this page's own settings applies: the run is the teacher's
        return
    if "w_speed" not in st.session_state or "w_dataset" not in st.session_state:
        set_widgets(live.cfg)  # back from another page, or from the presenter view: Streamlit forgot them
        st.session_state["w_speed"] = live.speed
    sidebar(state.present)
    live.set_speed(st.session_state.get("w_speed", live.speed))
    cfg, problem = widget_config()
    if problem:
        st.warning(plain(f"{problem}. Keeping the previous settings."))
    elif live.apply(cfg) != "same":
        state.url_warnings = []
    st.session_state[SHARED_CONFIG] = live.cfg
    for warning in state.url_warnings:
        st.warning(plain(f"URL parameter ignored: {warning}."))
    if state.present:
        if state.broadcast is None:
            state.broadcast = classroom.open_class(live)  # students may follow: ?follow=<its code>
        state.full_run()
        state.panel = stage.stage(state, state.panel, hidden=state.hidden)
        write_url(state)
        return
    write_url(state)

    st.markdown("#### dropviz · dropout, live. *p is the probability that a hidden neuron is dropped; "
                "1−p is the keep probability.*")
    state.full_run()  # a new epoch: the browser drops frames it has not shown yet
    controls(live)
    if live.diverged:
        st.error(live.message)
    if live.busy:
        st.warning(live.busy)
    panels(state, follow_frames)


def panels(state: LivePage, follow_frames: bool) -> None:
    """The live view and the Plotly panels, as fragments. While playing, the panels are redrawn with a
    pull every stage.PANELS_EVERY seconds (follow_frames: with every pull, as in slow motion)."""
    if not state.panels_ready:
        first_view()
        return
    state.follow_frames = follow_frames
    live_panel()
    stage.fragment(state, stage.PANEL_FRAGMENT, detail_panels)


def live_page(follow_frames: bool = False) -> None:
    run_page(main, follow_frames)


if __name__ == "__main__":  # Streamlit runs a page as __main__; bench/ imports it to time other choices
    live_page()
