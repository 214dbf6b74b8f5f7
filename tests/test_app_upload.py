"""The page with your own data (AppTest): an upload trains, a bad file keeps the previous data with its sentence,
an upload stays in its session, a shared link says the file is not in it, and the panels download."""
from __future__ import annotations

import pytest

from tests.test_app import as_shown, live, no_failure, start
from tests.test_upload import BAD_FILES, EXAMPLE

UPLOAD_KEY = "w_data_file"


def upload(at, name: str, raw: bytes):
    at.file_uploader(key=UPLOAD_KEY).set_value((name, raw, "text/csv")).run()
    return at.run()


def test_an_upload_trains_on_the_file_and_a_bad_one_keeps_it():
    at = start()
    upload(at, "three_classes.csv", EXAMPLE.read_bytes())
    no_failure(at)
    run = live(at)
    assert run.table is not None and run.data.n_inputs == 3 and run.data.n_classes == 3
    assert any("Training on three_classes.csv: 300 rows" in as_shown(c.value) for c in at.sidebar.caption)
    assert at.query_params["data"] in ("upload", ["upload"])
    assert at.get("plotly_chart")  # the projection panel drew
    for name in ("non-numeric cell", "one class", "duplicate column", "not UTF-8"):
        raw, words = BAD_FILES[name]
        upload(at, f"{name}.csv", raw)
        no_failure(at)
        shown = [as_shown(e.value) for e in at.sidebar.error]
        assert len(shown) == 1 and words in shown[0] and "Still training on three_classes.csv." in shown[0], shown
        assert live(at).table.name == "three_classes.csv" and live(at).data.n_inputs == 3
    at.file_uploader(key=UPLOAD_KEY).set_value(None).run()  # as a browser does before it sends a new file
    assert live(at).table.name == "three_classes.csv"
    at.button(key="built_in_data").click().run()
    no_failure(at)
    assert live(at).table is None and live(at).data.n_inputs == 2 and not at.sidebar.error


@pytest.mark.parametrize("name", ["empty", "too many columns", "11 classes"])
def test_a_bad_first_file_keeps_the_built_in_data(name):
    at = start()
    raw, words = BAD_FILES[name]
    upload(at, "bad.csv", raw)
    no_failure(at)
    shown = [as_shown(e.value) for e in at.sidebar.error]
    assert len(shown) == 1 and words in shown[0] and "Still training on the built-in data." in shown[0]
    assert live(at).table is None and live(at).data.n_inputs == 2


def test_an_upload_is_not_seen_by_another_session():
    mine, theirs = start(), start()
    upload(mine, "three_classes.csv", EXAMPLE.read_bytes())
    theirs.run()
    assert live(mine).data.n_inputs == 3
    assert live(theirs).table is None and live(theirs).data.n_inputs == 2
    assert "data" not in theirs.query_params


def test_a_shared_link_of_an_upload_says_the_file_is_not_in_it():
    at = start(data="upload")
    no_failure(at)
    assert any("a link cannot carry a file" in as_shown(w.value) for w in at.warning)
    assert live(at).table is None


def test_every_panel_offers_only_the_download_button():
    at = start()
    charts = at.get("plotly_chart")
    assert charts
    import json
    for chart in charts:
        config = json.loads(chart.proto.config)
        assert config["modeBarButtons"] == [["toImage"]] and config["toImageButtonOptions"]["format"] == "png"
    at.sidebar.radio(key="w_figure_format").set_value("svg").run()
    at.run()
    assert all(json.loads(c.proto.config)["toImageButtonOptions"]["format"] == "svg" for c in at.get("plotly_chart"))


def test_the_presenter_view_shows_the_projection_of_own_data():
    at = start()
    upload(at, "three_classes.csv", EXAMPLE.read_bytes())
    at.button(key="present").click().run()
    at.run()
    no_failure(at)
    charts = at.get("plotly_chart")
    assert len(charts) == 1 and "principal components" in charts[0].proto.spec


def test_the_experiments_page_says_it_does_not_use_the_upload():
    at = start()
    upload(at, "three_classes.csv", EXAMPLE.read_bytes())
    at.switch_page("app_pages/experiments.py").run()
    no_failure(at)
    assert any("not on your uploaded file" in i.value for i in at.info)
