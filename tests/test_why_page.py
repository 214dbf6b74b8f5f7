"""The Why page (app_pages/why.py, /Why) renders its sections from the engine, in the URL's notation."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dropviz import notation as N
from dropviz.figures.captions import CAPTIONS

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "why.py")


def why(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)  # the first visit trains the page's runs
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def test_why_page_renders_its_three_sections_without_exceptions():
    at = why()
    assert not at.exception and not at.error
    # thinned networks, average vs weight scaling, features, input dropout, MC uncertainty on 1-D regression
    assert len(at.get("plotly_chart")) == 5
    assert [h.value for h in at.header][-1].startswith("3 · Monte-Carlo dropout")
    assert any(c.value.startswith("Gal & Ghahramani (2016)") for c in at.caption)
    text = " ".join(m.value for m in at.markdown)
    assert "**Measured gap.**" in text and "of the plane" in text and "**Measured** over all 64 units" in text
    assert any(CAPTIONS["notation"] == c.value for c in at.caption)  # the paper's p is said on the page
    assert at.segmented_control(key="why_p").label == N.title("drop")


def test_why_page_in_the_papers_notation_and_a_bad_value():
    at = why(notation="retain")
    assert not at.exception
    control = at.segmented_control(key="why_p")
    assert control.label == N.title("retain") and control.format_func(0.2) == "0.8"
    assert any("retain = 0.5" in c.value for c in at.caption)
    mc = at.select_slider(key="w_uncertainty_p")  # the MC dropout section reads the same way
    assert mc.label == N.title("retain") and mc.format_func(0.2) == "0.8"
    assert at.query_params["notation"] == "retain"
    bad = why(notation="1")
    assert not bad.exception
    assert any("notation='1' is not valid: expected one of drop, retain" in w.value.replace("\\", "")
               for w in bad.warning)
