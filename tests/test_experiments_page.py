"""The Experiments page renders from the live view's settings, and its data-set choice applies."""
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
    assert any("p=1.5" in w.value and "0 to 0.95" in w.value for w in at.warning)
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
