"""notation=retain: every p shown in the 2014 paper's notation (retain = 1 - p) by one rule, dropviz.notation;
the engine keeps the drop probability. Read from and written to the URL like the other view settings."""
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dropviz import notation as N
from dropviz.config import FIELD
from dropviz.figures.captions import CAPTIONS
from dropviz.figures.curves import curves_figure
from dropviz.figures.labels import layer_lines, p_change_text, run_title
from dropviz.lesson import SMALL
from dropviz.live import LivePage, LiveSession, live_payload
from dropviz.live.page_state import notation_from_query, notation_query

ROOT = Path(__file__).resolve().parents[1]
P = st.floats(0.0, FIELD["p"].hi)


@given(P)
def test_retain_is_one_minus_p_and_reads_back(p):
    assert N.shown(p, "drop") == p
    assert N.shown(p, "retain") == pytest.approx(1 - p, abs=1e-12)
    for notation in ("drop", "retain"):
        assert N.drop_p(N.shown(p, notation), notation) == pytest.approx(p, abs=1e-12)


@given(P, st.sampled_from(["hidden", "input"]))
def test_every_label_writes_p_through_the_one_rule(p, layer):
    for notation in ("drop", "retain"):
        shown = f"{N.shown(p, notation):g}"
        assert N.text(p, notation, layer) == f"{N.name(notation, layer)} = {shown}"
        for mode in ("inverted", "classic"):
            assert layer_lines(p, mode, False, layer, notation)[0] == N.text(p, notation, layer)
        assert p_change_text(p, notation).endswith(f"→ {shown}")
    assert N.text(0.2, "retain") == "retain = 0.8" and N.text(0.2, "drop") == "p = 0.2"
    assert layer_lines(0.25, "classic", True, notation="retain") == ("all active", "×0.75 = retain")
    assert layer_lines(0.1, "classic", True, "input", "retain") == ("all kept", "×0.90 = input retain")


def test_the_p_sweep_axis_reads_against_the_papers_fig_9():
    assert N.axis_title("drop") == "p: drop probability"
    assert "retaining a unit" in N.axis_title("retain") and "1 − drop probability" in N.axis_title("retain")
    assert N.sweep_axis([0.0, 0.2, 0.5, 0.8], "retain") == ([1.0, 0.8, 0.5, 0.2], N.axis_title("retain"))
    assert N.sweep_axis([0.0, 0.2], "drop") == ([0.0, 0.2], "p: drop probability")


def test_slider_values_are_drop_probabilities_shown_growing_in_either_notation():
    drop = N.slider_values(0.33, 0.05, 0.95, "drop")
    retain = N.slider_values(0.33, 0.05, 0.95, "retain")
    assert drop == sorted(drop) and retain == drop[::-1] and 0.33 in drop and drop[-1] == 0.95
    shown = [N.shown(p, "retain") for p in retain]
    assert shown == sorted(shown) and shown[0] == pytest.approx(0.05) and shown[-1] == 1.0


def test_a_bad_notation_gets_one_sentence_naming_it_and_what_is_allowed():
    with pytest.raises(ValueError, match="notation='paper' is not valid: expected one of drop, retain"):
        N.text(0.5, "paper")
    assert notation_from_query({"notation": "paper"}) == (
        "drop", ["notation='paper' is not valid: expected one of drop, retain; showing notation=drop"])
    assert notation_from_query({"notation": "paper"}, default="retain")[0] == "retain"  # keeps the one shown


@pytest.mark.parametrize("notation", ["drop", "retain"])
def test_notation_round_trips_through_the_url(notation):
    query = notation_query(notation)
    assert query == ({} if notation == "drop" else {"notation": "retain"})  # the default stays out of the URL
    assert notation_from_query(query) == (notation, [])
    page = LivePage.from_query({**query, "p": "0.2"})
    assert page.notation == notation and page.live.cfg.p == 0.2  # the engine keeps the drop probability
    assert notation_from_query({"notation": ["drop", " Retain "]}) == ("retain", [])  # the last value, any case


def test_live_view_payload_in_the_papers_notation():
    live = LiveSession(SMALL.replace(p=0.3, input_p=0.2))
    live.step(3)
    live.apply(live.cfg.replace(p=0.4))
    live.step(2)
    live.apply(live.cfg.replace(p=0.1))  # not trained with yet: the status line says so
    payload = live_payload(live, notation="retain")
    frame = payload["frames"][0]
    columns = frame["columns"]
    assert columns[0]["lines"][0] == "input retain = 0.8"
    assert [c["lines"][0] for c in columns[1:-1]] == ["retain = 0.6"] * 2
    assert "retain = 0.9 from the next iteration" in frame["status"]
    assert frame["twin"].startswith("retain 1 twin:")
    assert run_title(live.runs()[1], "retain") == "twin without dropout (retain = 1)"
    assert any(item["text"] == "this run (dropout, retain = 0.6)" for item in payload["curves"]["legend"])
    assert [m["text"] for m in payload["curves"]["markers"]] == ["retain → 0.6", "retain → 0.9"]
    drop = live_payload(live)["frames"][0]
    assert drop["columns"][1]["lines"][0] == "p = 0.4" and drop["twin"].startswith("p = 0 twin")
    fig = curves_figure(live.runs(), notation="retain")
    assert "retain → 0.6" in [a.text for a in fig.layout.annotations]
    assert run_title(live.runs()[0], "retain") == "this run (dropout, retain = 0.6)"


# ---------------------------------------------------------------- the pages
def live_page(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    return at


def test_live_page_sliders_show_the_retain_probability_and_set_the_drop_probability():
    at = live_page(notation="retain", p="0.2")
    assert not at.exception
    slider = at.select_slider(key="w_p")
    assert slider.label == N.title("retain")
    assert slider.value == 0.2  # the widget holds the engine's drop probability ...
    assert slider.format_func(slider.value) == "0.8"  # ... and shows retain = 1 - p
    slider.set_value(0.3).run()
    assert at.session_state["live_page"].live.cfg.p == 0.3
    assert at.query_params["notation"] == "retain" and at.query_params["p"] == "0.3"
    assert at.select_slider(key="w_input_p").label == N.title("retain", "input")


def test_live_page_bad_notation_warns_and_shows_drop():
    at = live_page(notation="paper")
    assert not at.exception
    assert any("notation='paper' is not valid: expected one of drop, retain" in w.value.replace("\\", "")
               for w in at.warning)
    assert at.slider(key="w_p").label == N.title("drop")
    assert "notation" not in at.query_params
    assert any(c.value == CAPTIONS["notation"] for c in at.caption)  # the page says the paper's p is the retain one


def test_the_notation_is_kept_across_pages_and_translates_the_lessons_p():
    at = live_page(notation="retain")  # a session that opened the live view in the paper's notation
    at.query_params.clear()
    at.query_params["step"] = "5"  # classic dropout with p = 0.2
    at.switch_page("app_pages/lesson.py").run()
    assert not at.exception and not at.error
    assert any(c.value == "In the 2014 paper's notation, where p is the probability of retaining a unit: this "
                          "text's p = 0.2 is retain = 0.8." for c in at.caption)
    assert at.query_params["notation"] == "retain" and at.query_params["step"] == "5"
    assert at.select_slider(key="w_p").label == N.short_title("retain")
