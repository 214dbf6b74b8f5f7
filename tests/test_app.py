"""The page, run headless with Streamlit's AppTest: widgets -> Config -> LiveSession, URL in and out."""
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dropviz import Config
from dropviz.live import PAGE_KEY, LivePage

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def start(first_view_done: bool = True, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    if first_view_done:  # in a browser, the live view reports its first frame; AppTest runs no JS
        page(at).panels_ready = True
        at.run()
    return at


def press(at, key: str) -> AppTest:
    """Click Play/Pause or Step. Its callback reruns only the fragments it changes (buttons, live view, panel),
    as a browser shows them over the rest of the page; AppTest keeps only the last run's elements, so a full
    run follows for the tests that read other widgets."""
    at.button(key=key).click().run()
    return at.run()


def live_view_data(at) -> dict:
    """What the last run sent the browser's live view."""
    views = [e.proto for e in at.get("bidi_component") if e.proto.component_name.endswith("live_view")]
    assert len(views) == 1
    data = json.loads(views[0].json)
    return json.loads(data)  # the payload goes as JSON text (payload_text)


def page(at) -> LivePage:
    return at.session_state[PAGE_KEY]


def live(at):
    return page(at).live


def as_shown(markdown: str) -> str:
    """A warning as the page shows it: URL text comes with every Markdown character backslash-escaped."""
    return re.sub(r"\\(.)", r"\1", markdown)


def no_failure(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "could not be drawn" in e.value or "went wrong" in e.value]


def test_first_run_sends_only_the_live_view():
    at = start(first_view_done=False)
    no_failure(at)
    assert not at.get("plotly_chart") and any("Loading the panels" in c.value for c in at.caption)
    page(at).panels_ready = True  # what the browser's first-frame trigger sets
    at.run()
    assert len(at.get("plotly_chart")) == 4  # boundary, rescaling, gradients, loss and accuracy
    no_failure(at)


def test_default_page_builds_with_default_settings_and_paused():
    at = start()
    no_failure(at)
    assert live(at).cfg == Config() and live(at).step_count == 0 and not live(at).playing
    assert at.session_state["config"] == Config()  # shared with the Experiments page
    assert at.button(key="play").label == "▶ Play"
    assert not at.warning


def test_settings_reach_the_trainer():
    at = start()
    at.slider(key="w_width").set_value(24)
    at.selectbox(key="w_dataset").set_value("circles")
    at.radio(key="w_mode").set_value("classic")
    at.run()
    no_failure(at)
    cfg = live(at).trainer.cfg
    assert (cfg.width, cfg.dataset, cfg.mode) == (24, "circles", "classic")
    assert live(at).trainer.model.hidden[0].out_features == 24
    assert at.query_params["width"] == "24" and at.query_params["dataset"] == "circles"


def test_step_advances_exactly_one_iteration():
    at = start()
    press(at, "step")
    assert live(at).step_count == 1 and live(at).twin.step_count == 1
    press(at, "step")
    assert live(at).step_count == 2
    at.run()  # a rerun without a click trains nothing while paused
    assert live(at).step_count == 2
    no_failure(at)


def test_p_changes_without_reset():
    at = start()
    for _ in range(3):
        press(at, "step")
    trainer = live(at).trainer
    at.slider(key="w_p").set_value(0.2).run()
    no_failure(at)
    assert live(at).trainer is trainer and live(at).step_count == 3
    assert trainer.cfg.p == 0.2 and live(at).p_changes == [(3, 0.2)]
    assert at.query_params["p"] == "0.2"


def test_structural_change_starts_a_new_run_and_keeps_the_ghost():
    at = start()
    press(at, "step")
    press(at, "step")
    at.slider(key="w_depth").set_value(3).run()
    no_failure(at)
    assert live(at).step_count == 0 and live(at).cfg.depth == 3
    assert [g["label"] for g in live(at).ghosts] == [Config().label()]


def test_play_then_pause():
    at = start()
    press(at, "play")
    # nothing is computed ahead: frames are computed when the browser's live view asks for them
    assert live(at).playing and live(at).step_count == 0
    pulled = live(at).pull()  # what one request of the browser does
    assert pulled and pulled[-1][0] is live(at).frame and live(at).step_count == live(at).trainer.step_count > 0
    assert at.button(key="play").label == "❚❚ Pause"
    press(at, "play")
    steps = live(at).step_count
    assert not live(at).playing
    at.run()
    assert live(at).step_count == steps
    no_failure(at)


def test_query_parameters_restore_settings():
    at = start(dataset="xor", n_train="120", depth="3", width="32", p="0.3", input_p="0.1", mode="classic",
               optimizer="sgd", lr="0.05", batch_size="16", seed="7", data_seed="2", speed="5-per-frame")
    no_failure(at)
    want = Config(dataset="xor", n_train=120, depth=3, width=32, p=0.3, input_p=0.1, mode="classic",
                  optimizer="sgd", lr=0.05, batch_size=16, seed=7, data_seed=2)
    assert live(at).cfg == want and live(at).trainer.cfg == want
    assert live(at).speed == "5 iterations per frame"
    assert at.slider(key="w_p").value == 0.3 and at.slider(key="w_depth").value == 3
    assert not at.warning
    assert at.query_params["seed"] == "7" and at.query_params["speed"] == "5-per-frame"


@pytest.mark.parametrize("params, field, allowed", [
    ({"p": "1.5"}, "p", "from 0 to 0.95"),
    ({"depth": "abc"}, "depth", "an integer from 1 to 8"),
    ({"dataset": "unknown"}, "dataset", "one of moons"),
])
def test_bad_parameters_warn_and_fall_back(params, field, allowed):
    at = start(**params, width="32")
    no_failure(at)
    warnings = [as_shown(w.value) for w in at.warning]
    assert len(warnings) == 1 and field in warnings[0] and allowed in warnings[0]
    assert getattr(live(at).cfg, field) == getattr(Config(), field)
    assert live(at).cfg.width == 32  # the good parameter is kept
    assert at.query_params[field] == str(getattr(Config(), field))


def test_all_bad_parameters_at_once():
    at = start(p="1.5", depth="abc", dataset="unknown")
    no_failure(at)
    text = " ".join(as_shown(w.value) for w in at.warning)
    assert all(name in text for name in ("p=", "depth=", "dataset="))
    assert live(at).cfg == Config()


def test_diverging_setting_pauses_with_a_message():
    at = start(optimizer="sgd", lr="50")
    press(at, "play")
    while live(at).pull():  # the browser asks for frames until the run diverges and pauses
        pass
    at.run()
    no_failure(at)
    assert live(at).diverged and not live(at).playing
    messages = [e.value for e in at.error]
    assert any("diverged" in m and "learning rate" in m for m in messages)
    assert at.button(key="play").disabled and at.button(key="play").label == "▶ Play"
    at.button(key="reset").click().run()
    assert not live(at).diverged and live(at).step_count == 0


def test_invalid_combination_from_widgets_warns_and_keeps_the_run():
    at = start(n_train="1500")
    at.selectbox(key="w_dataset").set_value("digits").run()
    no_failure(at)
    assert any("n_train" in as_shown(w.value) for w in at.warning)
    assert live(at).cfg.dataset == "moons"


def test_preset_sets_the_widgets():
    from dropviz.presets import PRESETS
    name, preset = next(iter(PRESETS.items()))
    at = start()
    at.selectbox(key="w_preset").set_value(name).run()
    no_failure(at)
    assert live(at).cfg == preset.config
    at.slider(key="w_p").set_value(0.1).run()
    assert at.selectbox(key="w_preset").value == "(your own settings)"


def test_digits_page_builds():
    at = start(dataset="digits", n_train="200")
    press(at, "step")
    no_failure(at)
    assert live(at).trainer.data.image_shape == (8, 8)


def test_experiments_page_gets_the_live_settings_and_coming_back_keeps_them():
    at = start()
    at.slider(key="w_p").set_value(0.3).run()
    at.switch_page("app_pages/experiments.py").run()
    assert not at.exception and [t.value for t in at.title] == ["Experiments"]
    assert at.session_state["config"].p == 0.3
    at.switch_page("app_pages/live.py").run()
    no_failure(at)
    assert at.slider(key="w_p").value == 0.3 and live(at).cfg.p == 0.3


def test_an_error_inside_a_fragment_pauses_with_a_sentence_not_a_traceback():
    at = start()

    def broken():
        raise RuntimeError("boom")

    live(at).current_pair = broken  # what the live fragment draws on every pulled frame
    press(at, "play")
    assert not at.exception, [e.value for e in at.exception]
    assert any("Something went wrong" in e.value and "boom" in e.value for e in at.error)
    assert not live(at).playing


@pytest.mark.parametrize("present", ["0", "1"])
def test_play_pause_and_step_redraw_only_their_fragments(present):
    """The buttons, the live view and (paused) the panel are redrawn; the page is not run again (a full run
    held the next frame back by 0.2-0.5 s in a browser)."""
    at = start(present=present)
    epoch = page(at).epoch
    at.button(key="step").click().run()
    assert live(at).step_count == 1 and page(at).epoch == epoch
    assert [f["step"] for f in live_view_data(at)["frames"]] == [1]  # the live view shows the new iteration
    assert at.button(key="play").label == "▶ Play" and len(at.get("plotly_chart")) == (1 if present == "1" else 4)
    at.button(key="play").click().run()
    assert live(at).playing and page(at).epoch == epoch and at.button(key="play").label == "❚❚ Pause"
    assert not at.get("plotly_chart")  # playing: the panel waits for the pulls' own timer
    at.button(key="play").click().run()
    assert not live(at).playing and page(at).epoch == epoch and at.button(key="play").label == "▶ Play"
    no_failure(at)


def test_the_page_keeps_its_state_in_one_object():
    at = start()
    press(at, "step")
    no_failure(at)
    widgets = {"play", "step", "reset", "live_view", "present", "stage_keys", "clear_ghosts", "link_present",
               "link_hide", "download_replay", "download_history",
               "built_in_data"}
    loose = {k for k in at.session_state.to_dict() if not k.startswith("w_") and k not in widgets}
    # "config": what the Experiments page starts from; "notation": how every page writes p (?notation=)
    assert loose == {PAGE_KEY, "config", "notation"}
    state = page(at)
    assert state.panels_ready and state.epoch >= 3 and set(state.figures) == {"boundary", "rescale", "gradient",
                                                                              "curves"}



# ---------------------------------------------------------------- the presenter view
def test_presenter_view_draws_the_stage_with_one_panel():
    at = start(present="1")
    no_failure(at)
    assert page(at).present and not at.warning
    assert at.button(key="play").label == "▶ Play" and at.slider(key="w_p").value == 0.5
    assert at.toggle(key="w_test_time") and at.selectbox(key="w_panel").value == "boundary"
    assert [c.proto.id for c in at.get("plotly_chart")] and len(at.get("plotly_chart")) == 1
    assert at.button(key="unpresent")  # the way back
    assert at.query_params["present"] == "1" and at.query_params["panel"] == "boundary"
    at.selectbox(key="w_panel").set_value("rescale").run()
    no_failure(at)
    assert page(at).panel == "rescale" and at.query_params["panel"] == "rescale"
    press(at, "step")
    assert live(at).step_count == 1
    at.slider(key="w_p").set_value(0.3).run()  # the top bar's p reruns the bar, the live view and the panel
    assert live(at).cfg.p == 0.3 and live(at).p_changes == [(1, 0.3)]
    at.run()
    at.button(key="unpresent").click().run()
    no_failure(at)
    assert not page(at).present and "present" not in at.query_params
    assert len(at.get("plotly_chart")) == 4 and live(at).cfg.p == 0.3


def test_present_button_switches_to_the_presenter_view():
    at = start()
    at.button(key="present").click().run()
    no_failure(at)
    assert page(at).present and at.query_params["present"] == "1" and len(at.get("plotly_chart")) == 1


@pytest.mark.parametrize("panel", ["boundary", "rescale", "gradient"])
def test_each_panel_of_the_presenter_view(panel):
    at = start(present="1", panel=panel, dataset="digits" if panel == "boundary" else "moons", n_train="200")
    press(at, "step")
    no_failure(at)
    assert len(at.get("plotly_chart")) == 1 and not at.warning


def test_hide_leaves_controls_out():
    at = start(present="1", hide="mode,input_p,speed")
    no_failure(at)
    assert not at.warning
    keys = {w.key for w in at.main.get("slider")} | {w.key for w in at.main.get("selectbox")}
    assert "w_p" in keys and "w_input_p" not in keys and "w_speed" not in keys and "w_panel" in keys
    assert not [w for w in at.main.get("button_group") if w.key == "w_mode"]
    assert at.query_params["hide"] == "input_p,mode,speed"
    press(at, "step")  # the page still works, and the hidden settings keep their values
    no_failure(at)
    assert live(at).step_count == 1 and live(at).cfg.mode == "inverted" and live(at).cfg.input_p == 0


@pytest.mark.parametrize("params, named", [
    ({"hide": "mode,bogus"}, "'bogus'"),
    ({"hide": "<b>**x**</b>"}, "hide="),
    ({"present": "maybe"}, "present='maybe'"),
    ({"panel": "nope"}, "panel='nope'"),
])
def test_bad_view_parameters_warn_in_one_sentence_and_the_page_works(params, named):
    at = start(**params)
    no_failure(at)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1
    text = warnings[0].replace("\\", "")  # shown as plain text: Markdown characters escaped
    assert named in text and text.count(". ") == 0
    if "hide" in params:
        assert "play, step, reset, p, input_p, test_time, mode, panel, speed" in text
        assert "<b>" not in warnings[0] or "\\<" in warnings[0]
    press(at, "step")
    no_failure(at)
    assert live(at).step_count == 1


def test_classroom_link_builder_writes_setup_view_and_hidden_controls():
    at = start(present="1", panel="gradient", p="0.3", dataset="circles", hide="mode")
    no_failure(at)
    url = at.code[0].value
    assert url.startswith("http") and "present=1" in url and "panel=gradient" in url and "hide=mode" in url
    assert "p=0.3" in url and "dataset=circles" in url and "speed=" in url
    at.multiselect(key="link_hide").set_value(["input_p", "speed"]).run()
    assert "hide=input_p,speed" in at.code[0].value
    at.checkbox(key="link_present").uncheck().run()
    assert "present" not in at.code[0].value and "panel=" not in at.code[0].value


def test_clear_old_runs_button_forgets_the_ghosts():
    at = start()
    press(at, "step")
    at.slider(key="w_depth").set_value(3).run()
    assert len(live(at).ghosts) == 1
    at.button(key="clear_ghosts").click().run()
    no_failure(at)
    assert not live(at).ghosts and live(at).cfg.depth == 3


def test_a_repeated_url_key_keeps_its_last_valid_value_and_says_so():
    at = start(p=["0.2", "bad"])
    no_failure(at)
    assert live(at).cfg.p == 0.2
    assert any("p was given 2 times" in as_shown(w.value) and "using p=0.2" in as_shown(w.value) for w in at.warning)


def test_a_pull_redraws_the_panels_only_when_the_browser_has_them_in_view(monkeypatch):
    """Each frame request says whether the page's panels are in the browser's window: below the fold (the full
    page at 1280x720) they are not rebuilt while playing; in view, they are every few seconds, from the frame about
    to be on screen. A request that is a bare number (an older page) counts as in view."""
    from app_pages import stage
    from dropviz.live import session as session_module
    monkeypatch.setattr(session_module, "PULL_COMPUTE", 60.0)
    monkeypatch.setattr(stage, "PANELS_EVERY", 600.0)  # however slow the machine, the next request is too soon
    reruns, built = [], []
    monkeypatch.setattr(stage, "rerun", lambda state, *parts: reruns.append(parts))
    state = LivePage(session_module.LiveSession(Config(n_train=40, width=16)))
    state.full_run()
    def make():
        built.append(state.live.step_count)
        return "figure"

    state.figure("gradient", make)
    state.panels_at = float("-inf")  # never redrawn yet (the machine's monotonic clock may be young)
    state.live.play()

    def pull(request):
        monkeypatch.setattr(stage.st, "session_state", {"live_view": {"pull": request}})
        stage.on_pull(state)

    pull({"n": 1, "panels": False})
    assert state.pulled == 1 and state.live.step_count == 75 and reruns == [] and built == [0]
    pull({"n": 2, "panels": True})  # scrolled to them: redrawn with this request, as they were before it
    assert state.pulled == 2 and reruns == [(stage.LIVE_FRAGMENT, stage.PANEL_FRAGMENT)] and built == [0, 75]
    state.figure("gradient", make)  # the redraw that follows: the figure built before the request
    pull({"n": 3, "panels": True})  # in view, but redrawn less than PANELS_EVERY ago
    assert len(reruns) == 1 and built == [0, 75]
    state.panels_at -= stage.PANELS_EVERY
    pull(4)
    assert len(reruns) == 2 and built == [0, 75, 375]
    for bad in ({"n": "x"}, {"panels": True}, None, float("nan"), [1]):
        pull(bad)  # nothing computed, nothing redrawn
    assert state.pulled == 4 and state.live.step_count == 525 and len(reruns) == 2
