"""The Experiments page renders from the live view's settings, and its data-set choice applies."""
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dropviz.config import Config

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "experiments.py")


def test_page_starts_from_the_live_view_settings():
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["config"] = Config(dataset="circles", depth=3, p=0.3)
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="x_data_the live view's settings").value == "circles"
    assert "circles n=40 3x128" in at.caption[0].value
    assert at.button(key="x_run").label == "Run"


def test_data_set_choice_overrides_the_start_settings():
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.sidebar.selectbox(key="x_data_the live view's settings").set_value("digits").run()
    assert not at.exception
    assert "digits n=40" in at.caption[0].value


def test_bad_url_parameters_warn_and_fall_back():
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["p"] = "1.5"
    at.run()
    assert not at.exception
    shown = [w.value.replace("\\", "") for w in at.warning]  # as plain text: Markdown characters escaped
    assert any("p=1.5" in w and "0 to 0.95" in w for w in shown)
    assert "p=0.5" in at.caption[0].value


def test_a_run_waits_for_another_experiment_and_can_be_cancelled():
    from dropviz.job import WAITING, Job
    other = Job("p-sweep", Config(width=12, n_train=24), {"seeds": 3, "steps": 100_000}).start()  # another visitor's
    try:
        at = AppTest.from_file(PAGE, default_timeout=30).run()
        at.button(key="x_run").click().run()
        assert not at.exception
        job = at.session_state["x_job"]
        assert job.waiting
        assert WAITING in at.get("progress")[0].proto.text
        at.button(key="x_cancel").click().run()
        assert not at.exception
        assert job.cancelled and not job.running and other.running
        assert any("Cancelled after" in i.value for i in at.info)
    finally:
        other.cancel()
        assert other.wait(30)


def test_a_waiting_visitor_sees_their_place_and_the_estimated_wait():
    from dropviz.job import Job
    other = Job("p-sweep", Config(width=12, n_train=24), {"seeds": 3, "steps": 100_000}).start()  # another visitor's
    try:
        at = AppTest.from_file(PAGE, default_timeout=30).run()
        at.button(key="x_run").click().run()
        assert not at.exception
        assert at.session_state["x_job"].position == 1
        place = [c.value for c in at.caption if c.value.startswith("Place in the line")]
        assert place and "Place in the line: 1. 1 experiment is ahead of yours; estimated wait: about " in place[0]
        assert "at most 10 min" in place[0]
        at.button(key="x_cancel").click().run()
    finally:
        other.cancel()
        assert other.wait(30)


def test_a_run_over_the_memory_limit_is_refused_with_the_figure():
    at = AppTest.from_file(PAGE, default_timeout=30)
    for key, value in dict(dataset="spiral", depth="8", width="256", n_train="2000", batch_size="2000").items():
        at.query_params[key] = value
    at.run()
    at.button(key="x_run").click().run()
    assert not at.exception
    job = at.session_state["x_job"]
    assert not job.running and job.fraction == 0 and job.position == 0
    assert [e.value for e in at.error] == [job.error]
    assert "about 3.8 GB of memory, more than the 2 GB one experiment may use" in job.error  # 10 p x 5 seeds
    assert not at.get("progress")


def test_a_run_past_the_time_limit_says_it_was_stopped_and_kept_nothing(monkeypatch):
    monkeypatch.setenv("DROPVIZ_EXPERIMENT_MINUTES", "0.01")  # 0.6 s
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.sidebar.number_input(key="x_steps_the live view's settings_p-sweep").set_value(20000).run()
    at.button(key="x_run").click().run()
    job = at.session_state["x_job"]
    assert job.wait(10) and job.cancelled
    at.run()
    assert not at.exception
    assert len(at.warning) == 1  # stopped within the chunk under way: how long that took depends on the machine's load
    assert re.match(r"Stopped after [12] s: one experiment may train for at most 1 s on this server",
                    at.warning[0].value)
    assert "Nothing was kept" in at.warning[0].value and not at.get("plotly_chart")


def test_a_bad_limit_setting_is_one_sentence(monkeypatch):
    monkeypatch.setenv("DROPVIZ_EXPERIMENT_MEMORY_GB", "-3")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert [w.value for w in at.sidebar.warning] == ["DROPVIZ_EXPERIMENT_MEMORY_GB='-3' is not a positive number; "
                                                     "using 2."]


def test_a_finished_regularizers_run_shows_its_chart_how_to_read_it_and_the_csv():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["config"] = Config(width=8, n_train=24)
    at.run()
    at.sidebar.selectbox(key="x_name").set_value("regularizers").run()
    at.sidebar.slider(key="x_seeds_regularizers").set_value(1).run()
    at.sidebar.number_input(key="x_steps_the live view's settings_regularizers").set_value(50).run()
    at.button(key="x_run").click().run()
    job = at.session_state["x_job"]
    assert job.wait(60)
    at.run()
    assert not at.exception and not at.error
    assert any("Table 9" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 1
    assert set(job.result["method"]) == {"none", "L2", "max-norm", "dropout", "dropout + L2", "dropout + max-norm"}
