"""The Lesson page in headless Chromium on a 1280x720 projector: every step fits one screen, its smallest text
is at least 16 px, nothing failed, and PageDown / PageUp (a presentation clicker) move through the steps.

One Streamlit server and one browser for the module. In CI (CI=true) a missing Chromium or Playwright fails
these tests; elsewhere they are skipped with the reason.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _free_port, _need, start_app, stop_app

from dropviz.lesson import STEPS

PROJECTOR = {"width": 1280, "height": 720}
SMALLEST = 16  # px: the smallest text a back row can read on a 1280x720 projector
FAILURES = ("Traceback", "Something went wrong", "could not be drawn", "BidiComponent Error", "is not valid")

# Both drawn and laid out: the live view's diagram and curves (in its shadow root), and the step's panel.
DRAWN = """() => {
  const live = Array.from(document.querySelectorAll('[data-testid="stBidiComponentIsolated"]'))
    .map(h => h.shadowRoot).find(r => r && r.querySelector('.diagram svg text') && r.querySelector('.curves svg'));
  return !!live && !!document.querySelector('.js-plotly-plot .main-svg text');
}"""
# Every visible text on the page, in the light DOM and in shadow roots, with its size in CSS pixels as drawn
# (an SVG text's font size times its scale on screen), its box and whether it is in the diagram or a chart (SVG:
# the live view and the Plotly panel); and every element that scrolls.
MEASURE = """() => {
  const texts = [];
  const visit = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent.trim();
      const e = n.parentElement;
      if (!text || !e || e.closest('style, script, title')) continue;
      const r = e.getBoundingClientRect();
      if (!r.width || !r.height || r.right <= 0 || r.bottom <= 0 || r.left >= innerWidth) continue;
      const cs = getComputedStyle(e);
      if (cs.visibility === 'hidden' || cs.opacity === '0' || e.closest('[aria-hidden="true"]')) continue;
      let px = parseFloat(cs.fontSize);
      if (e instanceof SVGElement && e.getScreenCTM) { const m = e.getScreenCTM(); if (m) px *= Math.hypot(m.a, m.b); }
      texts.push({text: text.slice(0, 60), px: Math.round(px * 10) / 10, right: r.right, bottom: r.bottom,
                  chart: e instanceof SVGElement});
    }
    root.querySelectorAll('*').forEach(x => { if (x.shadowRoot) visit(x.shadowRoot); });
  };
  visit(document.body);
  const scrolls = [document.scrollingElement, ...document.querySelectorAll('*')].filter(e => e &&
      e.scrollHeight > e.clientHeight + 1 && (e === document.scrollingElement ||
      ['auto', 'scroll'].includes(getComputedStyle(e).overflowY)))
    .map(e => `${e.getAttribute('data-testid') || e.tagName}: ${e.scrollHeight} > ${e.clientHeight}`);
  return {texts, scrolls, width: innerWidth, height: innerHeight};
}"""
VISIBLE_RUNNING = """() => Array.from(document.querySelectorAll(
  '[data-testid="stStatusWidget"], [data-testid="stStatusWidget"] *'))
  .some(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
               getComputedStyle(e).visibility !== 'hidden'; })"""


@pytest.fixture(scope="module")
def browser_page():
    """One server, one browser, one 1280x720 page for every test of this module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright Python package is not installed")
    _need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    port = _free_port()
    proc = start_app(port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=PROJECTOR)
            yield page, f"http://127.0.0.1:{port}"
            browser.close()
    finally:
        stop_app(proc)


def wait_for_step(page, number: int) -> None:
    page.get_by_text(f"Step {number} of {len(STEPS)}", exact=True).wait_for(timeout=60_000)
    page.get_by_text(STEPS[number - 1].title, exact=True).wait_for(timeout=10_000)
    page.wait_for_function(DRAWN, timeout=60_000)
    page.wait_for_timeout(400)  # the last redraws settle


def measure(page, number: int) -> dict:
    """Step `number` as shown: what scrolls, texts off the screen, texts of the diagram and charts under
    SMALLEST px, failure messages, Streamlit's running indicator, and the smallest text sizes."""
    m = page.evaluate(MEASURE)
    chart = [t for t in m["texts"] if t["chart"]]
    words = " ".join(t["text"] for t in m["texts"])
    return {
        "scrolls": m["scrolls"],
        "off_screen": [t["text"] for t in m["texts"] if t["right"] > m["width"] + 1 or t["bottom"] > m["height"] + 1],
        "small": [(t["text"], t["px"]) for t in sorted(chart, key=lambda t: t["px"]) if t["px"] < SMALLEST],
        "failures": [f for f in FAILURES if f in words] + ["stException"] * page.locator(
            '[data-testid="stException"]').count(),
        "running": page.evaluate(VISIBLE_RUNNING),
        "sidebar_open": page.locator('[data-testid="stSidebar"][aria-expanded="true"]').count() > 0,
        "smallest": (min(t["px"] for t in chart), min(t["px"] for t in m["texts"] if not t["chart"])),
    }


