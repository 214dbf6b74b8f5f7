"""Every figure, drawn by plotly.js in headless Chromium at its width on a 1280x720 projector, the way
Streamlit draws it (its theme's defaults underneath the figure's own layout): no two texts overlap, no
title, tick label or legend lies on a plot area, nothing is cut off, and no text is smaller than 16 px.

In CI (CI=true) a missing Chromium or Playwright fails these tests; elsewhere they are skipped with the reason.
DROPVIZ_LAYOUT_SHOTS=<folder> also saves a screenshot of every figure there, to look at.
"""
from __future__ import annotations

import functools
import json
import math
import os
import shutil
from pathlib import Path

import plotly.graph_objects as go
import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _need

from dropviz import Config, Trainer
from dropviz.figures import boundary_figure, curves_figure, digits_figure, gradient_figure, grid, rescale_figure
from dropviz.figures.experiments import FIGURES
from dropviz.figures.style import SMALL

# px: a live-page detail panel two to a row, one to a row beside the open sidebar (1280 px), and full width;
# an Experiments chart at full width, and beside the open sidebar
PANEL, PANEL_SIDEBAR, FULL, SIDEBAR = 620, 760, 1200, 900

# What Streamlit's st.plotly_chart (theme="streamlit") puts under a figure's layout, in px at its default
# 16 px root size (frontend PlotlyChart: the template's layout, and the title in bold). The figure's own
# values win; what it leaves unset, e.g. axis-title standoffs or the margin's pad, comes from here.
STREAMLIT_THEME = {
    "font": {"family": '"Source Sans", sans-serif', "size": 12},
    "title": {"pad": {"l": 4}, "xanchor": "left", "x": 0, "font": {"size": 16}},
    "legend": {"title": {"font": {"size": 12}, "side": "top"}, "valign": "top", "borderwidth": 0,
               "font": {"size": 12}},
    "yaxis": {"ticklabelposition": "outside", "title": {"font": {"size": 14}, "standoff": 24},
              "tickfont": {"size": 12}, "automargin": True},
    "xaxis": {"showgrid": False, "tickfont": {"size": 12}, "title": {"font": {"size": 14}, "standoff": 20},
              "zeroline": False, "automargin": True},
    "margin": {"pad": 8, "r": 0, "l": 0},
    "hoverlabel": {"font": {"size": 12}},
}


def as_streamlit_draws(fig, width: int) -> dict:
    """The figure as JSON, with Streamlit's theme underneath, bold title, and the container's width."""
    spec = json.loads(fig.to_json())
    layout = spec["layout"]
    layout["template"] = {"layout": STREAMLIT_THEME}
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        title["text"] = f"<b>{title['text']}</b>"
    layout["width"] = width
    return spec


# Draws the figure, then reports every visible text's box, class and smallest font size, the plot areas and
# whether the legend scrolls.
PROBE = """async (spec) => {
  const div = document.getElementById('plot');
  Plotly.purge(div);
  await Plotly.newPlot(div, spec.data, spec.layout, {displayModeBar: false});
  const box = e => { const r = e.getBoundingClientRect();
                     return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
  const shown = e => { for (let n = e; n && n !== div; n = n.parentNode) {
                         const s = getComputedStyle(n);
                         if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false; }
                       return true; };
  const texts = [];
  for (const t of div.querySelectorAll('text')) {
    const text = t.textContent.trim();
    const b = box(t);
    if (!text || b.x1 - b.x0 < 1 || !shown(t)) continue;
    let classes = [];
    for (let n = t; n && n !== div; n = n.parentNode) {
      const c = n.getAttribute && n.getAttribute('class');
      if (c) classes.push(c);
    }
    const font = Math.min(...[t, ...t.querySelectorAll('tspan')].map(e => parseFloat(getComputedStyle(e).fontSize)));
    texts.push({text, cls: classes.join(' / '), font, ...b});
  }
  const plots = Array.from(div.querySelectorAll('.draglayer .nsewdrag')).map(box);
  const scroll = Array.from(div.querySelectorAll('.legend .scrollbar'))
                      .some(r => r.getBoundingClientRect().height > 0);
  return {svg: box(div.querySelector('svg.main-svg')), texts, plots, scroll};
}"""

# texts that belong on the data (notes, bar values); every other text must stay off the plot areas
ON_DATA = ("annotation", "bartext", "textpoint")
TOLERANCE = 1.0  # px


def _overlap(a: dict, b: dict, tol: float = TOLERANCE) -> bool:
    return (min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > tol
            and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > tol)


def layout_problems(probe: dict, min_px: float = SMALL) -> list[str]:
    """Everything a lecturer would see as wrong in the drawn figure, in words; [] when it reads well."""
    problems, svg, texts = [], probe["svg"], probe["texts"]
    if probe["scroll"]:
        problems.append("the legend does not fit: it scrolls")
    for t in texts:
        if t["font"] < min_px - 0.01 or t["y1"] - t["y0"] < min_px - 0.01:
            problems.append(f"too small ({t['font']:g} px font, {t['y1'] - t['y0']:.0f} px tall): {t['text']!r}")
        if (t["x0"] < svg["x0"] - TOLERANCE or t["x1"] > svg["x1"] + TOLERANCE
                or t["y0"] < svg["y0"] - TOLERANCE or t["y1"] > svg["y1"] + TOLERANCE):
            problems.append(f"cut off at the figure's edge: {t['text']!r}")
        if not any(kind in t["cls"] for kind in ON_DATA):
            for plot in probe["plots"]:
                if _overlap(t, plot):
                    problems.append(f"on a plot area: {t['text']!r} ({t['cls'].split(' / ')[0]})")
                    break
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if _overlap(a, b):
                problems.append(f"overlap: {a['text']!r} and {b['text']!r}")
    return problems


def smallest_text(probe: dict) -> float:
    return min((min(t["font"], t["y1"] - t["y0"]) for t in probe["texts"]), default=math.inf)


# ---------------------------------------------------------------------- the browser
def _missing() -> str:
    """Why the browser cannot run here, or ""."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}"
    return ""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """One Chromium page at 1280x720 with plotly.js loaded (offline: the copy inside the plotly package);
    None if there is no browser (each test then fails in CI, else skips, saying why)."""
    if _missing():
        yield None
        return
    from playwright.sync_api import sync_playwright
    from plotly.offline import get_plotlyjs
    html = tmp_path_factory.mktemp("layout") / "plot.html"
    html.write_text(f"<!doctype html><html><head><meta charset='utf-8'><script>{get_plotlyjs()}</script></head>"
                    "<body style='margin:0;background:white'><div id='plot'></div></body></html>",
                    encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 720})
        tab.goto(html.as_uri())
        tab.wait_for_function("typeof Plotly !== 'undefined'")
        yield tab
        browser.close()


def ready(page):
    """The page, once it is sure there is one: in CI a missing browser fails the test, elsewhere skips it."""
    _need(page is not None, _missing())
    return page


def draw(page, fig, width: int, name: str) -> dict:
    """Draw the figure as Streamlit would at this width; returns what PROBE measured."""
    probe = page.evaluate(PROBE, as_streamlit_draws(fig, width))
    folder = os.environ.get("DROPVIZ_LAYOUT_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.locator("#plot").screenshot(path=str(Path(folder) / f"{name}-{width}.png"))
    return probe


# ---------------------------------------------------------------------- the figures, with small real data
def _history(steps: int, p: float, offset: float = 0.0) -> list[dict]:
    rows = []
    for s in range(1, steps + 1):
        e = math.exp(-s / 150)
        rows.append(dict(step=s, p=p, train_loss=0.25 + 0.7 * e, clean_train_loss=0.2 + 0.7 * e + offset,
                         test_loss=0.35 + 0.7 * e + (0.0002 * s if p == 0 else 0) + offset,
                         train_acc=0.95 - 0.4 * e, test_acc=0.9 - 0.4 * e))
    return rows


def crowded_runs() -> list[dict]:
    """Three earlier runs with long labels, and p changed five times, three of them 20 iterations apart."""
    label = "moons n=40 2x256 relu p={} inverted sgd lr=0.1 seed=0"
    ghosts = [dict(label=label.format(q), history=_history(600, q, 0.02 * i), style="ghost")
              for i, q in enumerate((0.3, 0.6, 0.8))]
    main = dict(label=label.format(0.2), history=_history(800, 0.2), style="main",
                p_changes=[(100, 0.3), (120, 0.4), (140, 0.25), (400, 0.5), (780, 0.2)])
    return [*ghosts, main, dict(label="twin", history=_history(800, 0.0), style="twin", p_changes=[])]


@functools.cache
def live_figures() -> dict:
    deep = Trainer(Config(dataset="spiral", depth=7, width=64, p=0.2))
    moons = Trainer(Config(width=32, depth=2, p=0.5))
    frame = moons.step(3)
    gx, gy, points, extent = grid(moons.data, 30)
    digits = Trainer(Config(dataset="digits", n_train=60, width=16, depth=1))
    digits.step(2)
    return {
        "gradient": gradient_figure(deep.step(3)),
        "gradient-layer": gradient_figure(frame, 1),
        "curves": curves_figure(crowded_runs()),
        "boundary": boundary_figure(moons.data, gx, gy, moons.predict(points), frame, extent),
        "digits": digits_figure(digits.data, digits.predict(digits.data.x_test)),
    }


@functools.cache
def experiment_figures() -> dict:
    from dropviz.experiments import EXPERIMENTS
    base = Config(width=16)
    settings = {"p-sweep": dict(ps=(0.0, 0.3, 0.6, 0.9), constant_pn=True), "mc-vs-scaling": dict(passes=20),
                "data-size": dict(n_values=(10, 40, 160))}
    return {name: FIGURES[name](e.run(base, seeds=2, steps=50, **settings.get(name, {})))
            for name, e in EXPERIMENTS.items()}


@pytest.mark.parametrize("name", ["gradient", "gradient-layer", "curves", "boundary", "digits"])
@pytest.mark.parametrize("width", [PANEL, PANEL_SIDEBAR, FULL])
def test_live_figures_read_well(page, name, width):
    problems = layout_problems(draw(ready(page), live_figures()[name], width, name))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", list(FIGURES))
@pytest.mark.parametrize("width", [FULL, SIDEBAR])
def test_experiment_figures_read_well(page, name, width):
    problems = layout_problems(draw(ready(page), experiment_figures()[name], width, name))
    assert not problems, "\n".join(problems)


def test_the_probe_sees_overlaps_and_small_text(page):
    """The checks themselves: a figure made to fail them is caught."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]), layout=dict(
        title=dict(text="a title far too long to fit in this narrow figure, so plotly cuts it off at the edge"),
        annotations=[dict(x=0.5, y=0.5, text="small", font=dict(size=10), showarrow=False),
                     dict(x=0.5, y=0.5, text="on top", showarrow=False)],
        yaxis=dict(title=dict(text="y", standoff=0)), width=300, height=300))
    problems = " | ".join(layout_problems(draw(ready(page), fig, 300, "probe-check")))
    for expected in ("too small", "cut off", "overlap: 'small' and 'on top'"):
        assert expected in problems