@pytest.fixture(scope="module")
def steps(browser_page) -> dict[int, dict]:
    """Every step opened by its URL, /Lesson?step=N, and measured once."""
    page, base = browser_page
    out = {}
    for number in range(1, len(STEPS) + 1):
        page.goto(f"{base}/Lesson?step={number}")
        wait_for_step(page, number)
        out[number] = measure(page, number)
        shots = os.environ.get("DROPVIZ_LESSON_SCREENSHOTS")
        if shots:  # a folder: one screenshot per step, to look at
            page.screenshot(path=str(Path(shots) / f"lesson-step{number}.png"))
    print("\nsmallest text per step, px (diagram and charts, elsewhere):",
          {n: m["smallest"] for n, m in out.items()})
    return out


def test_every_step_fits_the_projector_without_scrolling_and_shows_no_failure(steps):
    for number, m in steps.items():
        assert not m["scrolls"], f"step {number} scrolls at 1280x720: {m['scrolls']}"
        assert not m["failures"], f"step {number} shows a failure: {m['failures']}"
        assert not m["running"], f"step {number}: Streamlit's running indicator or Stop button shows"
        assert not m["sidebar_open"], f"step {number}: the sidebar should start collapsed"


def test_text_in_the_diagram_and_charts_is_16_px_or_more(steps):
    # step 3's rescaling panel included: its red ✕ marks are no longer shrunk to their bars (constraintext)
    for number, m in steps.items():
        assert not m["small"], f"step {number}: text under {SMALLEST} px: {m['small'][:5]}"
        assert m["smallest"][0] >= SMALLEST


def test_no_text_runs_off_the_screen(steps):
    # the panels' titles wrap to the panel's width (app_pages/stage.py sized, dropviz/figures/style.py fit_title)
    off = {n: m["off_screen"][:3] for n, m in steps.items() if m["off_screen"]}
    assert not off, off


COUNTER = """() => {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const t = host.shadowRoot && host.shadowRoot.querySelector('[data-testid="iteration-counter"]');
    if (t) return parseInt(t.textContent.split(' ')[1]);
  }
  return null;
}"""


def test_pagedown_and_pageup_move_through_the_steps_the_url_follows_and_each_step_plays(browser_page):
    page, base = browser_page
    page.goto(f"{base}/Lesson?step=3")
    wait_for_step(page, 3)
    page.keyboard.press(" ")  # Play step 3 (one iteration per frame), then Pause
    page.wait_for_function(f"({COUNTER})() >= 3", timeout=30_000)
    page.keyboard.press(" ")
    page.wait_for_timeout(500)
    page.keyboard.press("PageDown")
    wait_for_step(page, 4)
    page.wait_for_url(re.compile(r"/Lesson\?step=4$"), timeout=10_000)
    m = measure(page, 4)
    assert not m["scrolls"] and not m["failures"] and not m["small"], m
    warmup = STEPS[3].setup.warmup
    page.wait_for_function(f"({COUNTER})() === {warmup}", timeout=10_000)  # step 4's own run
    page.keyboard.press(" ")  # the next step plays too (its own run, in the same live view element)
    page.wait_for_function(f"({COUNTER})() >= {warmup + 1}", timeout=30_000)
    page.keyboard.press(" ")
    page.wait_for_timeout(500)  # a presenter's next key comes later (see the report: keys pressed together)
    page.keyboard.press("PageUp")
    wait_for_step(page, 3)
    page.wait_for_url(re.compile(r"/Lesson\?step=3$"), timeout=10_000)


DIAGRAM_TEXTS = """() => {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const svg = host.shadowRoot && host.shadowRoot.querySelector('.diagram svg');
    if (svg) return Array.from(svg.querySelectorAll('text')).map(t => t.textContent).filter(t => t);
  }
  return [];
}"""


def test_head_lines_too_wide_for_their_columns_are_said_once(browser_page):
    """Step 5 (classic dropout at test time) beside the step card: the hidden layers' "all active", "×0.80 = 1−p"
    are wider than their columns, 70 px apart, and ran into each other; they are said once, between them."""
    page, base = browser_page
    page.goto(f"{base}/Lesson?step=5")
    wait_for_step(page, 5)
    texts = page.evaluate(DIAGRAM_TEXTS)
    assert texts.count("×0.80 = 1−p") == 1 and texts.count("all active") == 1, texts
    assert texts.count("layer 1") == 1 and texts.count("layer 2") == 1