# ---------------------------------------------------------------------- the stage's detail panels
# The presenter view (the stage across the page) and the Lesson page (the stage beside the step: 3/4 of the
# page), on a 1280x720 projector and at 1920x1080: each panel as app_pages/stage.py sizes it.
WINDOWS = [(1280, 720), (1920, 1080)]
SHARES = {"present": 1.0, "lesson": 0.75}


@functools.cache
def stage_figures() -> dict:
    from dropviz.lesson import STEPS, open_session
    rescale = open_session(STEPS[2])  # the wide net: 256 neurons a layer
    for _ in range(30):
        rescale.step_once()
    classic = open_session(STEPS[4])  # p = 0.2, classic: a test-time row
    gradient = open_session(STEPS[3])
    boundary = open_session(STEPS[5])
    digits = Trainer(Config(dataset="digits", n_train=60, width=16, depth=1))
    digits.step(2)
    gx, gy, probs, extent = boundary.grid_prediction()
    return {
        "rescale": lambda w, h: rescale_figure(list(rescale.recent), 0, "inverted", height=h, width=w),
        "rescale-classic": lambda w, h: rescale_figure(list(classic.recent), 1, "classic", height=h, width=w),
        "gradient": lambda w, h: gradient_figure(gradient.frame),
        "boundary": lambda w, h: boundary_figure(boundary.data, gx, gy, probs, boundary.frame, extent),
        "digits": lambda w, h: digits_figure(digits.data, digits.predict(digits.data.x_test), width=w),
    }


@pytest.mark.parametrize("name", ["rescale", "rescale-classic", "gradient", "boundary", "digits"])
@pytest.mark.parametrize("view", list(SHARES))
@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: f"{w[0]}x{w[1]}")
def test_stage_panels_read_well_at_the_width_they_get(page, name, view, window):
    from app_pages.stage import BASE, HELP, MIN_STAGE, TOP_BAR, panel_width, sized
    w, h = window
    width = panel_width(w, SHARES[view])
    scale = max(1.0, min(w / BASE[0], h / BASE[1]))
    height = int(max(MIN_STAGE, h - TOP_BAR)) - HELP - (int(50 * scale) if name.startswith("rescale") else 0)
    built = stage_figures()[name](round(width / scale), round(height / scale))  # as _panel builds it
    fig = go.Figure(sized(built, height, scale, width).to_dict())  # validated here: the page skips that
    probe = draw(ready(page), fig, int(width), f"stage-{name}-{view}-{w}")
    problems = layout_problems(probe, min_px=SMALL * scale)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", [FULL, SIDEBAR])
def test_the_uncertainty_figure_reads_well(page, width):
    from dropviz.figures.uncertainty import uncertainty_figure
    from dropviz.uncertainty import SETTINGS, predictive
    fig = uncertainty_figure(predictive(SETTINGS.replace(width=32), steps=300, passes=30))
    problems = layout_problems(draw(ready(page), fig, width, "uncertainty"))
    assert not problems, "\n".join(problems)
